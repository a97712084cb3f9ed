package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// ConsumerGroup is the consumer group enrich reads the raw stream as.
const ConsumerGroup = "enrich"

// ErrNoStreams is returned by Run when Deps lacked the streams or the checkpointer.
var ErrNoStreams = errors.New("enrich: raw, enriched and bad streams and a checkpointer are required to run")

// Observer is told about every good event just before it is put on the enriched stream
// (the event store keeps the raw request of each event this way: the enriched TSV does
// not carry it), with the TSV line that is put (ev.AppendTSV) and the entities of its
// JSON fields. An event whose put fails is observed again when its record is retried.
// It is called from several goroutines and must not keep or modify raw, ev or ents
// after returning. It may keep tsv but not modify it: enrich never changes a TSV line
// once made, and puts that very memory on the stream (streams.Entry.Immutable).
type Observer interface {
	ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent, tsv []byte, ents *event.Entities)
}

// Deps are enrich's collaborators.
type Deps struct {
	// Logger receives operational messages (never one per event above Debug). Nil
	// discards them.
	Logger *slog.Logger
	// Registerer receives enrich's metrics. Nil registers none.
	Registerer prometheus.Registerer
	// Resolver validates self-describing JSON against Iglu schemas. Required.
	Resolver Resolver
	// Raw, Enriched and Bad are the streams enrich reads (raw) and writes (enriched TSV,
	// bad rows to bad-1), and Checkpointer stores its progress on Raw. Required by Run;
	// Process works without them.
	Raw, Enriched, Bad streams.Stream
	Checkpointer       streams.Checkpointer
	// Enrichments are the configured enrichments. Nil runs none.
	Enrichments Enrichments
	// Observer is told about good events. Optional.
	Observer Observer
	// Now is the clock for etl_tstamp and bad-row timestamps. Default time.Now.
	Now func() time.Time
	// NewEventID returns a fresh event_id for events without eid (and random partition
	// keys). Default a random UUIDv4.
	NewEventID func() string
	// Version is the snowplow-mini version, in v_etl (snowplow-mini-enrich-<version>) and
	// in bad rows. Required.
	Version string
	// KeyBySource writes every output record under streams.SourceKey of the raw record
	// it comes from (its position and the output's index) instead of
	// Config.PartitionKey, so that a loader recognises the outputs of a raw record that
	// enrich processes again after a crash (durable streams).
	KeyBySource bool
}

// Enricher is the enrich stage. Create it with New, then call Run; Shutdown drains it.
type Enricher struct {
	p        *pipeline
	log      *slog.Logger
	cfg      Config
	raw      streams.Stream
	enriched streams.Stream
	bad      streams.Stream
	cp       streams.Checkpointer
	observer Observer
	bySource bool
	sem      chan struct{} // bounds concurrent Process calls across shards
	bufs     sync.Pool     // of *recordBufs, reused once their batch is written
	m        *metrics

	drainOnce sync.Once
	drain     chan struct{}
	runMu     sync.Mutex
	running   chan struct{} // closed when the current Run returns; nil when not running
}

