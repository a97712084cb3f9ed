package streams_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/streamtest"
)

func newDurable(t *testing.T, dir string, modify func(*streams.MemoryConfig, *streams.DurableConfig)) *streams.Durable {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "test"
	dc := streams.DurableConfig{Dir: dir}
	if modify != nil {
		modify(&cfg, &dc)
	}
	d, err := streams.NewDurable(cfg, dc, nil, nil)
	if err != nil {
		t.Fatalf("NewDurable() error: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestDurableContract(t *testing.T) {
	streamtest.Run(t, func(t *testing.T, cfg streamtest.Config) (streams.Stream, streams.Checkpointer) {
		d := newDurable(t, t.TempDir(), func(c *streams.MemoryConfig, _ *streams.DurableConfig) {
			c.Shards = cfg.Shards
			c.ConsumerGroups = cfg.Groups
		})
		return d, d
	})
}

// readAll returns the data of every record of every shard, by shard.
func readAll(t *testing.T, s streams.Stream) map[string][]string {
	t.Helper()
	shards, err := s.Shards(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, sh := range shards {
		pos := streams.Position{Type: streams.TrimHorizon}
		for {
			recs, next, err := s.Read(t.Context(), sh.ID, pos, 1000, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				out[sh.ID] = append(out[sh.ID], fmt.Sprintf("%s=%s@%s", r.PartitionKey, r.Data, r.SequenceNumber))
			}
			pos = next
		}
	}
	return out
}

func putNamed(t *testing.T, s streams.Stream, prefix string, n int) []streams.PutResult {
	t.Helper()
	var entries []streams.Entry
	for i := range n {
		entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint("k", i%7), Data: []byte(fmt.Sprintf("%s-%d", prefix, i))})
	}
	res, err := s.Put(t.Context(), entries)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDurableRestart: a reopened stream has the records (with their sequence numbers)
// and checkpoints of the previous one, loads back only what its declared group has not
// checkpointed, and numbers new records after the old ones.
func TestDurableRestart(t *testing.T) {
	dir := t.TempDir()
	mod := func(c *streams.MemoryConfig, _ *streams.DurableConfig) {
		c.Shards = 2
		c.ConsumerGroups = []string{"g"}
	}
	d := newDurable(t, dir, mod)
	res := putNamed(t, d, "a", 50)
	// The group has processed the first record of each shard.
	first := map[string]string{}
	for _, r := range res {
		if _, ok := first[r.ShardID]; !ok {
			first[r.ShardID] = r.SequenceNumber
			if err := d.Checkpoint(t.Context(), "g", r.ShardID, r.SequenceNumber); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := readAll(t, d)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := newDurable(t, dir, mod)
	cps, err := d2.Checkpoints(t.Context(), "g")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, cps); diff != "" {
		t.Errorf("checkpoints after restart (-want +got):\n%s", diff)
	}
	after := readAll(t, d2)
	for shard, recs := range before {
		if diff := cmp.Diff(recs[1:], after[shard]); diff != "" {
			t.Errorf("shard %s after restart (-want +got):\n%s", shard, diff)
		}
	}
	res2 := putNamed(t, d2, "b", 10)
	for _, r := range res2 {
		for _, old := range res {
			if streams.CompareSequenceNumbers(r.SequenceNumber, old.SequenceNumber) <= 0 {
				t.Fatalf("new sequence number %s is not after %s", r.SequenceNumber, old.SequenceNumber)
			}
		}
	}
}

// TestDurableTruncatedTail cuts the log at every length within its last frames: the
// stream opens with the whole records before the cut and drops the damaged one.
func TestDurableTruncatedTail(t *testing.T) {
	dir := t.TempDir()
	d := newDurable(t, dir, func(c *streams.MemoryConfig, _ *streams.DurableConfig) { c.Shards = 1 })
	for i := range 3 {
		putNamed(t, d, fmt.Sprint("p", i), 1)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) == 0 {
		t.Fatal("no segment written")
	}
	last := segs[len(segs)-1]
	data, err := os.ReadFile(last)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.TrimRight(data, "\x00")                  // the preallocated rest
	for cut := len(data) - 1; cut > len(data)-12; cut-- { // within the last frame
		dir2 := t.TempDir()
		for _, s := range segs[:len(segs)-1] {
			b, _ := os.ReadFile(s)
			os.WriteFile(filepath.Join(dir2, filepath.Base(s)), b, 0o600)
		}
		if err := os.WriteFile(filepath.Join(dir2, filepath.Base(last)), data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		d2, err := streams.NewDurable(streams.MemoryConfig{Name: "test", Shards: 1, MaxBytes: 32 << 20}, streams.DurableConfig{Dir: dir2}, nil, nil)
		if err != nil {
			t.Fatalf("cut at %d of %d: NewDurable() error: %v", cut, len(data), err)
		}
		got := readAll(t, d2)
		n := 0
		for _, recs := range got {
			n += len(recs)
		}
		if n != 2 {
			t.Errorf("cut at %d of %d: %d records, want the 2 whole ones: %v", cut, len(data), n, got)
		}
		// The damaged tail is gone: a new record follows the whole ones.
		putNamed(t, d2, "new", 1)
		d2.Close()
		d3, err := streams.NewDurable(streams.MemoryConfig{Name: "test", Shards: 1, MaxBytes: 32 << 20}, streams.DurableConfig{Dir: dir2}, nil, nil)
		if err != nil {
			t.Fatalf("cut at %d, reopened: %v", cut, err)
		}
		n = 0
		for _, recs := range readAll(t, d3) {
			n += len(recs)
		}
		d3.Close()
		if n != 3 {
			t.Errorf("cut at %d, reopened after a put: %d records, want 3", cut, n)
		}
	}
}

// TestDurableDeletesSegments: segments go once the declared group has checkpointed
// their records, and not before.
func TestDurableDeletesSegments(t *testing.T) {
	dir := t.TempDir()
	d := newDurable(t, dir, func(c *streams.MemoryConfig, dc *streams.DurableConfig) {
		c.Shards = 1
		c.ConsumerGroups = []string{"g"}
		dc.SegmentBytes = 1024
	})
	var res []streams.PutResult
	for i := range 40 {
		res = append(res, putNamed(t, d, fmt.Sprint("r", i), 5)...)
	}
	segs := func() int {
		s, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
		return len(s)
	}
	if n := segs(); n < 3 {
		t.Fatalf("%d segments after 200 records with 1 KiB segments, want several", n)
	}
	unread := segs()
	last := res[len(res)-1]
	if err := d.Checkpoint(t.Context(), "g", last.ShardID, last.SequenceNumber); err != nil {
		t.Fatal(err)
	}
	// A rollover deletes what is checkpointed.
	for i := range 10 {
		putNamed(t, d, fmt.Sprint("s", i), 5)
	}
	if n := segs(); n >= unread {
		t.Errorf("%d segments after the group checkpointed everything, had %d", n, unread)
	}
	d.Close()
	d2 := newDurable(t, dir, func(c *streams.MemoryConfig, dc *streams.DurableConfig) {
		c.Shards = 1
		c.ConsumerGroups = []string{"g"}
	})
	n := 0
	for _, recs := range readAll(t, d2) {
		n += len(recs)
	}
	if n != 50 {
		t.Errorf("after restart: %d records unread by the group, want the 50 put after its checkpoint", n)
	}
}

// TestDurableGroupCommit: concurrent Puts all succeed and all survive a reopen.
func TestDurableGroupCommit(t *testing.T) {
	dir := t.TempDir()
	d := newDurable(t, dir, func(c *streams.MemoryConfig, _ *streams.DurableConfig) { c.Shards = 2 })
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if _, err := d.Put(context.Background(), []streams.Entry{{PartitionKey: fmt.Sprint(w, "/", i), Data: []byte("x")}}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d.Close()
	d2 := newDurable(t, dir, func(c *streams.MemoryConfig, _ *streams.DurableConfig) { c.Shards = 2 })
	n := 0
	for _, recs := range readAll(t, d2) {
		n += len(recs)
	}
	if n != 200 {
		t.Errorf("%d records after reopening, want 200", n)
	}
}

// TestDurableNeverReissuesACounter: a record is visible to readers before it is on
// disk, so a reader may have acted on it when a crash loses it. A restarted stream must
// not give its sequence number to a new record.
func TestDurableNeverReissuesACounter(t *testing.T) {
	dir := t.TempDir()
	d := newDurable(t, dir, func(c *streams.MemoryConfig, _ *streams.DurableConfig) { c.Shards = 1 })
	putNamed(t, d, "on-disk", 1)
	// Numbered and readable, not yet on disk: the state a crash would leave.
	lost, err := d.Memory.Put(t.Context(), []streams.Entry{{PartitionKey: "k", Data: []byte("lost")}})
	if err != nil {
		t.Fatal(err)
	}
	crashed := t.TempDir()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, s := range segs {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, filepath.Base(s)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	d2 := newDurable(t, crashed, func(c *streams.MemoryConfig, _ *streams.DurableConfig) { c.Shards = 1 })
	got := readAll(t, d2)
	for _, recs := range got {
		if len(recs) != 1 {
			t.Errorf("records after the crash: %v, want only the one on disk", recs)
		}
	}
	res := putNamed(t, d2, "new", 1)
	if streams.CompareSequenceNumbers(res[0].SequenceNumber, lost[0].SequenceNumber) <= 0 {
		t.Errorf("new record numbered %s, not after %s that a crash lost", res[0].SequenceNumber, lost[0].SequenceNumber)
	}
}
