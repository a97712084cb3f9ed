package streams_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/streamtest"
)

const shard0 = "shardId-000000000000"

func newMemory(t *testing.T, modify func(*streams.MemoryConfig)) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "test"
	if modify != nil {
		modify(&cfg)
	}
	m, err := streams.NewMemory(cfg, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("NewMemory(%+v) error: %v", cfg, err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryContract(t *testing.T) {
	streamtest.Run(t, func(t *testing.T, cfg streamtest.Config) (streams.Stream, streams.Checkpointer) {
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = cfg.Shards
			c.ConsumerGroups = cfg.Groups
		})
		return m, m
	})
}

func TestMemoryConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*streams.MemoryConfig)
		want   []string // error lines
	}{
		{"Defaults", func(*streams.MemoryConfig) {}, nil},
		{"NoAgeLimit", func(c *streams.MemoryConfig) { c.Retention = 0; c.PutWait = 0 }, nil},
		{"Groups", func(c *streams.MemoryConfig) { c.ConsumerGroups = []string{"enrich", "loader"} }, nil},
		{"EmptyName", func(c *streams.MemoryConfig) { c.Name = "" }, []string{
			`streams.name: must be 1..128 characters, got ""`,
		}},
		{"BadName", func(c *streams.MemoryConfig) { c.Name = "raw stream" }, []string{
			`streams.name: must contain only a-z, A-Z, 0-9, '_', '-' and '.', got "raw stream"`,
		}},
		{"Everything", func(c *streams.MemoryConfig) {
			c.Shards = 0
			c.MaxBytes = 1 << 20
			c.Retention = -time.Second
			c.PutWait = -time.Second
			c.ConsumerGroups = []string{"a", "", "a"}
		}, []string{
			"streams.shards: must be 1..1024, got 0",
			"streams.maxBytes: must be at least 5242880 (one whole Put), got 1048576",
			"streams.retention: must not be negative, got -1s",
			"streams.putWait: must not be negative, got -1s",
			"streams.consumerGroups[1]: must not be empty",
			`streams.consumerGroups[2]: duplicate group "a"`,
		}},
		{"TooManyShards", func(c *streams.MemoryConfig) { c.Shards = 1025 }, []string{
			"streams.shards: must be 1..1024, got 1025",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := streams.DefaultMemoryConfig()
			cfg.Name = "raw"
			tt.modify(&cfg)
			var got []string
			if err := cfg.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
			_, err := streams.NewMemory(cfg, nil, nil)
			if (err != nil) != (tt.want != nil) {
				t.Errorf("NewMemory() error = %v, want error: %t", err, tt.want != nil)
			}
		})
	}
}

// record returns an entry of exactly size bytes, partition key included.
func record(key string, size int) streams.Entry {
	return streams.Entry{PartitionKey: key, Data: bytes.Repeat([]byte{'x'}, size-len(key))}
}

// fill puts records of size bytes into shard 0 of a one-shard stream until the next
// would not fit in maxBytes, and returns their sequence numbers.
func fill(t *testing.T, m *streams.Memory, size int, maxBytes int64) []string {
	t.Helper()
	var seqs []string
	for total := int64(size); total <= maxBytes; total += int64(size) {
		res, err := m.Put(t.Context(), []streams.Entry{record(fmt.Sprint(total), size)})
		if err != nil {
			t.Fatalf("Put() after %d bytes error: %v", total-int64(size), err)
		}
		seqs = append(seqs, res[0].SequenceNumber)
	}
	return seqs
}

func readSeqs(t *testing.T, m *streams.Memory, shardID string) []string {
	t.Helper()
	var seqs []string
	from := streams.Position{Type: streams.TrimHorizon}
	for {
		recs, next, err := m.Read(t.Context(), shardID, from, streams.MaxRecordsPerRead, 0)
		if err != nil {
			t.Fatalf("Read(%s) error: %v", shardID, err)
		}
		if len(recs) == 0 {
			return seqs
		}
		for _, r := range recs {
			seqs = append(seqs, r.SequenceNumber)
		}
		from = next
	}
}

const mib = 1 << 20

