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
