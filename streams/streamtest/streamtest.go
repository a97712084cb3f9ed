// Package streamtest is the contract test suite of streams.Stream and
// streams.Checkpointer: every implementation (the in-memory and durable streams, Kinesis
// with its DynamoDB checkpoint table) runs it from its own tests, so that stages behave
// the same over each. It tests only through the interfaces and streams.Consume, never an
// implementation's internals. Only tests import it.
package streamtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Config is what a test needs of a new stream.
type Config struct {
	// Shards is the number of shards; the hash-key space must be split evenly among
	// them, as Kinesis CreateStream does.
	Shards int
	// Groups are the consumer groups the test uses. Implementations that must know
	// their consumer groups in advance declare them.
	Groups []string
}

// NewFunc returns a new, empty stream configured as cfg asks, with a Checkpointer that
// has no checkpoints yet for it, and arranges with t.Cleanup to release both. Its
// retention must comfortably hold a few MiB unread, and its Read must wake for a Put
// well within a second (tests wait with generous deadlines, never sleep).
type NewFunc func(t *testing.T, cfg Config) (streams.Stream, streams.Checkpointer)

// timeout bounds every test of the suite; it is a safety net against hangs, not a
// measure of speed.
const timeout = 2 * time.Minute

// Options name where an implementation differs from the in-memory stream by nature;
// the zero value asks for exactly what Memory does.
type Options struct {
	// ServerSplitsHashKeys says that the shards' hash-key ranges are chosen by a
	// server, not by the implementation (Kinesis: CreateStream splits the space; the
	// kinesalite emulator rounds the boundaries of some shard counts a few units away
	// from AWS). ShardsSplitHashKeySpace then checks that the ranges are contiguous,
	// cover the whole 128-bit space in order and are even to within one part in 2^64,
	// instead of comparing them with AWS's formula floor(i * 2^128 / n).
	ServerSplitsHashKeys bool
}

// Run runs the contract suite against the implementation newStream creates. Subtests
// run in parallel.
func Run(t *testing.T, newStream NewFunc) { RunWith(t, newStream, Options{}) }

// RunWith is Run for an implementation that differs from Memory as opts say.
func RunWith(t *testing.T, newStream NewFunc, opts Options) {
	tests := []struct {
		name string
		f    func(*testing.T, NewFunc)
	}{
		{"ShardsSplitHashKeySpace", func(t *testing.T, n NewFunc) { testShards(t, n, opts) }},
		{"PartitionKeysRouteByMD5", testRouting},
		{"PutResultsMatchReads", testPutResultsMatchReads},
		{"OrderPerPartitionKey", testOrderPerPartitionKey},
		{"PutLimits", testPutLimits},
		{"Positions", testPositions},
		{"ReadLimitPages", testReadLimitPages},
		{"ReadWaits", testReadWaits},
		{"ReadErrors", testReadErrors},
		{"Checkpoints", testCheckpoints},
		{"ConsumeDeliversAllThenDrains", testConsumeDrain},
		{"ConsumeResumesAfterCheckpoint", testConsumeResumes},
		{"ConsumeRetriesFailedBatch", testConsumeRetries},
		{"ConsumeStopsOnCancel", testConsumeCancel},
		{"ConsumeFromLatest", testConsumeLatest},
		{"ConsumeInvalidOptions", testConsumeInvalidOptions},
		{"ConcurrentProducersAndConsumers", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.f(t, newStream)
		})
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// shardIndex returns the shard whose range holds the MD5 of key, from the shards'
// published ranges.
func shardIndex(t *testing.T, shards []streams.Shard, key string) int {
	t.Helper()
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	for i, s := range shards {
		if h.Cmp(parseBig(t, s.StartingHashKey)) >= 0 && h.Cmp(parseBig(t, s.EndingHashKey)) <= 0 {
			return i
		}
	}
	t.Fatalf("no shard holds hash key %s of partition key %q", h, key)
	return -1
}

func parseBig(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("hash key %q is not a decimal number", s)
	}
	return n
}

func listShards(t *testing.T, ctx context.Context, s streams.Stream) []streams.Shard {
	t.Helper()
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatalf("Shards() error: %v", err)
	}
	return shards
}

func put(t *testing.T, ctx context.Context, s streams.Stream, entries ...streams.Entry) []streams.PutResult {
	t.Helper()
	res, err := s.Put(ctx, entries)
	if err != nil {
		t.Fatalf("Put(%d entries) error: %v", len(entries), err)
	}
	if len(res) != len(entries) {
		t.Fatalf("Put(%d entries) returned %d results", len(entries), len(res))
	}
	return res
}