func TestMemoryRetentionBySizeDropsOldest(t *testing.T) {
	// No declared group: records may be dropped as soon as room is needed.
	m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1; c.MaxBytes = 5 * mib })
	seqs := fill(t, m, 100_000, 5*mib)
	for range 10 {
		res, err := m.Put(t.Context(), []streams.Entry{record("more", 100_000)})
		if err != nil {
			t.Fatalf("Put() over MaxBytes without consumer groups error: %v", err)
		}
		seqs = append(seqs, res[0].SequenceNumber)
	}
	got := readSeqs(t, m, shard0)
	if len(got) == 0 || !slices.Equal(got, seqs[len(seqs)-len(got):]) {
		t.Fatalf("retained %v, want the newest records of %v", got, seqs)
	}
	if st := m.Stats(); st.Bytes > 5*mib || st.Bytes != int64(len(got))*100_000 || st.Records != int64(len(got)) {
		t.Errorf("Stats() = %+v, want %d records of 100000 bytes within 5 MiB", st, len(got))
	}
}

// newFullableMemory returns a one-shard 5 MiB stream whose group "loader" protects what
// it has not processed, that fails a Put at once when full, and that logs to logs.
func newFullableMemory(t *testing.T, logs *logRecorder) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "raw"
	cfg.Shards = 1
	cfg.MaxBytes = 5 * mib
	cfg.ConsumerGroups = []string{"loader"}
	cfg.PutWait = 0
	m, err := streams.NewMemory(cfg, slog.New(logs), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMemoryRetentionBySizeKeepsUnread(t *testing.T) {
	logs := &logRecorder{}
	m := newFullableMemory(t, logs)
	// A group that never read protects everything put before it started.
	seqs := fill(t, m, 100_000, 5*mib)
	_, err := m.Put(t.Context(), []streams.Entry{record("over", 100_000)})
	if !errors.Is(err, streams.ErrFull) {
		t.Fatalf("Put() over MaxBytes with unread records: error = %v, want ErrFull", err)
	}
	if !m.Full() {
		t.Error("Full() = false with the stream full of unread records")
	}
	if got := readSeqs(t, m, shard0); !slices.Equal(got, seqs) {
		t.Fatalf("after ErrFull, retained %d records, want all %d put", len(got), len(seqs))
	}

	// Once the group has processed ten records, those (only) make room.
	if err := m.Checkpoint(t.Context(), "loader", shard0, seqs[9]); err != nil {
		t.Fatalf("Checkpoint() error: %v", err)
	}
	if m.Full() {
		t.Error("Full() = true after a checkpoint freed 1 MB")
	}
	res, err := m.Put(t.Context(), []streams.Entry{record("after", 100_000)})
	if err != nil {
		t.Fatalf("Put() after the checkpoint error: %v", err)
	}
	got := readSeqs(t, m, shard0)
	if !slices.Equal(got[len(got)-1:], []string{res[0].SequenceNumber}) || len(got) < len(seqs)-9 ||
		!slices.Equal(got[:len(got)-1], seqs[len(seqs)-len(got)+1:]) {
		t.Fatalf("retained %v, want the records after the checkpoint and the new one", got)
	}
	if lag := m.Lag("loader"); lag != int64(len(seqs)-10+1) {
		t.Errorf("Lag(loader) = %d, want %d", lag, len(seqs)-10+1)
	}
	want := []string{"WARN stream full: puts wait for consumer groups to make room", "INFO stream has room again"}
	if diff := cmp.Diff(want, logs.msgs); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

// A stream at its bound under a sustained load is full and has room again many times a
// second; it warns at most once per 10 s, and says how many episodes it left out.
func TestMemoryFullWarningsAreSpaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		m := newFullableMemory(t, logs)
		seqs := fill(t, m, 100_000, 5*mib)
		// Three full episodes in quick succession, each ended by a checkpoint.
		for i := range 3 {
			if _, err := m.Put(t.Context(), []streams.Entry{record("over", 100_000)}); !errors.Is(err, streams.ErrFull) {
				t.Fatalf("episode %d: Put() into a full stream error = %v, want ErrFull", i, err)
			}
			if err := m.Checkpoint(t.Context(), "loader", shard0, seqs[i]); err != nil {
				t.Fatal(err)
			}
			res, err := m.Put(t.Context(), []streams.Entry{record("room", 100_000)})
			if err != nil {
				t.Fatalf("episode %d: Put() after a checkpoint error: %v", i, err)
			}
			seqs = append(seqs, res[0].SequenceNumber)
		}
		want := []string{"WARN stream full: puts wait for consumer groups to make room", "INFO stream has room again"}
		if diff := cmp.Diff(want, logs.msgs); diff != "" {
			t.Errorf("log records after three quick episodes (-want +got):\n%s", diff)
		}
		time.Sleep(10 * time.Second)
		if _, err := m.Put(t.Context(), []streams.Entry{record("later", 100_000)}); !errors.Is(err, streams.ErrFull) {
			t.Fatalf("Put() 10 s later error = %v, want ErrFull", err)
		}
		want = append(want, "WARN stream full: puts wait for consumer groups to make room")
		if diff := cmp.Diff(want, logs.msgs); diff != "" {
			t.Errorf("log records 10 s later (-want +got):\n%s", diff)
		}
	})
}

func TestMemoryPutWaitsForConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = 1
			c.MaxBytes = 5 * mib
			c.ConsumerGroups = []string{"enrich"}
			c.PutWait = time.Hour
		})
		seqs := fill(t, m, 500_000, 5*mib)
		done := make(chan error, 1)
		go func() {
			_, err := m.Put(t.Context(), []streams.Entry{record("waiting", 500_000)})
			done <- err
		}()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Put() into a full stream returned %v before a consumer made room", err)
		default:
		}
		if err := m.Checkpoint(t.Context(), "enrich", shard0, seqs[0]); err != nil {
			t.Fatalf("Checkpoint() error: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("waiting Put() error = %v after a checkpoint made room", err)
		}
	})
}

func TestMemoryPutWaitBounds(t *testing.T) {
	tests := []struct {
		name    string
		putWait time.Duration
		cancel  bool
		want    []error
	}{
		{"PutWaitPasses", 2 * time.Second, false, []error{streams.ErrFull}},
		{"ContextDone", time.Hour, true, []error{streams.ErrFull, context.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMemory(t, func(c *streams.MemoryConfig) {
					c.Shards = 1
					c.MaxBytes = 5 * mib
					c.ConsumerGroups = []string{"enrich"}
					c.PutWait = tt.putWait
				})
				fill(t, m, 500_000, 5*mib)
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				start := time.Now()
				done := make(chan error, 1)
				go func() {
					_, err := m.Put(ctx, []streams.Entry{record("waiting", 500_000)})
					done <- err
				}()
				synctest.Wait()
				if tt.cancel {
					cancel()
				}
				err := <-done
				for _, want := range tt.want {
					if !errors.Is(err, want) {
						t.Errorf("Put() into a full stream: error = %v, want %v", err, want)
					}
				}
				if !tt.cancel && time.Since(start) != tt.putWait {
					t.Errorf("Put() gave up after %s, want PutWait %s", time.Since(start), tt.putWait)
				}
			})
		})
	}
}

