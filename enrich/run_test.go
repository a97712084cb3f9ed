package enrich

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

func newMemory(t *testing.T, name string, groups ...string) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = name
	cfg.ConsumerGroups = groups
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		t.Fatalf("NewMemory(%s): %v", name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// readAll returns every record of every shard of s.
func readAll(t *testing.T, s streams.Stream) []streams.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []streams.Record
	for _, sh := range shards {
		pos := streams.Position{Type: streams.TrimHorizon}
		for {
			recs, next, err := s.Read(ctx, sh.ID, pos, 1000, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			out = append(out, recs...)
			pos = next
		}
	}
	return out
}

type recordingObserver struct {
	mu  sync.Mutex
	ids []string
	// kept are the TSV lines observed, as handed over (the observer may keep them),
	// and copies of them made when observed.
	kept, copies [][]byte
}

func (o *recordingObserver) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent, tsv []byte, _ *event.Entities) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids = append(o.ids, ev.Fields[event.EventID])
	o.kept = append(o.kept, tsv)
	o.copies = append(o.copies, bytes.Clone(tsv))
}

// checkKept checks that the TSV lines observed are unchanged, and that the enriched
// stream holds that very memory (no copy), as enrich.Observer says.
func (o *recordingObserver) checkKept(t *testing.T, recs []streams.Record) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	put := make(map[*byte]bool, len(recs))
	for _, r := range recs {
		put[unsafe.SliceData(r.Data)] = true
	}
	for i, line := range o.kept {
		if !bytes.Equal(line, o.copies[i]) {
			t.Fatalf("observed TSV line %d changed after it was handed over:\n%s\nwas\n%s", i, line, o.copies[i])
		}
		if !put[unsafe.SliceData(line)] {
			t.Errorf("observed TSV line %d is not the memory of a record on the enriched stream", i)
		}
	}
}

// TestRunDrains puts good and bad records on the raw stream, runs enrich, drains it, and
// checks that every output is on its stream, the checkpoints are stored and the observer
// saw every good event.
func TestRunDrains(t *testing.T) {
	raw := newMemory(t, streams.Raw, ConsumerGroup)
	enriched := newMemory(t, streams.Enriched)
	bad := newMemory(t, streams.Bad1)
	obs := &recordingObserver{}
	reg := prometheus.NewRegistry()
	e := newTestEnricher(t, testResolver(t), func(c *Config, d *Deps) {
		c.BatchSize = 7
		c.Workers = 3
		d.Raw, d.Enriched, d.Bad, d.Checkpointer = raw, enriched, bad, raw
		d.Observer = obs
		d.Registerer = reg
	})

	ctx := context.Background()
	const n = 40
	var entries []streams.Entry
	for i := range n {
		q := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}}
		if i%4 == 3 {
			q.Set("dtm", "not-a-time")
		}
		entries = append(entries, streams.Entry{PartitionKey: strings.Repeat("k", i%5+1), Data: encodePayload(t, collectorPayload(get("/i", q)))})
	}
	entries = append(entries, streams.Entry{PartitionKey: "garbage", Data: []byte("garbage")})
	if _, err := raw.Put(ctx, entries); err != nil {
		t.Fatal(err)
	}

	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the drain")
	}

	goodRecs := readAll(t, enriched)
	badRecs := readAll(t, bad)
	if got, want := len(goodRecs), n-n/4; got != want {
		t.Errorf("enriched records = %d, want %d", got, want)
	}
	if got, want := len(badRecs), n/4+1; got != want {
		t.Errorf("bad records = %d, want %d", got, want)
	}
	var ids []string
	for _, r := range goodRecs {
		ev, err := event.ParseTSV(r.Data)
		if err != nil {
			t.Fatalf("enriched record is not TSV: %v", err)
		}
		if r.PartitionKey != ev.Fields[event.EventID] {
			t.Errorf("partition key %q, want the event id %q", r.PartitionKey, ev.Fields[event.EventID])
		}
		ids = append(ids, ev.Fields[event.EventID])
	}
	slices.Sort(ids)
	obs.mu.Lock()
	seen := slices.Clone(obs.ids)
	obs.mu.Unlock()
	slices.Sort(seen)
	if !slices.Equal(ids, seen) {
		t.Errorf("observer saw %d events, the stream holds %d", len(seen), len(ids))
	}
	obs.checkKept(t, goodRecs)
	cps, err := raw.Checkpoints(ctx, ConsumerGroup)
	if err != nil || len(cps) == 0 {
		t.Errorf("checkpoints = %v, %v; want one per shard read", cps, err)
	}
	if lag := raw.Lag(ConsumerGroup); lag != 0 {
		t.Errorf("lag after drain = %d, want 0", lag)
	}
	if got := counterValue(t, e.m.good); got != float64(len(goodRecs)) {
		t.Errorf("good metric = %v, want %d", got, len(goodRecs))
	}
	if got := counterValue(t, e.m.bad("schema_violations")); got != n/4 {
		t.Errorf("schema_violations metric = %v, want %d", got, n/4)
	}
	if got := counterValue(t, e.m.records); got != n+1 {
		t.Errorf("records metric = %v, want %d", got, n+1)
	}

	// Shutdown before Run: Run processes what is there and returns.
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run after Shutdown: %v", err)
	}
}