func entry(key, data string) streams.Entry {
	return streams.Entry{PartitionKey: key, Data: []byte(data)}
}

// readAll reads shardID from `from` until a read with wait 0 returns nothing.
func readAll(t *testing.T, ctx context.Context, s streams.Stream, shardID string, from streams.Position) []streams.Record {
	t.Helper()
	var all []streams.Record
	for {
		recs, next, err := s.Read(ctx, shardID, from, 1000, 0)
		if err != nil {
			t.Fatalf("Read(%s, %+v) error: %v", shardID, from, err)
		}
		if len(recs) == 0 {
			return all
		}
		all = append(all, recs...)
		from = next
	}
}

func readEverything(t *testing.T, ctx context.Context, s streams.Stream) map[string][]streams.Record {
	t.Helper()
	out := make(map[string][]streams.Record)
	for _, sh := range listShards(t, ctx, s) {
		out[sh.ID] = readAll(t, ctx, s, sh.ID, streams.Position{Type: streams.TrimHorizon})
	}
	return out
}

// requireIncreasing fails unless recs' sequence numbers strictly increase.
func requireIncreasing(t *testing.T, recs []streams.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		if streams.CompareSequenceNumbers(recs[i-1].SequenceNumber, recs[i].SequenceNumber) >= 0 {
			t.Fatalf("sequence number %s follows %s in shard %s", recs[i].SequenceNumber, recs[i-1].SequenceNumber, recs[i].ShardID)
		}
	}
}

