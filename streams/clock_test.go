package streams_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// TestMemorySequenceNumbersWhateverTheClock restarts a stream with clocks that jump
// back and forth between runs: started after the largest checkpoint a sink kept, every
// run issues larger numbers, and its consumer skips nothing.
func TestMemorySequenceNumbersWhateverTheClock(t *testing.T) {
	base := time.Now()
	sink := &mapCheckpointer{}
	var last string // the largest sequence number issued so far
	for run, offset := range []time.Duration{time.Hour, 0, -24 * time.Hour, time.Hour, time.Hour} {
		clock := func() time.Time { return base.Add(offset) }
		var after string
		cps, _ := sink.Checkpoints(t.Context(), "sink")
		for _, seq := range cps {
			if streams.CompareSequenceNumbers(seq, after) > 0 {
				after = seq
			}
		}
		m := newMemory(t, func(c *streams.MemoryConfig) {
			c.Shards = 2
			c.ConsumerGroups = []string{"sink"}
			c.Clock = clock
			c.After = after
		})
		var entries []streams.Entry
		for i := range 50 {
			entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint("key-", i), Data: []byte(fmt.Sprint(run, "/", i))})
		}
		res, err := m.Put(t.Context(), entries)
		if err != nil {
			t.Fatalf("run %d: Put() error: %v", run, err)
		}
		for _, r := range res {
			if streams.CompareSequenceNumbers(r.SequenceNumber, last) <= 0 {
				t.Fatalf("run %d (clock %+v): sequence number %s is not after %s of an earlier run", run, offset, r.SequenceNumber, last)
			}
		}
		var mu sync.Mutex
		got := 0
		cp := streams.MultiCheckpointer{From: sink, To: []streams.Checkpointer{sink, m}}
		err = streams.Consume(t.Context(), m, cp, streams.ConsumeOptions{Group: "sink", Drain: closedChan()},
			func(_ context.Context, recs []streams.Record) error {
				mu.Lock()
				defer mu.Unlock()
				got += len(recs)
				return nil
			})
		if err != nil {
			t.Fatalf("run %d: Consume() error: %v", run, err)
		}
		if got != len(entries) {
			t.Errorf("run %d (clock %+v): consumed %d records after the stored checkpoints, want %d", run, offset, got, len(entries))
		}
		for _, r := range res {
			if streams.CompareSequenceNumbers(r.SequenceNumber, last) > 0 {
				last = r.SequenceNumber
			}
		}
		m.Close()
	}
}

func TestMemoryConfigAfter(t *testing.T) {
	for _, after := range []string{"x", "-1", "99999999999999999999999999999999999999999999999999"} {
		cfg := streams.DefaultMemoryConfig()
		cfg.Name = "test"
		cfg.After = after
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate() with After %q = nil, want an error", after)
		}
	}
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryPending(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	m := newMemory(t, func(c *streams.MemoryConfig) {
		c.Shards = 1
		c.ConsumerGroups = []string{"g"}
		c.Clock = clock.Now
	})
	check := func(step string, wantN int64, wantIdle time.Duration) {
		t.Helper()
		if n, idle := m.Pending("g"); n != wantN || idle != wantIdle {
			t.Errorf("%s: Pending() = %d, %s; want %d, %s", step, n, idle, wantN, wantIdle)
		}
	}
	check("empty stream", 0, 0)
	res, err := m.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("1")}, {PartitionKey: "a", Data: []byte("2")}, {PartitionKey: "a", Data: []byte("3")}})
	if err != nil {
		t.Fatal(err)
	}
	check("just put", 3, 0)
	clock.Advance(5 * time.Second)
	check("5s later", 3, 5*time.Second)
	if err := m.Checkpoint(t.Context(), "g", res[0].ShardID, res[0].SequenceNumber); err != nil {
		t.Fatal(err)
	}
	check("after a checkpoint", 2, 0)
	clock.Advance(2 * time.Second)
	check("2s after the checkpoint", 2, 2*time.Second)
	clock.Advance(time.Minute)
	if _, err := m.Put(t.Context(), []streams.Entry{{PartitionKey: "a", Data: []byte("4")}}); err != nil {
		t.Fatal(err)
	}
	check("a new record does not hide the stall", 3, time.Minute+2*time.Second)
	if err := m.Checkpoint(t.Context(), "g", res[0].ShardID, res[2].SequenceNumber); err != nil {
		t.Fatal(err)
	}
	check("progress", 1, 0)
	clock.Advance(time.Second)
	check("1s after progress", 1, time.Second)
}