func TestMemorySlowConsumerBlocksProducer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = 2
			c.MaxBytes = 5 * mib
			c.ConsumerGroups = []string{"loader"}
			c.PutWait = time.Second
		})
		release := make(chan struct{})
		drain := make(chan struct{})
		var handled atomic.Int32
		consumed := make(chan error, 1)
		go func() {
			consumed <- streams.Consume(t.Context(), m, m, streams.ConsumeOptions{Group: "loader", Drain: drain},
				func(context.Context, []streams.Record) error {
					<-release
					handled.Add(1)
					return nil
				})
		}()
		// The producer fills the stream while the consumer is stuck.
		put := 0
		var err error
		for ; err == nil; put++ {
			_, err = m.Put(t.Context(), []streams.Entry{record(fmt.Sprint("key-", put), 200_000)})
		}
		put--
		if !errors.Is(err, streams.ErrFull) {
			t.Fatalf("Put() with a stuck consumer: error = %v, want ErrFull", err)
		}
		if st := m.Stats(); !st.Full || st.Lag["loader"] != int64(put) {
			t.Errorf("Stats() = %+v, want Full and loader lagging %d records", st, put)
		}
		close(release)
		// Now the consumer catches up, and the producer gets on.
		for i := range 50 {
			if _, err := m.Put(t.Context(), []streams.Entry{record(fmt.Sprint("later-", i), 200_000)}); err != nil {
				t.Fatalf("Put() %d after the consumer resumed: %v", i, err)
			}
			put++
		}
		close(drain)
		if err := <-consumed; err != nil {
			t.Fatalf("Consume() error: %v", err)
		}
		if handled.Load() == 0 || m.Lag("loader") != 0 || m.Full() {
			t.Errorf("after drain: %d handler calls, lag %d, full %t; want calls, no lag, not full", handled.Load(), m.Lag("loader"), m.Full())
		}
		if st := m.Stats(); st.Bytes > 5*mib {
			t.Errorf("Stats().Bytes = %d, over MaxBytes", st.Bytes)
		}
	})
}

func TestMemoryRetentionByAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = 1
			c.Retention = time.Hour
			c.ConsumerGroups = []string{"loader"}
		})
		put := func(data string) string {
			res, err := m.Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte(data)}})
			if err != nil {
				t.Fatalf("Put(%q) error: %v", data, err)
			}
			return res[0].SequenceNumber
		}
		checkpoint := func(seq string) {
			if err := m.Checkpoint(t.Context(), "loader", shard0, seq); err != nil {
				t.Fatalf("Checkpoint(%s) error: %v", seq, err)
			}
		}
		old1, old2 := put("old-1"), put("old-2")
		checkpoint(old1)
		time.Sleep(30 * time.Minute)
		young := put("young")
		if got, want := readSeqs(t, m, shard0), []string{old1, old2, young}; !slices.Equal(got, want) {
			t.Fatalf("before Retention: retained %v, want %v", got, want)
		}
		time.Sleep(31 * time.Minute)
		newest := put("newest")
		// old-1 is expired and read; old-2 is expired but unread; young is not expired.
		if got, want := readSeqs(t, m, shard0), []string{old2, young, newest}; !slices.Equal(got, want) {
			t.Fatalf("after Retention: retained %v, want %v", got, want)
		}
		checkpoint(young)
		if got, want := readSeqs(t, m, shard0), []string{young, newest}; !slices.Equal(got, want) {
			t.Fatalf("after Retention and a checkpoint: retained %v, want %v", got, want)
		}
	})
}

// mapCheckpointer is a Checkpointer kept in a map, as a sink's own store would be.
type mapCheckpointer struct {
	mu    sync.Mutex
	cps   map[string]map[string]string
	calls int
}

func (c *mapCheckpointer) Checkpoint(_ context.Context, group, shardID, seq string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.cps == nil {
		c.cps = make(map[string]map[string]string)
	}
	if c.cps[group] == nil {
		c.cps[group] = make(map[string]string)
	}
	if streams.CompareSequenceNumbers(seq, c.cps[group][shardID]) > 0 {
		c.cps[group][shardID] = seq
	}
	return nil
}

func (c *mapCheckpointer) Checkpoints(_ context.Context, group string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.cps[group]), nil
}