func testShards(t *testing.T, newStream NewFunc, opts Options) {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	for _, n := range []int{1, 2, 3, 4, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := testContext(t)
			s, _ := newStream(t, Config{Shards: n})
			shards := listShards(t, ctx, s)
			if len(shards) != n {
				t.Fatalf("Shards() returned %d shards, want %d", len(shards), n)
			}
			var want []streams.Shard
			for i := range n {
				start := new(big.Int).Div(new(big.Int).Mul(space, big.NewInt(int64(i))), big.NewInt(int64(n)))
				end := new(big.Int).Div(new(big.Int).Mul(space, big.NewInt(int64(i+1))), big.NewInt(int64(n)))
				want = append(want, streams.Shard{
					ID:              fmt.Sprintf("shardId-%012d", i),
					StartingHashKey: start.String(),
					EndingHashKey:   end.Sub(end, big.NewInt(1)).String(),
				})
			}
			if opts.ServerSplitsHashKeys {
				checkEvenSplit(t, want, shards)
				return
			}
			if diff := cmp.Diff(want, shards); diff != "" {
				t.Errorf("Shards() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// checkEvenSplit checks that got's ranges are contiguous, cover [0, 2^128) and that
// each boundary is within 2^64 of want's.
func checkEvenSplit(t *testing.T, want, got []streams.Shard) {
	t.Helper()
	tolerance := new(big.Int).Lsh(big.NewInt(1), 64)
	near := func(a, b string) bool {
		d := new(big.Int).Sub(parseBig(t, a), parseBig(t, b))
		return d.Abs(d).Cmp(tolerance) <= 0
	}
	next := big.NewInt(0)
	for i, sh := range got {
		if sh.ID != want[i].ID {
			t.Errorf("shard %d ID = %q, want %q", i, sh.ID, want[i].ID)
		}
		if parseBig(t, sh.StartingHashKey).Cmp(next) != 0 {
			t.Errorf("shard %s starts at %s, want %s (right after the previous shard)", sh.ID, sh.StartingHashKey, next)
		}
		if !near(sh.StartingHashKey, want[i].StartingHashKey) || !near(sh.EndingHashKey, want[i].EndingHashKey) {
			t.Errorf("shard %s = [%s, %s], want about [%s, %s]", sh.ID, sh.StartingHashKey, sh.EndingHashKey, want[i].StartingHashKey, want[i].EndingHashKey)
		}
		next = new(big.Int).Add(parseBig(t, sh.EndingHashKey), big.NewInt(1))
	}
	if space := new(big.Int).Lsh(big.NewInt(1), 128); next.Cmp(space) != 0 {
		t.Errorf("the last shard ends at %s, want 2^128-1", new(big.Int).Sub(next, big.NewInt(1)))
	}
}

func testRouting(t *testing.T, newStream NewFunc) {
	t.Run("KnownKeys", func(t *testing.T) {
		// md5("a") = 0cc175b9..., md5("b") = 92eb5ffe...: below and above 2^127.
		ctx := testContext(t)
		s, _ := newStream(t, Config{Shards: 2})
		for _, tt := range []struct{ key, shard string }{
			{"a", "shardId-000000000000"},
			{"b", "shardId-000000000001"},
		} {
			res := put(t, ctx, s, entry(tt.key, "x"))
			if res[0].ShardID != tt.shard {
				t.Errorf("Put(partition key %q) went to %s, want %s", tt.key, res[0].ShardID, tt.shard)
			}
		}
	})
	for _, n := range []int{3, 4} {
		t.Run(fmt.Sprintf("%dShards", n), func(t *testing.T) {
			ctx := testContext(t)
			s, _ := newStream(t, Config{Shards: n})
			shards := listShards(t, ctx, s)
			var keys []string
			for i := range 200 {
				keys = append(keys, fmt.Sprintf("key-%d", i))
			}
			keys = append(keys, "é", "日本語", "192.168.0.1", "c6ef3124-b53a-4b13-a233-0088f79dcbcb", strings.Repeat("ü", streams.MaxPartitionKey))
			entries := make([]streams.Entry, len(keys))
			for i, k := range keys {
				entries[i] = entry(k, k)
			}
			res := put(t, ctx, s, entries...)
			used := make(map[string]bool)
			for i, k := range keys {
				want := shards[shardIndex(t, shards, k)].ID
				if res[i].ShardID != want {
					t.Errorf("Put(partition key %q) went to %s, want %s", k, res[i].ShardID, want)
				}
				used[want] = true
			}
			if len(used) != n {
				t.Errorf("%d keys used %d of %d shards", len(keys), len(used), n)
			}
			for id, recs := range readEverything(t, ctx, s) {
				for _, r := range recs {
					if want := shards[shardIndex(t, shards, r.PartitionKey)].ID; id != want {
						t.Errorf("record with partition key %q read from %s, want %s", r.PartitionKey, id, want)
					}
				}
			}
		})
	}
}

func testPutResultsMatchReads(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, _ := newStream(t, Config{Shards: 2})
	var entries []streams.Entry
	for i := range 50 {
		entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint("k", i%7), Data: []byte(fmt.Sprint("data-", i))})
	}
	entries = append(entries, streams.Entry{PartitionKey: "empty", Data: nil})
	res := put(t, ctx, s, entries...)
	// The caller may reuse its buffers once Put returned.
	for i := range entries {
		for j := range entries[i].Data {
			entries[i].Data[j] = '!'
		}
	}
	type got struct{ Key, Data, Shard, Seq string }
	want := make(map[string]got)
	for i, r := range res {
		want[r.SequenceNumber+"/"+r.ShardID] = got{fmt.Sprint("k", i%7), fmt.Sprint("data-", i), r.ShardID, r.SequenceNumber}
	}
	want[res[50].SequenceNumber+"/"+res[50].ShardID] = got{"empty", "", res[50].ShardID, res[50].SequenceNumber}
	read := make(map[string]got)
	for id, recs := range readEverything(t, ctx, s) {
		requireIncreasing(t, recs)
		for _, r := range recs {
			if r.ShardID != id {
				t.Errorf("record read from %s has ShardID %s", id, r.ShardID)
			}
			if r.ArrivalTime.IsZero() {
				t.Errorf("record %s has no ArrivalTime", r.SequenceNumber)
			}
			read[r.SequenceNumber+"/"+r.ShardID] = got{r.PartitionKey, string(r.Data), r.ShardID, r.SequenceNumber}
		}
	}
	if diff := cmp.Diff(want, read); diff != "" {
		t.Errorf("records read differ from records put (-put +read):\n%s", diff)
	}
	// Within a shard, the results of one batch increase in batch order.
	last := make(map[string]string)
	for i, r := range res {
		if prev, ok := last[r.ShardID]; ok && streams.CompareSequenceNumbers(prev, r.SequenceNumber) >= 0 {
			t.Errorf("result %d: sequence number %s not after %s in shard %s", i, r.SequenceNumber, prev, r.ShardID)
		}
		last[r.ShardID] = r.SequenceNumber
	}
}

func testOrderPerPartitionKey(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, _ := newStream(t, Config{Shards: 3})
	const keys, perKey = 20, 30
	next := make([]int, keys)
	// Interleave keys within and across batches of varying sizes.
	for batch := 0; ; batch++ {
		var entries []streams.Entry
		for k := range keys {
			for range (batch+k)%3 + 1 {
				if next[k] < perKey {
					entries = append(entries, entry(fmt.Sprint("key-", k), fmt.Sprint(next[k])))
					next[k]++
				}
			}
		}
		if len(entries) == 0 {
			break
		}
		put(t, ctx, s, entries...)
	}
	got := make(map[string][]string)
	for _, recs := range readEverything(t, ctx, s) {
		requireIncreasing(t, recs)
		for _, r := range recs {
			got[r.PartitionKey] = append(got[r.PartitionKey], string(r.Data))
		}
	}
	want := make(map[string][]string)
	for k := range keys {
		for i := range perKey {
			want[fmt.Sprint("key-", k)] = append(want[fmt.Sprint("key-", k)], fmt.Sprint(i))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records per partition key, in read order (-want +got):\n%s", diff)
	}
}

func testPutLimits(t *testing.T, newStream NewFunc) {
	n := func(count int, key string, size int) []streams.Entry {
		out := make([]streams.Entry, count)
		for i := range out {
			out[i] = streams.Entry{PartitionKey: key, Data: bytes.Repeat([]byte{'x'}, size)}
		}
		return out
	}
	// A valid record first, so that a batch that fails whole visibly wrote nothing.
	withValid := func(entries ...streams.Entry) []streams.Entry {
		return append([]streams.Entry{entry("valid", "valid")}, entries...)
	}
	maxData := streams.MaxRecordBytes - len("k")
	tests := []struct {
		name    string
		entries []streams.Entry
		ok      bool
	}{
		{"Empty", nil, true},
		{"MaxRecords", n(streams.MaxRecordsPerPut, "k", 10), true},
		{"TooManyRecords", n(streams.MaxRecordsPerPut+1, "k", 10), false},
		{"MaxRecordSizeCountsKey", n(1, "k", maxData), true},
		{"RecordTooLarge", withValid(n(1, "k", maxData+1)...), false},
		{"FiveRecordsOfMaxSize", n(5, "k", maxData), true},
		{"BatchTooLarge", n(6, "k", maxData), false},
		{"EmptyPartitionKey", withValid(entry("", "x")), false},
		{"MaxPartitionKey", []streams.Entry{entry(strings.Repeat("k", streams.MaxPartitionKey), "x")}, true},
		{"PartitionKeyTooLong", withValid(entry(strings.Repeat("k", streams.MaxPartitionKey+1), "x")), false},
		{"PartitionKeyCountsCharacters", []streams.Entry{entry(strings.Repeat("é", streams.MaxPartitionKey), "x")}, true},
		{"PartitionKeyTooManyCharacters", withValid(entry(strings.Repeat("é", streams.MaxPartitionKey+1), "x")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s, _ := newStream(t, Config{Shards: 1})
			res, err := s.Put(ctx, tt.entries)
			if tt.ok {
				if err != nil || len(res) != len(tt.entries) {
					t.Fatalf("Put(%d entries) = %d results, %v; want %d results, nil", len(tt.entries), len(res), err, len(tt.entries))
				}
			} else if !errors.Is(err, streams.ErrInvalidArgument) {
				t.Fatalf("Put(%d entries) error = %v, want ErrInvalidArgument", len(tt.entries), err)
			}
			want := 0
			if tt.ok {
				want = len(tt.entries)
			}
			if got := len(readEverything(t, ctx, s)["shardId-000000000000"]); got != want {
				t.Errorf("after Put(%d entries), %d records are readable, want %d", len(tt.entries), got, want)
			}
		})
	}
}

func testPositions(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, _ := newStream(t, Config{Shards: 1})
	const id = "shardId-000000000000"
	var seqs []string
	for i := range 5 {
		seqs = append(seqs, put(t, ctx, s, entry("k", fmt.Sprint(i)))[0].SequenceNumber)
	}
	latest, latestPos, err := s.Read(ctx, id, streams.Position{Type: streams.Latest}, 100, 0)
	if err != nil || len(latest) != 0 {
		t.Fatalf("Read(Latest) = %d records, %v; want 0, nil", len(latest), err)
	}
	for i := 5; i < 7; i++ {
		seqs = append(seqs, put(t, ctx, s, entry("k", fmt.Sprint(i)))[0].SequenceNumber)
	}
	data := func(recs []streams.Record) []string {
		out := []string{}
		for _, r := range recs {
			out = append(out, string(r.Data))
		}
		return out
	}
	tests := []struct {
		name string
		from streams.Position
		want []string
	}{
		{"TrimHorizon", streams.Position{Type: streams.TrimHorizon}, []string{"0", "1", "2", "3", "4", "5", "6"}},
		{"AtSequenceNumber", streams.Position{Type: streams.AtSequenceNumber, SequenceNumber: seqs[2]}, []string{"2", "3", "4", "5", "6"}},
		{"AfterSequenceNumber", streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: seqs[2]}, []string{"3", "4", "5", "6"}},
		{"AtLast", streams.Position{Type: streams.AtSequenceNumber, SequenceNumber: seqs[6]}, []string{"6"}},
		{"AfterLast", streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: seqs[6]}, []string{}},
		{"LatestPinnedByEmptyRead", latestPos, []string{"5", "6"}},
		{"Latest", streams.Position{Type: streams.Latest}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := data(readAll(t, ctx, s, id, tt.from))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Read(%+v) mismatch (-want +got):\n%s", tt.from, diff)
			}
		})
	}
}