func TestRunNeedsStreams(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), nil)
	if err := e.Run(context.Background()); err != ErrNoStreams {
		t.Errorf("Run without streams = %v, want ErrNoStreams", err)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// TestRunReusesBuffers runs records of many and few fields, and of many and one event,
// through Run, whose batches reuse the buffers of earlier ones, and checks every line
// against Process on fresh buffers.
func TestRunReusesBuffers(t *testing.T) {
	raw := newMemory(t, streams.Raw, ConsumerGroup)
	enriched := newMemory(t, streams.Enriched)
	bad := newMemory(t, streams.Bad1)
	e := newTestEnricher(t, testResolver(t), func(c *Config, d *Deps) {
		c.BatchSize = 1
		c.Workers = 1
		d.Raw, d.Enriched, d.Bad, d.Checkpointer = raw, enriched, bad, raw
	})
	rich := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "aid": {"app"}, "uid": {"user"}, "url": {"http://a.test/p?q=1"},
		"page": {"Title"}, "refr": {"http://b.test/"}, "dtm": {"1795313286477"}, "lang": {"en"}, "res": {"10x20"}}
	var body strings.Builder
	body.WriteString(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[`)
	for i := range 5 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"e":"se","p":"web","tv":"t","se_ca":"c","se_ac":"a","eid":"00000000-0000-4000-8000-00000000010` + string(rune('0'+i)) + `"}`)
	}
	body.WriteString(`]}`)
	reqs := []request{
		post("/com.snowplowanalytics.snowplow/tp2", "", "application/json", body.String()),
		get("/i", with(rich, "eid", "00000000-0000-4000-8000-000000000201")),
		get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "eid": {"00000000-0000-4000-8000-000000000202"}}),
		post("/com.snowplowanalytics.snowplow/tp2", "", "application/json", body.String()),
		get("/i", url.Values{"e": {"pp"}, "p": {"app"}, "tv": {"t"}, "eid": {"00000000-0000-4000-8000-000000000203"}}),
	}
	ctx := context.Background()
	want := map[string]string{}
	for i, r := range reqs {
		rec := encodePayload(t, collectorPayload(r))
		for _, g := range process(t, e, rec).Good {
			want[g.Event.Fields[event.EventID]] = string(g.TSV)
		}
		if _, err := raw.Put(ctx, []streams.Entry{{PartitionKey: "k", Data: rec}}); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]string{}
	for _, r := range readAll(t, enriched) {
		ev, err := event.ParseTSV(r.Data)
		if err != nil {
			t.Fatalf("enriched record is not TSV: %v", err)
		}
		got[ev.Fields[event.EventID]] = string(r.Data)
	}
	if len(want) != 8 { // the two POSTs carry the same five event ids
		t.Fatalf("Process gave %d distinct events, want 8", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Run's lines differ from Process's (-Process +Run):\n%s", diff)
	}
}

func with(q url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// fullOnce is a stream whose first Puts find it full, as a bad-1 stream at its bound
// does until the loaders catch up.
type fullOnce struct {
	streams.Stream
	mu      sync.Mutex
	refuses int
}

func (f *fullOnce) Put(ctx context.Context, entries []streams.Entry) ([]streams.PutResult, error) {
	f.mu.Lock()
	refuse := f.refuses > 0
	if refuse {
		f.refuses--
	}
	f.mu.Unlock()
	if refuse {
		return nil, fmt.Errorf("%w: test", streams.ErrFull)
	}
	return f.Stream.Put(ctx, entries)
}

// TestRunFullBadStreamPutsGoodOnce checks that a full bad-1 stream delays enrich
// without putting the batch's good events a second time: before the fix, the whole
// batch was handled again and its enriched records were put twice.
func TestRunFullBadStreamPutsGoodOnce(t *testing.T) {
	raw := newMemory(t, streams.Raw, ConsumerGroup)
	enriched := newMemory(t, streams.Enriched)
	bad := &fullOnce{Stream: newMemory(t, streams.Bad1), refuses: 3}
	e := newTestEnricher(t, testResolver(t), func(c *Config, d *Deps) {
		c.BatchSize = 10
		c.Workers = 1
		d.Raw, d.Enriched, d.Bad, d.Checkpointer = raw, enriched, bad, raw
	})
	ctx := context.Background()
	const n = 10
	var entries []streams.Entry
	for i := range n {
		q := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}}
		if i%2 == 1 {
			q.Set("dtm", "not-a-time")
		}
		entries = append(entries, streams.Entry{PartitionKey: "k", Data: encodePayload(t, collectorPayload(get("/i", q)))})
	}
	if _, err := raw.Put(ctx, entries); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := len(readAll(t, enriched)), n/2; got != want {
		t.Errorf("enriched records = %d, want %d (each good event once)", got, want)
	}
	if got, want := len(readAll(t, bad.Stream)), n/2; got != want {
		t.Errorf("bad records = %d, want %d", got, want)
	}
}
