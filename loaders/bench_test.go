package loaders

import (
	"cmp"
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// cpuTime returns the CPU time (user and system) the process has used. The machine
// the benchmarks run on is shared, so CPU per event is a steadier figure than
// events per wall-clock second.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRates reports events/s and CPU microseconds per event.
func reportRates(b *testing.B, events int64, cpuStart time.Duration) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime(b)-cpuStart).Microseconds())/float64(events), "cpu-µs/event")
}

// benchSink loads realistic events (page views with web_page, client_session and the
// ua_parser derived context; link clicks with web_page and the link_click event) through
// a running sink: from the enriched stream to committed rows. It reports events/s. With
// observe, every event is handed over first (ObserveGood), as enrich does in-process.
// Each operation loads events of its own (a record the store already holds would be
// taken for a replay and not stored again); making them is not counted.
func benchSink(b *testing.B, cfg SinkConfig, dir string, observe bool) {
	const perOp = 10_000
	// The sink's group is declared, as serve declares it: the stream keeps what the
	// sink has not read (a Put waits for room) instead of dropping the oldest records.
	p := newPipeline(b, cmp.Or(cfg.Group, DefaultSinkConfig().Group))
	var lines [][]byte
	var evs []*event.EnrichedEvent // kept only when observing: they are live heap
	var ents []*event.Entities
	var genCPU time.Duration
	gen := func(op int) {
		b.StopTimer()
		defer b.StartTimer()
		start := cpuTime(b)
		lines = lines[:0]
		evs, ents = evs[:0], ents[:0]
		for i := range perOp {
			ev := testEvent(op*perOp+i, "bench")
			lines = append(lines, ev.MarshalTSV())
			if observe {
				evs = append(evs, ev)
				ents = append(ents, testEntities(b, ev))
			}
		}
		genCPU += cpuTime(b) - start
	}
	reg := prometheus.NewRegistry()
	s := startSinkWith(b, cfg, Deps{Streams: p.inputs(), DataDir: dir, Logger: testLogger(b), Registerer: reg})
	ctx := context.Background()
	var loaded int64
	cpu := cpuTime(b)
	for op := 0; b.Loop(); op++ {
		gen(op)
		for i, ev := range evs {
			s.ObserveGood(nil, ev, lines[i], ents[i])
		}
		put(b, p.enriched, lines...)
		loaded += perOp
		for {
			c, err := s.Count(ctx, "")
			if err != nil {
				b.Fatal(err)
			}
			if c.Good >= loaded {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	cpu += genCPU
	reportRates(b, loaded, cpu)
	// How much of the time the writer was committing: below 100%, loading is limited
	// by how fast batches reach it rather than by the database.
	mfs, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "snowplow_mini_sink_transaction_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			b.ReportMetric(100*h.GetSampleSum()/b.Elapsed().Seconds(), "writer-busy-%")
			b.ReportMetric(float64(loaded)/float64(h.GetSampleCount()), "rows/tx")
		}
	}
}

func BenchmarkSQLiteSink(b *testing.B) {
	cfg := DefaultSinkConfig()
	cfg.Retention.MaxRows = 0
	if v := os.Getenv("BENCH_TX_ROWS"); v != "" {
		cfg.MaxTransactionRows, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("BENCH_READ"); v != "" {
		cfg.ReadBatchSize, _ = strconv.Atoi(v)
	}
	benchSink(b, cfg, b.TempDir(), false)
}

// BenchmarkSQLiteSinkObserved is BenchmarkSQLiteSink with the events handed over by
// enrich first, as in the single process.
func BenchmarkSQLiteSinkObserved(b *testing.B) {
	cfg := DefaultSinkConfig()
	cfg.Retention.MaxRows = 0
	benchSink(b, cfg, b.TempDir(), true)
}

func BenchmarkPostgresSink(b *testing.B) {
	u := postgresURL(b)
	cfg := DefaultSinkConfig()
	cfg.URL = u
	cfg.Schema = postgresSchema(b, u)
	cfg.Retention.MaxRows = 0
	benchSink(b, cfg, b.TempDir(), false)
}

// BenchmarkSQLiteWrite measures the writer alone: one 1,000-row transaction of
// prepared rows per operation.
func BenchmarkSQLiteWrite(b *testing.B) {
	st := openBenchSQLite(b)
	benchWrite(b, st, testBatch(b, st, testTSV(1000, "bench"), nil))
}

// openBenchSQLite returns an open SQLite event store in a temporary folder.
func openBenchSQLite(b *testing.B) *sqliteStore {
	st, err := newSQLiteStore(b.TempDir()+"/events.db", testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.close() })
	if err := st.open(context.Background()); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchWrite writes batch as one transaction per operation and reports rows/s and CPU.
func benchWrite(b *testing.B, st *sqliteStore, batch *txBatch) {
	ctx := context.Background()
	cpu := cpuTime(b)
	for b.Loop() {
		batch.loadTstamp = time.Now()
		if err := st.write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, int64(b.N*len(batch.events)), cpu)
}

// BenchmarkPrepareEvent measures what a handler does per record before the writer:
// parse the TSV, extract the wide-row columns, convert the values (and recycle the row).
func BenchmarkPrepareEvent(b *testing.B) {
	st, err := newSQLiteStore(b.TempDir()+"/events.db", testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	s := &Sink{store: st, raws: newPendingRaw(nil)}
	lines := testTSV(64, "bench")
	memo := new(valueMemo) // as a handler uses one per batch
	i := 0
	for b.Loop() {
		row, bad := s.prepareEvent(&streams.Record{Data: lines[i%len(lines)]}, memo)
		if bad != nil {
			b.Fatal("bad row")
		}
		s.recycle(row) // as a handler does once the row is committed
		i++
	}
}

// BenchmarkPrepareObservedEvent is BenchmarkPrepareEvent for events enrich handed over
// first (ObserveGood, which it includes): their lines are not checked again.
func BenchmarkPrepareObservedEvent(b *testing.B) {
	st, err := newSQLiteStore(b.TempDir()+"/events.db", testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.close()
	s := &Sink{store: st, raws: newPendingRaw(nil)}
	const n = 64
	evs := make([]*event.EnrichedEvent, n)
	ents := make([]*event.Entities, n)
	lines := make([][]byte, n)
	for i := range evs {
		evs[i] = testEvent(i, "bench")
		ents[i] = testEntities(b, evs[i])
		lines[i] = evs[i].MarshalTSV()
	}
	memo := new(valueMemo)
	i := 0
	for b.Loop() {
		s.ObserveGood(nil, evs[i%n], lines[i%n], ents[i%n])
		row, bad := s.prepareEvent(&streams.Record{Data: lines[i%n]}, memo)
		if bad != nil {
			b.Fatal("bad row")
		}
		s.recycle(row)
		i++
	}
}

// BenchmarkWideColumns measures the extraction of the wide-row columns alone.
func BenchmarkWideColumns(b *testing.B) {
	ev := testEvent(1, "bench")
	var names columnNames
	for b.Loop() {
		if _, err := wideColumns(&names, ev.Fields[event.Contexts], ev.Fields[event.UnstructEvent], ev.Fields[event.DerivedContexts]); err != nil {
			b.Fatal(err)
		}
	}
}