func testReadLimitPages(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, _ := newStream(t, Config{Shards: 1})
	const id = "shardId-000000000000"
	var entries []streams.Entry
	for i := range 25 {
		entries = append(entries, entry("k", fmt.Sprint(i)))
	}
	put(t, ctx, s, entries...)
	from := streams.Position{Type: streams.TrimHorizon}
	var sizes []int
	var got []string
	for range 4 {
		recs, next, err := s.Read(ctx, id, from, 10, 0)
		if err != nil {
			t.Fatalf("Read(%+v, limit 10) error: %v", from, err)
		}
		sizes = append(sizes, len(recs))
		for _, r := range recs {
			got = append(got, string(r.Data))
		}
		from = next
	}
	if diff := cmp.Diff([]int{10, 10, 5, 0}, sizes); diff != "" {
		t.Errorf("records per Read(limit 10) (-want +got):\n%s", diff)
	}
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprint(i))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records read page by page (-want +got):\n%s", diff)
	}
}

func testReadWaits(t *testing.T, newStream NewFunc) {
	const id = "shardId-000000000000"
	t.Run("WakesOnPut", func(t *testing.T) {
		ctx := testContext(t)
		s, _ := newStream(t, Config{Shards: 1})
		type result struct {
			recs []streams.Record
			err  error
		}
		done := make(chan result, 1)
		go func() {
			recs, _, err := s.Read(ctx, id, streams.Position{Type: streams.TrimHorizon}, 10, timeout)
			done <- result{recs, err}
		}()
		put(t, ctx, s, entry("k", "woken"))
		r := <-done
		if r.err != nil || len(r.recs) != 1 || string(r.recs[0].Data) != "woken" {
			t.Fatalf("waiting Read = %d records, %v; want the record put meanwhile", len(r.recs), r.err)
		}
	})
	t.Run("WaitPasses", func(t *testing.T) {
		ctx := testContext(t)
		s, _ := newStream(t, Config{Shards: 1})
		for _, wait := range []time.Duration{0, 20 * time.Millisecond} {
			recs, _, err := s.Read(ctx, id, streams.Position{Type: streams.TrimHorizon}, 10, wait)
			if err != nil || len(recs) != 0 {
				t.Errorf("Read(empty shard, wait %s) = %d records, %v; want 0, nil", wait, len(recs), err)
			}
		}
	})
	t.Run("ContextEndsWait", func(t *testing.T) {
		s, _ := newStream(t, Config{Shards: 1})
		ctx, cancel := context.WithCancel(testContext(t))
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Read(ctx, id, streams.Position{Type: streams.TrimHorizon}, 10, timeout)
			done <- err
		}()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Read cancelled while waiting: error = %v, want context.Canceled", err)
		}
	})
}

