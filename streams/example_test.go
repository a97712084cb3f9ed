package streams_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

func ExampleMemory() {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = streams.Raw
	cfg.ConsumerGroups = []string{"enrich"}
	raw, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer raw.Close()
	ctx := context.Background()

	res, err := raw.Put(ctx, []streams.Entry{{PartitionKey: "a", Data: []byte("first")}, {PartitionKey: "a", Data: []byte("second")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	recs, next, err := raw.Read(ctx, res[0].ShardID, streams.Position{Type: streams.TrimHorizon}, 10, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		fmt.Printf("%s %s\n", r.ShardID, r.Data)
	}
	fmt.Println(next.SequenceNumber == res[1].SequenceNumber, raw.Lag("enrich"))
	// Output:
	// shardId-000000000000 first
	// shardId-000000000000 second
	// true 2
}

func ExampleConsume() {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = streams.Enriched
	cfg.ConsumerGroups = []string{"stdout"}
	enriched, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer enriched.Close()
	ctx := context.Background()
	if _, err := enriched.Put(ctx, []streams.Entry{{PartitionKey: "user-1", Data: []byte("event 1")}, {PartitionKey: "user-1", Data: []byte("event 2")}}); err != nil {
		fmt.Println(err)
		return
	}

	// Drain: consume what is on the stream, then return. A stage closes Drain from
	// its Shutdown instead.
	drain := make(chan struct{})
	close(drain)
	var mu sync.Mutex
	err = streams.Consume(ctx, enriched, enriched, streams.ConsumeOptions{Group: "stdout", Drain: drain},
		func(ctx context.Context, records []streams.Record) error {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range records {
				fmt.Println(string(r.Data))
			}
			return nil
		})
	fmt.Println(err, enriched.Lag("stdout"))
	// Output:
	// event 1
	// event 2
	// <nil> 0
}
