package streams_test

import (
	"bytes"
	"context"
	"fmt"
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

func benchMemory(b *testing.B, shards int) *streams.Memory {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = "bench"
	cfg.Shards = shards
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
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
	pos := streams.Position{Type: streams.TrimHorizon}
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
						handled.Add(int64(len(recs)))
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