func testReadErrors(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, _ := newStream(t, Config{Shards: 1})
	const id = "shardId-000000000000"
	put(t, ctx, s, entry("k", "x"))
	th := streams.Position{Type: streams.TrimHorizon}
	tests := []struct {
		name    string
		shardID string
		from    streams.Position
		limit   int
		want    error
	}{
		{"UnknownShard", "shardId-000000000099", th, 10, streams.ErrShardNotFound},
		{"ZeroLimit", id, th, 0, streams.ErrInvalidArgument},
		{"LimitTooLarge", id, th, streams.MaxRecordsPerRead + 1, streams.ErrInvalidArgument},
		{"SequenceNumberNotDecimal", id, streams.Position{Type: streams.AtSequenceNumber, SequenceNumber: "12ab"}, 10, streams.ErrInvalidArgument},
		{"SequenceNumberEmpty", id, streams.Position{Type: streams.AfterSequenceNumber}, 10, streams.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := s.Read(ctx, tt.shardID, tt.from, tt.limit, 0); !errors.Is(err, tt.want) {
				t.Errorf("Read(%q, %+v, %d) error = %v, want %v", tt.shardID, tt.from, tt.limit, err, tt.want)
			}
		})
	}
	if _, err := s.Put(ctx, nil); err != nil {
		t.Errorf("Put(no entries) error = %v, want nil", err)
	}
}

