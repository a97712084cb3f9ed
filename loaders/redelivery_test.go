package loaders

import (
	"context"
	"fmt"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// A shard's records handed to the sink again (by the loader that takes a lease over,
// overlapping what the previous holder committed, or by a stale holder committing
// late) are recognised by their positions and not loaded twice.
func TestSinkSkipsRedeliveredPositions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		rs := startSink(t, cfg, dir, p)
		tsv := testTSV(8, "redelivered")
		batch := func(from, to int) []streams.Record { // positions from..to, 1-based
			var recs []streams.Record
			for i := from; i <= to; i++ {
				recs = append(recs, streams.Record{ShardID: "shardId-000000000007", SequenceNumber: fmt.Sprint(i), Data: tsv[i-1], PartitionKey: "k"})
			}
			return recs
		}
		h := rs.handleEnriched(streams.Enriched)
		ctx := context.Background()
		for _, b := range [][2]int{{1, 5}, {3, 8}, {2, 4}, {8, 8}} {
			if err := h(ctx, batch(b[0], b[1])); err != nil {
				t.Fatalf("handling positions %d..%d: %v", b[0], b[1], err)
			}
		}
		if c := rs.count(t, "redelivered"); c.Good != 8 {
			t.Errorf("events loaded = %d, want 8 (each position once)", c.Good)
		}
		cps, err := rs.store.checkpoints(ctx, cfg.Group, streams.Enriched)
		if err != nil {
			t.Fatal(err)
		}
		if got := cps["shardId-000000000007"]; got != "8" {
			t.Errorf("stored checkpoint = %q, want 8", got)
		}
	})
}