func TestMemorySequenceNumbersGrowAcrossRestart(t *testing.T) {
	// A sink keeps its checkpoints across runs; each run has a new memory stream.
	sink := &mapCheckpointer{}
	var previous []string
	for run := range 3 {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2; c.ConsumerGroups = []string{"sink"} })
		var entries []streams.Entry
		for i := range 20 {
			entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint("key-", i), Data: []byte(fmt.Sprint(run, "/", i))})
		}
		res, err := m.Put(t.Context(), entries)
		if err != nil {
			t.Fatalf("run %d: Put() error: %v", run, err)
		}
		for _, r := range res {
			for _, p := range previous {
				if streams.CompareSequenceNumbers(r.SequenceNumber, p) <= 0 {
					t.Fatalf("run %d: sequence number %s is not after %s of an earlier run", run, r.SequenceNumber, p)
				}
			}
		}
		// Starting after the sink's checkpoints from earlier runs skips nothing.
		var got []string
		var mu sync.Mutex
		cp := streams.MultiCheckpointer{From: sink, To: []streams.Checkpointer{sink, m}}
		err = streams.Consume(t.Context(), m, cp, streams.ConsumeOptions{Group: "sink", Drain: closedChan()},
			func(_ context.Context, recs []streams.Record) error {
				mu.Lock()
				defer mu.Unlock()
				for _, r := range recs {
					got = append(got, string(r.Data))
				}
				return nil
			})
		if err != nil {
			t.Fatalf("run %d: Consume() error: %v", run, err)
		}
		sort.Strings(got)
		var want []string
		for _, e := range entries {
			want = append(want, string(e.Data))
		}
		sort.Strings(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("run %d: records consumed after the previous run's checkpoints (-want +got):\n%s", run, diff)
		}
		for _, r := range res {
			previous = append(previous, r.SequenceNumber)
		}
		m.Close()
	}
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

func TestMemoryCheckpointValidation(t *testing.T) {
	m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2 })
	other := newMemory(t, nil)
	res, err := m.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	seq := res[0].SequenceNumber // in shard 0: see the routing test of the contract suite
	// A sequence number of a stream created later is after everything this one issued.
	later, err := other.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                string
		group, shardID, seq string
		want                error
	}{
		{"Valid", "g", shard0, seq, nil},
		{"FromAnEarlierRun", "g", shard0, "12345", nil},
		{"FromALaterStream", "g", shard0, later[0].SequenceNumber, streams.ErrInvalidArgument},
		{"AfterTheShardsLastRecord", "g", "shardId-000000000001", seq, streams.ErrInvalidArgument},
		{"EmptyGroup", "", shard0, seq, streams.ErrInvalidArgument},
		{"Empty", "g", shard0, "", streams.ErrInvalidArgument},
		{"TooLong", "g", shard0, strings.Repeat("9", 130), streams.ErrInvalidArgument},
		{"UnknownShard", "g", "shardId-000000000002", seq, streams.ErrShardNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Checkpoint(t.Context(), tt.group, tt.shardID, tt.seq)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("Checkpoint(%q, %s, %s) = %v, want %v", tt.group, tt.shardID, tt.seq, err, tt.want)
			}
		})
	}
}

func TestMemoryReadFromEarlierRunAndLaterStream(t *testing.T) {
	m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1 })
	res, err := m.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	later := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1 })
	laterRes, err := later.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("y")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		from streams.Position
		want int
	}{
		{"AfterEarlierRun", streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: "1"}, 1},
		{"AtEarlierRun", streams.Position{Type: streams.AtSequenceNumber, SequenceNumber: "000"}, 1},
		{"AfterLaterStream", streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: laterRes[0].SequenceNumber}, 0},
		{"AtOwn", streams.Position{Type: streams.AtSequenceNumber, SequenceNumber: res[0].SequenceNumber}, 1},
		{"AfterHuge", streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: strings.Repeat("9", 129)}, 0},
	} {
		recs, _, err := m.Read(t.Context(), shard0, tt.from, 10, 0)
		if err != nil || len(recs) != tt.want {
			t.Errorf("%s: Read(%+v) = %d records, %v; want %d, nil", tt.name, tt.from, len(recs), err, tt.want)
		}
	}
}

func TestMemoryReadByteLimit(t *testing.T) {
	m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1 })
	for range 3 {
		if _, err := m.Put(t.Context(), []streams.Entry{record("a", 1_000_000), record("b", 1_000_000), record("c", 1_000_000), record("d", 1_000_000)}); err != nil {
			t.Fatal(err)
		}
	}
	from := streams.Position{Type: streams.TrimHorizon}
	var sizes []int
	for range 2 {
		recs, next, err := m.Read(t.Context(), shard0, from, 100, 0)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(recs))
		from = next
	}
	// 10 records of 1,000,000 bytes fit in 10 MiB, 11 do not.
	if diff := cmp.Diff([]int{10, 2}, sizes); diff != "" {
		t.Errorf("records per Read of 1 MB records (-want +got):\n%s", diff)
	}
}