func testCheckpoints(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 2, Groups: []string{"a", "b"}})
	shards := listShards(t, ctx, s)
	// Two records in each shard.
	seqs := make(map[string][]string)
	for i := 0; len(seqs[shards[0].ID]) < 2 || len(seqs[shards[1].ID]) < 2; i++ {
		r := put(t, ctx, s, entry(fmt.Sprint("key-", i), "x"))[0]
		seqs[r.ShardID] = append(seqs[r.ShardID], r.SequenceNumber)
	}
	s0, s1 := shards[0].ID, shards[1].ID
	checkpoint := func(group, shard, seq string) {
		t.Helper()
		if err := cp.Checkpoint(ctx, group, shard, seq); err != nil {
			t.Fatalf("Checkpoint(%q, %s, %s) error: %v", group, shard, seq, err)
		}
	}
	checkpoints := func(group string) map[string]string {
		t.Helper()
		got, err := cp.Checkpoints(ctx, group)
		if err != nil {
			t.Fatalf("Checkpoints(%q) error: %v", group, err)
		}
		return got
	}
	if got := checkpoints("a"); len(got) != 0 {
		t.Errorf("Checkpoints(%q) of a new stream = %v, want none", "a", got)
	}
	checkpoint("a", s0, seqs[s0][1])
	checkpoint("a", s0, seqs[s0][0]) // older: ignored
	checkpoint("a", s1, seqs[s1][0])
	checkpoint("b", s1, seqs[s1][1])
	for _, tt := range []struct {
		group string
		want  map[string]string
	}{
		{"a", map[string]string{s0: seqs[s0][1], s1: seqs[s1][0]}},
		{"b", map[string]string{s1: seqs[s1][1]}},
		{"c", map[string]string{}},
	} {
		if diff := cmp.Diff(tt.want, checkpoints(tt.group)); diff != "" {
			t.Errorf("Checkpoints(%q) mismatch (-want +got):\n%s", tt.group, diff)
		}
	}
	if err := cp.Checkpoint(ctx, "a", "shardId-000000000099", seqs[s0][0]); !errors.Is(err, streams.ErrShardNotFound) {
		t.Errorf("Checkpoint(unknown shard) error = %v, want ErrShardNotFound", err)
	}
	if err := cp.Checkpoint(ctx, "a", s0, "not-a-number"); !errors.Is(err, streams.ErrInvalidArgument) {
		t.Errorf("Checkpoint(bad sequence number) error = %v, want ErrInvalidArgument", err)
	}
}

// collector gathers what a Handler receives, and checks that calls for one shard never
// overlap.
type collector struct {
	mu       sync.Mutex
	byShard  map[string][]streams.Record
	calls    int
	maxBatch int
	inFlight sync.Map // shard ID -> *atomic.Int32
	overlap  atomic.Bool
}

func newCollector() *collector { return &collector{byShard: make(map[string][]streams.Record)} }

func (c *collector) enter(shardID string) func() {
	v, _ := c.inFlight.LoadOrStore(shardID, new(atomic.Int32))
	n := v.(*atomic.Int32)
	if n.Add(1) > 1 {
		c.overlap.Store(true)
	}
	return func() { n.Add(-1) }
}

func (c *collector) handle(_ context.Context, recs []streams.Record) error {
	defer c.enter(recs[0].ShardID)()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.maxBatch = max(c.maxBatch, len(recs))
	c.byShard[recs[0].ShardID] = append(c.byShard[recs[0].ShardID], recs...)
	return nil
}

func (c *collector) check(t *testing.T, batchSize int) {
	t.Helper()
	if c.overlap.Load() {
		t.Error("handler calls for one shard overlapped")
	}
	for id, recs := range c.byShard {
		for _, r := range recs {
			if r.ShardID != id {
				t.Errorf("handler call for shard %s got a record of %s", id, r.ShardID)
			}
		}
		requireIncreasing(t, recs)
	}
	if c.maxBatch > batchSize {
		t.Errorf("a handler call got %d records, more than BatchSize %d", c.maxBatch, batchSize)
	}
}

func (c *collector) callCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// data returns the records' data, per partition key, in delivery order.
func (c *collector) data() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]string)
	for _, recs := range c.byShard {
		for _, r := range recs {
			out[r.PartitionKey] = append(out[r.PartitionKey], string(r.Data))
		}
	}
	return out
}

func (c *collector) lastSeqs() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string)
	for id, recs := range c.byShard {
		out[id] = recs[len(recs)-1].SequenceNumber
	}
	return out
}

