package loaders

import (
	"context"
	"fmt"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
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

// With DropReprocessed, an event enriched again (a later etl_tstamp, all else equal)
// is not loaded a second time; the same event collected twice (another
// collector_tstamp) is.
func TestSinkDropsReprocessedEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		cfg.DropReprocessed = true
		p := newPipeline(t)
		rs := startSink(t, cfg, dir, p)
		var data [][]byte
		for i := range 3 {
			data = append(data, testEvent(i, "reprocessed").MarshalTSV())
		}
		for i := range 3 { // enriched again, a second later
			ev := testEvent(i, "reprocessed")
			ev.Fields[event.EtlTstamp] = "2030-01-01 00:00:01.000"
			data = append(data, ev.MarshalTSV())
		}
		again := testEvent(0, "reprocessed") // collected again
		again.Fields[event.CollectorTstamp] = "2030-01-01 00:00:02.000"
		data = append(data, again.MarshalTSV())
		h := rs.handleEnriched(streams.Enriched)
		for i, d := range data {
			rec := streams.Record{ShardID: "shardId-000000000001", SequenceNumber: fmt.Sprint(i + 1), Data: d, PartitionKey: "k"}
			if err := h(context.Background(), []streams.Record{rec}); err != nil {
				t.Fatalf("handling record %d: %v", i+1, err)
			}
		}
		if c := rs.count(t, "reprocessed"); c.Good != 4 {
			t.Errorf("events loaded = %d, want 4 (3 events, none of the 3 re-enriched copies, the one collected again)", c.Good)
		}
	})
}