func TestMemoryClose(t *testing.T) {
	m := newMemory(t, func(c *streams.MemoryConfig) {
		c.Shards = 1
		c.MaxBytes = 5 * mib
		c.ConsumerGroups = []string{"g"}
		c.PutWait = time.Hour
	})
	fill(t, m, 1_000_000, 5*mib)
	read := make(chan error, 1)
	go func() {
		_, _, err := m.Read(t.Context(), shard0, streams.Position{Type: streams.Latest}, 10, time.Hour)
		read <- err
	}()
	put := make(chan error, 1)
	go func() {
		_, err := m.Put(t.Context(), []streams.Entry{record("k", 1_000_000)})
		put <- err
	}()
	if err := m.Close(); err != nil {
		t.Fatalf("Close() error: %v", err)
	}
	if err := <-read; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("waiting Read() after Close: error = %v, want ErrClosed", err)
	}
	if err := <-put; !errors.Is(err, streams.ErrClosed) {
		t.Errorf("waiting Put() after Close: error = %v, want ErrClosed", err)
	}
	for name, err := range map[string]error{
		"Put":         func() error { _, err := m.Put(t.Context(), []streams.Entry{record("k", 10)}); return err }(),
		"Read":        func() error { _, _, err := m.Read(t.Context(), shard0, streams.Position{}, 10, 0); return err }(),
		"Shards":      func() error { _, err := m.Shards(t.Context()); return err }(),
		"Checkpoint":  m.Checkpoint(t.Context(), "g", shard0, "1"),
		"Checkpoints": func() error { _, err := m.Checkpoints(t.Context(), "g"); return err }(),
	} {
		if !errors.Is(err, streams.ErrClosed) {
			t.Errorf("%s after Close: error = %v, want ErrClosed", name, err)
		}
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close() error: %v", err)
	}
}

// gather returns the value of every sample of reg, keyed by name and labels.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() error: %v", err)
	}
	out := make(map[string]float64)
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestMemoryMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	newStream := func(name string, groups ...string) (*streams.Memory, error) {
		cfg := streams.DefaultMemoryConfig()
		cfg.Name = name
		cfg.Shards = 1
		cfg.ConsumerGroups = groups
		return streams.NewMemory(cfg, nil, reg)
	}
	raw, err := newStream("raw", "enrich")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	enriched, err := newStream("enriched", "sqlite", "web")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newStream("raw"); err == nil {
		t.Error("NewMemory() of a second stream named raw on the same registry: error = nil, want one")
	}

	res, err := raw.Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte("abcd")}, {PartitionKey: "k", Data: []byte("ef")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := raw.Read(t.Context(), shard0, streams.Position{}, 1, 0); err != nil {
		t.Fatal(err)
	}
	if err := raw.Checkpoint(t.Context(), "enrich", shard0, res[0].SequenceNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := enriched.Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}

	want := map[string]float64{
		"snowplow_mini_streams_put_records_total{stream=raw}":                 2,
		"snowplow_mini_streams_put_bytes_total{stream=raw}":                   8,
		"snowplow_mini_streams_read_records_total{stream=raw}":                1,
		"snowplow_mini_streams_read_bytes_total{stream=raw}":                  5,
		"snowplow_mini_streams_dropped_records_total{stream=raw}":             0,
		"snowplow_mini_streams_dropped_bytes_total{stream=raw}":               0,
		"snowplow_mini_streams_full_puts_total{stream=raw}":                   0,
		"snowplow_mini_streams_retained_records{stream=raw}":                  2,
		"snowplow_mini_streams_retained_bytes{stream=raw}":                    8,
		"snowplow_mini_streams_unread_bytes{stream=raw}":                      3,
		"snowplow_mini_streams_max_bytes{stream=raw}":                         16 << 20,
		"snowplow_mini_streams_consumer_lag_records{group=enrich,stream=raw}": 1,

		"snowplow_mini_streams_put_records_total{stream=enriched}":                 1,
		"snowplow_mini_streams_put_bytes_total{stream=enriched}":                   2,
		"snowplow_mini_streams_read_records_total{stream=enriched}":                0,
		"snowplow_mini_streams_read_bytes_total{stream=enriched}":                  0,
		"snowplow_mini_streams_dropped_records_total{stream=enriched}":             0,
		"snowplow_mini_streams_dropped_bytes_total{stream=enriched}":               0,
		"snowplow_mini_streams_full_puts_total{stream=enriched}":                   0,
		"snowplow_mini_streams_retained_records{stream=enriched}":                  1,
		"snowplow_mini_streams_retained_bytes{stream=enriched}":                    2,
		"snowplow_mini_streams_unread_bytes{stream=enriched}":                      2,
		"snowplow_mini_streams_max_bytes{stream=enriched}":                         16 << 20,
		"snowplow_mini_streams_consumer_lag_records{group=sqlite,stream=enriched}": 1,
		"snowplow_mini_streams_consumer_lag_records{group=web,stream=enriched}":    1,
	}
	if diff := cmp.Diff(want, gather(t, reg)); diff != "" {
		t.Errorf("metrics mismatch (-want +got):\n%s", diff)
	}

	// Closing a stream withdraws its metrics, and its name may be used again.
	enriched.Close()
	for k := range gather(t, reg) {
		if strings.Contains(k, "stream=enriched") {
			t.Errorf("metric %s still exported after Close", k)
		}
	}
	again, err := newStream("enriched")
	if err != nil {
		t.Fatalf("NewMemory() of enriched after Close: %v", err)
	}
	again.Close()
}