// putKeyed puts count records per key in batches, data "0", "1", ... per key.
func putKeyed(t *testing.T, ctx context.Context, s streams.Stream, keys []string, from, count int) map[string][]string {
	t.Helper()
	want := make(map[string][]string)
	var batch []streams.Entry
	for i := from; i < from+count; i++ {
		for _, k := range keys {
			batch = append(batch, entry(k, fmt.Sprint(i)))
			want[k] = append(want[k], fmt.Sprint(i))
			if len(batch) == 37 {
				put(t, ctx, s, batch...)
				batch = nil
			}
		}
	}
	if len(batch) > 0 {
		put(t, ctx, s, batch...)
	}
	return want
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func consume(t *testing.T, ctx context.Context, s streams.Stream, cp streams.Checkpointer, opts streams.ConsumeOptions, h streams.Handler) {
	t.Helper()
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = time.Millisecond, 10*time.Millisecond
	}
	if err := streams.Consume(ctx, s, cp, opts, h); err != nil {
		t.Fatalf("Consume(group %q) error: %v", opts.Group, err)
	}
}

func checkpointsOf(t *testing.T, ctx context.Context, cp streams.Checkpointer, group string) map[string]string {
	t.Helper()
	got, err := cp.Checkpoints(ctx, group)
	if err != nil {
		t.Fatalf("Checkpoints(%q) error: %v", group, err)
	}
	return got
}

var keys = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}

func testConsumeDrain(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 2, Groups: []string{"g"}})
	want := putKeyed(t, ctx, s, keys, 0, 50)
	c := newCollector()
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "g", BatchSize: 7, Drain: closedChan()}, c.handle)
	c.check(t, 7)
	if diff := cmp.Diff(want, c.data()); diff != "" {
		t.Errorf("records handled per partition key (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.lastSeqs(), checkpointsOf(t, ctx, cp, "g")); diff != "" {
		t.Errorf("checkpoints after drain (-last handled +stored):\n%s", diff)
	}
}

func testConsumeResumes(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 2, Groups: []string{"first", "second"}})
	want := putKeyed(t, ctx, s, keys, 0, 20)
	c := newCollector()
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "first", Drain: closedChan()}, c.handle)
	if diff := cmp.Diff(want, c.data()); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}

	more := putKeyed(t, ctx, s, keys, 20, 10)
	c = newCollector()
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "first", Drain: closedChan()}, c.handle)
	if diff := cmp.Diff(more, c.data()); diff != "" {
		t.Errorf("second run of the same group: records handled (-want +got):\n%s", diff)
	}

	// Groups are independent: another one gets everything.
	c = newCollector()
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "second", Drain: closedChan()}, c.handle)
	wantSecond := make(map[string][]string)
	for _, k := range keys {
		wantSecond[k] = append(append([]string(nil), want[k]...), more[k]...)
	}
	if diff := cmp.Diff(wantSecond, c.data()); diff != "" {
		t.Errorf("another group: records handled (-want +got):\n%s", diff)
	}
}

func testConsumeRetries(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 1, Groups: []string{"g"}})
	want := putKeyed(t, ctx, s, keys, 0, 10)
	c := newCollector()
	var failures []string // first sequence number of each failed call
	var mu sync.Mutex
	h := func(ctx context.Context, recs []streams.Record) error {
		mu.Lock()
		defer mu.Unlock()
		// The batch in hand, failed or not, is not checkpointed yet.
		stored, err := cp.Checkpoints(ctx, "g")
		if err != nil {
			return err
		}
		if seq := stored[recs[0].ShardID]; seq != "" && streams.CompareSequenceNumbers(seq, recs[0].SequenceNumber) >= 0 {
			t.Errorf("handler got %s while the checkpoint is already %s", recs[0].SequenceNumber, seq)
		}
		// Fail the second batch three times: the first one is checkpointed by then.
		if len(failures) < 3 && c.callCount() == 1 {
			failures = append(failures, recs[0].SequenceNumber)
			return errors.New("sink unavailable")
		}
		return c.handle(ctx, recs)
	}
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "g", BatchSize: 9, Drain: closedChan()}, h)
	c.check(t, 9)
	if len(failures) != 3 || failures[0] != failures[1] || failures[1] != failures[2] {
		t.Errorf("failed calls started at %v, want the same batch three times", failures)
	}
	if diff := cmp.Diff(want, c.data()); diff != "" {
		t.Errorf("records handled despite failures (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.lastSeqs(), checkpointsOf(t, ctx, cp, "g")); diff != "" {
		t.Errorf("checkpoints (-last handled +stored):\n%s", diff)
	}
}