// New checks cfg and deps and builds an enricher. It starts nothing.
func New(cfg Config, deps Deps) (*Enricher, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Resolver == nil {
		errs = append(errs, errors.New("enrich: a resolver is required"))
	}
	if deps.Version == "" {
		errs = append(errs, errors.New("enrich: version is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	newID := deps.NewEventID
	if newID == nil {
		newID = uuid.NewString
	}
	p := &pipeline{
		resolver:             deps.Resolver,
		enrichments:          deps.Enrichments,
		now:                  now,
		newEventID:           newID,
		processor:            badrow.Processor{Artifact: Artifact, Version: deps.Version},
		vEtl:                 Artifact + "-" + deps.Version,
		maxDepth:             cfg.MaxJSONDepth,
		acceptInvalid:        cfg.AcceptInvalid,
		maxRecord:            streams.MaxRecordBytes,
		ipRe:                 newIPHeaderRegexps(),
		collectorCriterion:   criterion1_0("com.snowplowanalytics.snowplow", "CollectorPayload", "thrift"),
		payloadDataCriterion: criterion1_0("com.snowplowanalytics.snowplow", "payload_data", "jsonschema"),
		contextsCriterion:    criterion1_0("com.snowplowanalytics.snowplow", "contexts", "jsonschema"),
		unstructCriterion:    criterion1_0("com.snowplowanalytics.snowplow", "unstruct_event", "jsonschema"),
		payloadDataKeys:      payloadDataKeys(),
	}
	p.partition, _ = event.FieldByName(cfg.PartitionKey)
	for i := range p.limits {
		f := event.Field(i)
		p.limits[i] = f.MaxLength()
		if n, ok := cfg.AtomicFieldsLimits[f.Name()]; ok {
			p.limits[i] = n
		}
	}
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	p.verdicts = newVerdicts(deps.Resolver, cfg.ValidationCacheSize, m.verdictHits, m.verdictMisses)
	p.textValidator, _ = deps.Resolver.(textValidator)
	return &Enricher{
		p:        p,
		log:      log.With("component", "enrich"),
		cfg:      cfg,
		raw:      deps.Raw,
		enriched: deps.Enriched,
		bad:      deps.Bad,
		cp:       deps.Checkpointer,
		observer: deps.Observer,
		bySource: deps.KeyBySource,
		sem:      make(chan struct{}, workers),
		m:        m,
		drain:    make(chan struct{}),
	}, nil
}

// Process enriches one raw record (a Thrift CollectorPayload) without touching any stream:
// the good events with their TSV lines and the bad rows it becomes. It is safe for
// concurrent use. The error is operational only (ctx done, an enrichment or the resolver
// failing to run); invalid input gives bad rows, never an error.
func (e *Enricher) Process(ctx context.Context, record []byte) (Result, error) {
	return e.p.process(ctx, record, nil)
}

// Run consumes the raw stream as consumer group "enrich" until ctx is done (it returns
// nil), Shutdown's drain completes (nil), or a stream fails permanently (the error).
// Outputs of a batch are written before its checkpoint is stored (at-least-once).
func (e *Enricher) Run(ctx context.Context) error {
	if e.raw == nil || e.enriched == nil || e.bad == nil || e.cp == nil {
		return ErrNoStreams
	}
	e.runMu.Lock()
	if e.running != nil {
		e.runMu.Unlock()
		return errors.New("enrich: already running")
	}
	done := make(chan struct{})
	e.running = done
	e.runMu.Unlock()
	defer func() {
		e.runMu.Lock()
		e.running = nil
		e.runMu.Unlock()
		close(done)
	}()

	e.log.Info("enrich started", "stream", e.raw.Name(), "workers", cap(e.sem), "batch_size", e.cfg.BatchSize)
	err := streams.Consume(ctx, e.raw, e.cp, streams.ConsumeOptions{
		Group:     ConsumerGroup,
		BatchSize: e.cfg.BatchSize,
		Drain:     e.drain,
		Logger:    e.log,
	}, e.handle)
	if err != nil {
		return fmt.Errorf("enrich: %w", err)
	}
	e.log.Info("enrich stopped")
	return nil
}

// Shutdown asks Run to process what is already on the raw stream and return, and waits
// for that until ctx is done.
func (e *Enricher) Shutdown(ctx context.Context) error {
	e.drainOnce.Do(func() { close(e.drain) })
	e.runMu.Lock()
	done := e.running
	e.runMu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("enrich: waiting for the drain: %w", ctx.Err())
	}
}

// handle enriches one batch of raw records in parallel, writes the outputs, and only
// then lets Consume checkpoint.
func (e *Enricher) handle(ctx context.Context, recs []streams.Record) error {
	results := make([]Result, len(recs))
	bufs := make([]*recordBufs, len(recs))
	defer func() {
		for _, b := range bufs {
			if b != nil {
				e.bufs.Put(b)
			}
		}
	}()
	// A few long-lived workers rather than a goroutine per record: a record's stack
	// then grows once per batch, not once per record.
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(cap(e.sem), len(recs)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(recs) {
					return nil
				}
				select {
				case e.sem <- struct{}{}:
				case <-gctx.Done():
					return gctx.Err()
				}
				b, _ := e.bufs.Get().(*recordBufs)
				if b == nil {
					b = &recordBufs{}
				}
				bufs[i] = b
				start := time.Now()
				r, err := e.p.process(gctx, recs[i].Data, b)
				e.m.seconds.Observe(time.Since(start).Seconds())
				<-e.sem
				if err != nil {
					return err
				}
				results[i] = r
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	nGood, nBad := 0, 0
	for _, r := range results {
		nGood += len(r.Good)
		nBad += len(r.Bad)
	}
	good := make([]streams.Entry, 0, nGood)
	var bad []streams.Entry
	if nBad > 0 {
		bad = make([]streams.Entry, 0, nBad)
	}
	for i, r := range results {
		k := 0
		for _, gd := range r.Good {
			pk := gd.PartitionKey
			if e.bySource {
				pk = streams.SourceKey(recs[i].ShardID, recs[i].SequenceNumber, k)
				k++
			}
			good = append(good, streams.Entry{PartitionKey: pk, Data: gd.TSV, Immutable: true})
		}
		for _, b := range r.Bad {
			pk := ""
			if e.bySource {
				pk = streams.SourceKey(recs[i].ShardID, recs[i].SequenceNumber, k)
				k++
			} else {
				pk = e.p.newEventID()
			}
			bad = append(bad, streams.Entry{PartitionKey: pk, Data: b.JSON})
		}
	}
	// The observer hears of an event before it goes on the enriched stream, so that
	// what it keeps (the sink: the raw request) is there when a reader of the stream
	// gets the event.
	if e.observer != nil {
		for _, r := range results {
			for j := range r.Good {
				gd := &r.Good[j]
				e.observer.ObserveGood(gd.Raw, gd.Event, gd.TSV, &gd.Entities)
			}
		}
	}
	if err := putAll(ctx, e.enriched, good); err != nil {
		return err
	}
	if err := putAll(ctx, e.bad, bad); err != nil {
		return err
	}

	e.m.records.Add(float64(len(recs)))
	e.m.good.Add(float64(nGood))
	dropped := 0
	debug := e.log.Enabled(ctx, slog.LevelDebug)
	for _, r := range results {
		dropped += r.Dropped
		for _, b := range r.Bad {
			e.m.bad(b.Type).Inc()
		}
		if debug {
			for _, gd := range r.Good {
				e.log.Debug("good event", "event_id", gd.Event.Fields[event.EventID])
			}
			for _, b := range r.Bad {
				e.log.Debug("bad row", "type", b.Type)
			}
		}
	}
	e.m.dropped.Add(float64(dropped))
	return nil
}

// putAll writes entries in as few Puts as the stream limits allow. A Put refused
// because the stream is full (ErrFull: none of its records were taken) is tried again
// here, until there is room or ctx ends: returning the error would make Consume
// handle the whole batch again and put the records already written a second time.
func putAll(ctx context.Context, s streams.Stream, entries []streams.Entry) error {
	wait := 50 * time.Millisecond
	for len(entries) > 0 {
		n := streams.NextPut(len(entries), func(i int) int { return len(entries[i].Data) + len(entries[i].PartitionKey) })
		if _, err := s.Put(ctx, entries[:n]); err != nil {
			if !errors.Is(err, streams.ErrFull) || ctx.Err() != nil {
				return fmt.Errorf("putting %d records to stream %q: %w", n, s.Name(), err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("putting %d records to stream %q: %w", n, s.Name(), err)
			case <-time.After(wait):
			}
			wait = min(2*wait, time.Second)
			continue
		}
		entries = entries[n:]
	}
	return nil
}

type metrics struct {
	records, good, dropped prometheus.Counter
	badVec                 *prometheus.CounterVec
	seconds                prometheus.Histogram
	verdictHits            prometheus.Counter
	verdictMisses          prometheus.Counter
}

func (m *metrics) bad(typ string) prometheus.Counter { return m.badVec.WithLabelValues(typ) }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_enrich_records_total",
			Help: "Raw records (collector payloads) enriched.",
		}),
		good: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_enrich_events_good_total",
			Help: "Enriched events written to the enriched stream.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_enrich_events_dropped_total",
			Help: "Events dropped by the JavaScript enrichment.",
		}),
		badVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_enrich_events_bad_total",
			Help: "Bad rows written to the bad stream, by bad-row type.",
		}, []string{"type"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "snowplow_mini_enrich_processing_seconds",
			Help:    "Time to enrich one raw record.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 9),
		}),
	}
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "snowplow_mini_enrich_validation_cache_lookups_total",
		Help: "Entities (contexts, self-describing events, derived contexts) looked up in the cache of validation verdicts, by result (hit: not validated again).",
	}, []string{"result"})
	m.verdictHits, m.verdictMisses = lookups.WithLabelValues("hit"), lookups.WithLabelValues("miss")
	for _, t := range []string{badCPFormat, badAdapter, badTrackerProto, badSchema, badEnrichment, badSizeViolation, "generic_error"} {
		m.badVec.WithLabelValues(t)
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.records, m.good, m.dropped, m.badVec, m.seconds, lookups} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("enrich: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}
