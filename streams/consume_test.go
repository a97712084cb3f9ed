package streams_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

func putN(t *testing.T, s streams.Stream, n int) []streams.PutResult {
	t.Helper()
	var entries []streams.Entry
	for i := range n {
		entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint("key-", i), Data: []byte(fmt.Sprint(i))})
	}
	res, err := s.Put(t.Context(), entries)
	if err != nil {
		t.Fatalf("Put(%d entries) error: %v", n, err)
	}
	return res
}

// lastPerShard returns the last sequence number put to each shard.
func lastPerShard(res []streams.PutResult) map[string]string {
	out := make(map[string]string)
	for _, r := range res {
		out[r.ShardID] = r.SequenceNumber
	}
	return out
}

// counter is a Handler that counts records.
type counter struct{ n atomic.Int64 }

func (c *counter) handle(_ context.Context, recs []streams.Record) error {
	c.n.Add(int64(len(recs)))
	return nil
}

func TestConsumeHandsOverWithoutPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2 })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var c counter
		done := make(chan error, 1)
		go func() {
			done <- streams.Consume(ctx, m, m, streams.ConsumeOptions{Group: "g", Wait: time.Hour}, c.handle)
		}()
		synctest.Wait() // every shard's Read is waiting
		start := time.Now()
		putN(t, m, 10)
		synctest.Wait()
		// No time has passed in the bubble: the records were handed over on arrival,
		// not at the end of a wait or poll interval.
		if got := c.n.Load(); got != 10 || time.Since(start) != 0 {
			t.Errorf("handled %d records %s after the Put, want 10 at once", got, time.Since(start))
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume() after cancel: error = %v, want nil", err)
		}
	})
}

func TestConsumeDrainWakesIdleShards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 3 })
		res := putN(t, m, 30)
		drain := make(chan struct{})
		var c counter
		done := make(chan error, 1)
		go func() {
			done <- streams.Consume(t.Context(), m, m, streams.ConsumeOptions{Group: "g", Wait: time.Hour, Drain: drain}, c.handle)
		}()
		synctest.Wait()
		close(drain)
		synctest.Wait()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Consume() after drain: error = %v, want nil", err)
			}
		default:
			t.Fatal("Consume() still waiting on idle shards after Drain was closed")
		}
		cps, err := m.Checkpoints(t.Context(), "g")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(lastPerShard(res), cps); diff != "" || c.n.Load() != 30 {
			t.Errorf("drained %d records, checkpoints (-want +got):\n%s", c.n.Load(), diff)
		}
	})
}

// logRecorder is a slog.Handler keeping the level and message of records at Info and
// above.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Level.String()+" "+r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }

func TestConsumeRetryBackoffAndLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1 })
		res := putN(t, m, 3)
		// Calls 1-5 fail, 6 succeeds (records 0-1), 7-8 fail, 9 succeeds (record 2).
		var calls []time.Duration
		var batches [][]string
		start := time.Now()
		h := func(_ context.Context, recs []streams.Record) error {
			calls = append(calls, time.Since(start))
			var seqs []string
			for _, r := range recs {
				seqs = append(seqs, r.SequenceNumber)
			}
			batches = append(batches, seqs)
			if n := len(calls); n <= 5 || n == 7 || n == 8 {
				return errors.New("database down")
			}
			return nil
		}
		logs := &logRecorder{}
		err := streams.Consume(t.Context(), m, m, streams.ConsumeOptions{
			Group:      "g",
			BatchSize:  2,
			Drain:      closedChan(),
			MinBackoff: 100 * time.Millisecond,
			MaxBackoff: 500 * time.Millisecond,
			Logger:     slog.New(logs),
		}, h)
		if err != nil {
			t.Fatalf("Consume() error: %v", err)
		}
		ms := time.Millisecond
		wantCalls := []time.Duration{0, 100 * ms, 300 * ms, 700 * ms, 1200 * ms, 1700 * ms, 1700 * ms, 1800 * ms, 2000 * ms}
		if diff := cmp.Diff(wantCalls, calls); diff != "" {
			t.Errorf("handler call times (-want +got):\n%s", diff)
		}
		first, second := []string{res[0].SequenceNumber, res[1].SequenceNumber}, []string{res[2].SequenceNumber}
		wantBatches := [][]string{first, first, first, first, first, first, second, second, second}
		if diff := cmp.Diff(wantBatches, batches); diff != "" {
			t.Errorf("batches handled (-want +got):\n%s", diff)
		}
		wantLogs := []string{
			"ERROR handling records failed; retrying", "INFO handling records recovered",
			"ERROR handling records failed; retrying", "INFO handling records recovered",
		}
		if diff := cmp.Diff(wantLogs, logs.msgs); diff != "" {
			t.Errorf("log records (-want +got):\n%s", diff)
		}
	})
}

// flakyStream fails the first reads with an error that is worth retrying.
type flakyStream struct {
	streams.Stream
	failures atomic.Int32
}

func (f *flakyStream) Read(ctx context.Context, shardID string, from streams.Position, limit int, wait time.Duration) ([]streams.Record, streams.Position, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, from, errors.New("throttled")
	}
	return f.Stream.Read(ctx, shardID, from, limit, wait)
}

func TestConsumeRetriesReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2 })
		putN(t, m, 20)
		s := &flakyStream{Stream: m}
		s.failures.Store(5)
		var c counter
		if err := streams.Consume(t.Context(), s, m, streams.ConsumeOptions{Group: "g", Drain: closedChan()}, c.handle); err != nil {
			t.Fatalf("Consume() over failing reads: error = %v", err)
		}
		if c.n.Load() != 20 {
			t.Errorf("handled %d records, want 20", c.n.Load())
		}
	})
}