func testConsumeCancel(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 1, Groups: []string{"g"}})
	want := putKeyed(t, ctx, s, keys, 0, 5)

	// The handler holds its first batch until Consume is cancelled: the batch must not
	// be checkpointed, and Consume must return nil.
	runCtx, cancel := context.WithCancel(ctx)
	entered := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- streams.Consume(runCtx, s, cp, streams.ConsumeOptions{Group: "g"}, func(ctx context.Context, recs []streams.Record) error {
			close(entered)
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	<-entered
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume cancelled: error = %v, want nil", err)
	}
	if got := checkpointsOf(t, ctx, cp, "g"); len(got) != 0 {
		t.Errorf("checkpoints after a cancelled batch = %v, want none", got)
	}
	// The next run gets everything again.
	c := newCollector()
	consume(t, ctx, s, cp, streams.ConsumeOptions{Group: "g", Drain: closedChan()}, c.handle)
	if diff := cmp.Diff(want, c.data()); diff != "" {
		t.Errorf("records handled after restart (-want +got):\n%s", diff)
	}
}

func testConsumeLatest(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 2, Groups: []string{"g"}})
	putKeyed(t, ctx, s, keys, 0, 3)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan streams.Record, 1000)
	done := make(chan error, 1)
	go func() {
		done <- streams.Consume(runCtx, s, cp, streams.ConsumeOptions{Group: "g", InitialPosition: streams.Latest}, func(ctx context.Context, recs []streams.Record) error {
			for _, r := range recs {
				select {
				case got <- r:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		})
	}()
	// Put new records until one arrives: the Consume has started reading by then.
	var first streams.Record
	for i := 0; first.SequenceNumber == ""; i++ {
		put(t, ctx, s, entry("late", fmt.Sprint("new-", i)))
		select {
		case first = <-got:
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no record put after Consume(Latest) started was handled")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Consume(Latest) error: %v", err)
	}
	close(got)
	for _, r := range append([]streams.Record{first}, drainRecords(got)...) {
		if !strings.HasPrefix(string(r.Data), "new-") {
			t.Errorf("Consume(Latest) handled %q, put before it started", r.Data)
		}
	}
}

func drainRecords(ch <-chan streams.Record) []streams.Record {
	var out []streams.Record
	for r := range ch {
		out = append(out, r)
	}
	return out
}

func testConsumeInvalidOptions(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	s, cp := newStream(t, Config{Shards: 1})
	h := func(context.Context, []streams.Record) error { return nil }
	for _, opts := range []streams.ConsumeOptions{
		{},
		{Group: "g", BatchSize: streams.MaxRecordsPerRead + 1},
		{Group: "g", InitialPosition: streams.AtSequenceNumber},
	} {
		if err := streams.Consume(ctx, s, cp, opts, h); !errors.Is(err, streams.ErrInvalidArgument) {
			t.Errorf("Consume(%+v) error = %v, want ErrInvalidArgument", opts, err)
		}
	}
}

func testConcurrent(t *testing.T, newStream NewFunc) {
	ctx := testContext(t)
	groups := []string{"loader", "ui"}
	s, cp := newStream(t, Config{Shards: 3, Groups: groups})
	const producers, perProducer = 4, 300

	drain := make(chan struct{})
	consumers := make([]*collector, len(groups))
	var cg errgroup.Group
	for i, g := range groups {
		consumers[i] = newCollector()
		cg.Go(func() error {
			return streams.Consume(ctx, s, cp, streams.ConsumeOptions{Group: g, BatchSize: 50, Drain: drain}, consumers[i].handle)
		})
	}
	var pg errgroup.Group
	for p := range producers {
		pg.Go(func() error {
			key := fmt.Sprint("producer-", p)
			for i := 0; i < perProducer; {
				var batch []streams.Entry
				for n := 0; n < 1+(i+p)%17 && i < perProducer; n++ {
					batch = append(batch, entry(key, fmt.Sprint(i)))
					i++
				}
				if _, err := s.Put(ctx, batch); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := pg.Wait(); err != nil {
		t.Fatalf("producer: %v", err)
	}
	close(drain)
	if err := cg.Wait(); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	want := make(map[string][]string)
	for p := range producers {
		for i := range perProducer {
			want[fmt.Sprint("producer-", p)] = append(want[fmt.Sprint("producer-", p)], fmt.Sprint(i))
		}
	}
	for i, g := range groups {
		consumers[i].check(t, 50)
		if diff := cmp.Diff(want, consumers[i].data()); diff != "" {
			t.Errorf("group %q: records per producer, in delivery order (-want +got):\n%s", g, diff)
		}
	}
}