// TestMemoryKeepsImmutableData puts immutable and ordinary entries in one batch: the
// immutable ones are read back as the very memory put (capped, so that a reader's
// append cannot reach past them), the others as copies that the caller's later
// writes do not change, in the order put.
func TestMemoryKeepsImmutableData(t *testing.T) {
	for _, shards := range []int{1, 3} { // one shard: one run of appendShard; three: routed parts
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = shards })
		backing := []byte("frozen-0|frozen-1|")
		entries := []streams.Entry{
			{PartitionKey: "k", Data: backing[0:8:8], Immutable: true},
			{PartitionKey: "k", Data: []byte("copied-0")},
			{PartitionKey: "k", Data: backing[9:17], Immutable: true}, // cap reaches past it
			{PartitionKey: "k", Data: []byte("copied-1")},
			{PartitionKey: "k", Data: nil, Immutable: true},
			{PartitionKey: "other", Data: []byte("copied-2")}, // another shard, with 3
		}
		res, err := m.Put(t.Context(), entries)
		if err != nil {
			t.Fatal(err)
		}
		entries[1].Data[0] = '!'
		entries[3].Data[0] = '!'
		entries[5].Data[0] = '!'
		var got []streams.Record
		for _, sh := range listShardIDs(t, m) {
			recs, _, err := m.Read(t.Context(), sh, streams.Position{Type: streams.TrimHorizon}, 100, 0)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, recs...)
		}
		bySeq := make(map[string]streams.Record)
		for _, r := range got {
			bySeq[r.SequenceNumber] = r
		}
		want := []string{"frozen-0", "copied-0", "frozen-1", "copied-1", "", "copied-2"}
		for i, r := range res {
			rec, ok := bySeq[r.SequenceNumber]
			if !ok || string(rec.Data) != want[i] {
				t.Fatalf("%d shards: entry %d read back as %q (found %v), want %q", shards, i, rec.Data, ok, want[i])
			}
			if cap(rec.Data) != len(rec.Data) {
				t.Errorf("%d shards: entry %d read back with cap %d > len %d", shards, i, cap(rec.Data), len(rec.Data))
			}
			shared := len(rec.Data) > 0 && unsafe.SliceData(rec.Data) == unsafe.SliceData(entries[i].Data)
			if shared != (entries[i].Immutable && len(rec.Data) > 0) {
				t.Errorf("%d shards: entry %d (immutable %v) read back sharing the caller's memory: %v", shards, i, entries[i].Immutable, shared)
			}
		}
	}
}

func listShardIDs(t *testing.T, s streams.Stream) []string {
	t.Helper()
	shards, err := s.Shards(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(shards))
	for i, sh := range shards {
		ids[i] = sh.ID
	}
	return ids
}
