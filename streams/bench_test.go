package streams_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// A raw-stream record: a Thrift CollectorPayload of a typical tracker POST is ~3 KB.
const recordSize = 3 << 10

func benchEntries(n int) []streams.Entry {
	entries := make([]streams.Entry, n)
	for i := range entries {
		entries[i] = streams.Entry{
			PartitionKey: fmt.Sprintf("c6ef3124-b53a-4b13-a233-%012d", i),
			Data:         bytes.Repeat([]byte{'x'}, recordSize),
		}
	}
	return entries
}

// benchMemory returns a stream with the default retention, already filled to it twice,
// so that benchmarks measure the steady state (memory recycled by retention and the
// garbage collector) rather than the process's heap growing.
func benchMemory(b *testing.B, shards int) *streams.Memory {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "bench"
	cfg.Shards = shards
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	entries := benchEntries(500)
	for i := range entries {
		entries[i].PartitionKey = "warm-" + entries[i].PartitionKey
	}
	for put := int64(0); put < 2*cfg.MaxBytes; put += 500 * recordSize {
		if _, err := m.Put(context.Background(), entries); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

// BenchmarkMemoryPut: one op is one Put; retention drops old records as it goes.
func BenchmarkMemoryPut(b *testing.B) {
	for _, batch := range []int{1, 500} {
		b.Run(fmt.Sprint("batch=", batch), func(b *testing.B) {
			m := benchMemory(b, 2)
			entries := benchEntries(batch)
			b.SetBytes(int64(batch * recordSize))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.Put(context.Background(), entries); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMemoryHandoff: one op is a 3 KB record put and read back.
func BenchmarkMemoryHandoff(b *testing.B) {
	m := benchMemory(b, 1)
	entries := benchEntries(1)
	ctx := context.Background()
	_, pos, err := m.Read(ctx, "shardId-000000000000", streams.Position{Type: streams.Latest}, 10, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(recordSize)
	b.ReportAllocs()
	for b.Loop() {
		res, err := m.Put(ctx, entries)
		if err != nil {
			b.Fatal(err)
		}
		recs, next, err := m.Read(ctx, res[0].ShardID, pos, 10, 0)
		if err != nil || len(recs) != 1 {
			b.Fatalf("Read() = %d records, %v", len(recs), err)
		}
		pos = next
	}
}

// BenchmarkConsume: one op is one 3 KB record going from a producer goroutine through
// Consume to a handler (which checkpoints every batch), with 2 shards.
func BenchmarkConsume(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprint("putBatch=", batch), func(b *testing.B) {
			m := benchMemory(b, 2)
			entries := benchEntries(batch)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var handled atomic.Int64
			done := make(chan error, 1)
			drain := make(chan struct{})
			go func() {
				done <- streams.Consume(ctx, m, m, streams.ConsumeOptions{Group: "bench", Drain: drain},
					func(_ context.Context, recs []streams.Record) error {
						for _, r := range recs {
							if !strings.HasPrefix(r.PartitionKey, "warm-") {
								handled.Add(1)
							}
						}
						return nil
					})
			}()
			b.SetBytes(recordSize)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if n%batch == 0 {
					if _, err := m.Put(ctx, entries); err != nil {
						b.Fatal(err)
					}
				}
				n++
			}
			close(drain)
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			if want := int64((n + batch - 1) / batch * batch); handled.Load() != want {
				b.Fatalf("handled %d records, want %d", handled.Load(), want)
			}
		})
	}
}

// BenchmarkBaselineChannel is the floor the stream is measured against: a 3 KB record
// copied and handed to another goroutine over a channel, the receiver keeping about as
// much as the stream retains by default (DefaultMemoryConfig's MaxBytes). Compare it with BenchmarkConsume in
// the same run; this machine's absolute numbers vary.
func BenchmarkBaselineChannel(b *testing.B) {
	ch := make(chan []byte, 1024)
	data := bytes.Repeat([]byte{'x'}, recordSize)
	done := make(chan struct{})
	kept := make([][]byte, streams.DefaultMemoryConfig().MaxBytes/recordSize)
	for i := range 2 * len(kept) {
		kept[i%len(kept)] = bytes.Clone(data)
	}
	go func() {
		defer close(done)
		i := 0
		for d := range ch {
			kept[i%len(kept)] = d
			i++
		}
	}()
	b.SetBytes(recordSize)
	b.ReportAllocs()
	for b.Loop() {
		ch <- bytes.Clone(data)
	}
	close(ch)
	<-done
}