func TestConsumeStopsOnPermanentError(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, m *streams.Memory) error
		want error
	}{
		{"StreamClosed", func(t *testing.T, m *streams.Memory) error {
			done := make(chan error, 1)
			go func() {
				done <- streams.Consume(t.Context(), m, m, streams.ConsumeOptions{Group: "g", Wait: time.Hour},
					func(context.Context, []streams.Record) error { return nil })
			}()
			synctest.Wait()
			m.Close()
			return <-done
		}, streams.ErrClosed},
		{"HandlerPutsToClosedStream", func(t *testing.T, m *streams.Memory) error {
			out := newMemory(t, nil)
			out.Close()
			return streams.Consume(t.Context(), m, m, streams.ConsumeOptions{Group: "g"},
				func(ctx context.Context, recs []streams.Record) error {
					_, err := out.Put(ctx, []streams.Entry{{PartitionKey: "k", Data: recs[0].Data}})
					return err
				})
		}, streams.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2 })
				putN(t, m, 10)
				if err := tt.run(t, m); !errors.Is(err, tt.want) {
					t.Errorf("Consume() error = %v, want %v", err, tt.want)
				}
			})
		})
	}
}

func TestConsumeCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 1 })
		putN(t, m, 1)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- streams.Consume(ctx, m, m, streams.ConsumeOptions{Group: "g", MinBackoff: time.Hour, MaxBackoff: time.Hour},
				func(context.Context, []streams.Record) error { return errors.New("always failing") })
		}()
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume() cancelled in backoff: error = %v, want nil", err)
		}
		if cps, _ := m.Checkpoints(t.Context(), "g"); len(cps) != 0 {
			t.Errorf("checkpoints after failures only = %v, want none", cps)
		}
	})
}

// The loader pattern: the sink keeps its checkpoint with its rows, Consume starts from
// it and only tells the stream.
func TestMultiCheckpointerSinkOwnsCheckpoint(t *testing.T) {
	m := newMemory(t, func(c *streams.MemoryConfig) { c.Shards = 2; c.ConsumerGroups = []string{"sqlite"} })
	res := putN(t, m, 40)
	// The sink already stored the first ten records of each shard in an earlier run.
	sink := &mapCheckpointer{}
	seen := make(map[string]int)
	skipped := make(map[string]bool)
	for _, r := range res {
		if seen[r.ShardID]++; seen[r.ShardID] == 10 {
			sink.Checkpoint(t.Context(), "sqlite", r.ShardID, r.SequenceNumber)
		}
		if seen[r.ShardID] <= 10 {
			skipped[r.SequenceNumber] = true
		}
	}
	sink.calls = 0

	var mu sync.Mutex
	handled, handlerCheckpoints := 0, 0
	h := func(ctx context.Context, recs []streams.Record) error {
		mu.Lock()
		defer mu.Unlock()
		handlerCheckpoints++
		for _, r := range recs {
			if skipped[r.SequenceNumber] {
				t.Errorf("handler got %s, before the sink's checkpoint", r.SequenceNumber)
			}
		}
		handled += len(recs)
		// "In the same transaction as the rows."
		return sink.Checkpoint(ctx, "sqlite", recs[0].ShardID, recs[len(recs)-1].SequenceNumber)
	}
	cp := streams.MultiCheckpointer{From: sink, To: []streams.Checkpointer{m}}
	err := streams.Consume(t.Context(), m, cp, streams.ConsumeOptions{Group: "sqlite", BatchSize: 3, Drain: closedChan()}, h)
	if err != nil {
		t.Fatalf("Consume() error: %v", err)
	}
	if handled != 20 || sink.calls != handlerCheckpoints {
		t.Errorf("handled %d records, sink checkpointed %d times by %d handler calls; want 20, only by the handler", handled, sink.calls, handlerCheckpoints)
	}
	streamCPs, _ := m.Checkpoints(t.Context(), "sqlite")
	if diff := cmp.Diff(lastPerShard(res), streamCPs); diff != "" {
		t.Errorf("stream checkpoints (-want +got):\n%s", diff)
	}
	if lag := m.Lag("sqlite"); lag != 0 {
		t.Errorf("Lag(sqlite) = %d after the sink caught up, want 0", lag)
	}
}

type failingCheckpointer struct{ err error }

func (f failingCheckpointer) Checkpoint(context.Context, string, string, string) error { return f.err }
func (f failingCheckpointer) Checkpoints(context.Context, string) (map[string]string, error) {
	return nil, f.err
}

func TestMultiCheckpointerStopsAtFirstError(t *testing.T) {
	first, last := &mapCheckpointer{}, &mapCheckpointer{}
	boom := errors.New("boom")
	cp := streams.MultiCheckpointer{From: first, To: []streams.Checkpointer{first, failingCheckpointer{boom}, last}}
	if err := cp.Checkpoint(t.Context(), "g", "s", "1"); !errors.Is(err, boom) {
		t.Errorf("Checkpoint() error = %v, want %v", err, boom)
	}
	got, err := cp.Checkpoints(t.Context(), "g")
	if diff := cmp.Diff(map[string]string{"s": "1"}, got); diff != "" || err != nil {
		t.Errorf("Checkpoints() = %v, %v; want From's checkpoints (-want +got):\n%s", got, err, diff)
	}
	if last.calls != 0 {
		t.Errorf("Checkpointer after the failing one called %d times, want 0", last.calls)
	}
}
