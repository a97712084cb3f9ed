package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// SchemaResolver looks up the schemas served at /micro/iglu/{vendor}/{name}/jsonschema/{version}.
// *iglu.Resolver satisfies it.
type SchemaResolver interface {
	// Lookup returns the schema with the given key. When it cannot be resolved the error
	// is or wraps an *iglu.ClientError, whose MicroJSON is answered with 404 as Micro
	// does; any other error is answered with 500.
	Lookup(ctx context.Context, key iglu.SchemaKey) (*iglu.Schema, error)
}

// Deps are the collaborators of a Server.
type Deps struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the server's metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Bad is the bad-1 stream. When nil, no bad events are read and Run only waits.
	Bad streams.Stream
	// Checkpointer stores the bad-stream reader's progress. When nil, Bad is used if it
	// is a Checkpointer too (as streams.Memory is); otherwise it is required with Bad.
	Checkpointer streams.Checkpointer
	// Resolver serves /micro/iglu/...; when nil that endpoint answers 404 with a message.
	Resolver SchemaResolver
	// Version is the snowplow-mini version shown in the UI.
	Version string
}

// Server is the Micro-compatible test API and the UI. Create it with New, mount it with
// Register, feed it with ObserveGood and Run. It is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	bad     streams.Stream
	cp      streams.Checkpointer
	schemas SchemaResolver
	version string

	store   *store
	limit   eventLimit
	origins *originPolicy
	metrics *metrics
	ui      *template.Template
	bufs    sync.Pool // *[]byte buffers that event lists are rendered into

	// stopping is closed by Shutdown: Run drains the bad stream and returns.
	stopping chan struct{}
	stopOnce sync.Once
	// endWaits is closed by EndWaits (and Shutdown): waits answer at once.
	endWaits     chan struct{}
	endWaitsOnce sync.Once
	// done is closed when Run returns; started is set when Run begins.
	done    chan struct{}
	started atomic.Bool
	// consuming is true while the bad-stream reader runs.
	consuming atomic.Bool
}

// New validates cfg and deps and returns a Server. It starts nothing.
func New(cfg Config, deps Deps) (*Server, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Bad != nil && deps.Checkpointer == nil {
		if cp, ok := deps.Bad.(streams.Checkpointer); ok {
			deps.Checkpointer = cp
		} else {
			errs = append(errs, errors.New("web: a checkpointer is required to read the bad stream"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      log.With("component", "web"),
		bad:      deps.Bad,
		cp:       deps.Checkpointer,
		schemas:  deps.Resolver,
		version:  deps.Version,
		stopping: make(chan struct{}),
		endWaits: make(chan struct{}),
		done:     make(chan struct{}),
	}
	var evictedGood, evictedBad prometheus.Counter
	s.limit = eventLimit{
		maxBytes:  cfg.MaxEventBytes,
		processor: badrow.Processor{Artifact: Artifact, Version: deps.Version},
		now:       time.Now,
	}
	s.origins = newOriginPolicy(cfg.AllowedOrigins)
	s.store = newStore(cfg.MaxEvents, cfg.MaxBytes, func(good bool) {
		if good {
			evictedGood.Inc()
		} else {
			evictedBad.Inc()
		}
	})
	m, err := newMetrics(deps.Registerer, s.store)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	evictedGood, evictedBad = m.evicted.WithLabelValues("good"), m.evicted.WithLabelValues("bad")
	ui, err := parseUI()
	if err != nil {
		return nil, err
	}
	s.ui = ui
	return s, nil
}

// ObserveGood stores a good event that enrich has just put on the enriched stream. raw
// may be nil (events enrich made up itself). It copies what it keeps, so the caller may
// reuse raw and ev; it does O(1) work under a short lock and never waits for a reader.
// An event whose copy is over web.maxEventBytes keeps its enriched event whole (a
// record on the enriched stream is at most 1 MB) and has the raw parameter values
// longer than a tenth of the cap truncated, with a mark.
func (s *Server) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent) {
	g := newGoodEvent(raw, ev)
	if lim := s.limit.maxBytes; lim > 0 && raw != nil && len(g.text) > lim {
		if ps, cut := truncateParams(raw.Parameters, s.limit.keep()); cut {
			r := *raw
			r.Parameters = ps
			g = newGoodEvent(&r, ev)
			s.metrics.truncated.WithLabelValues("good").Inc()
		}
	}
	s.store.add(newEntry(ev.Fields[event.AppID], g, nil))
}

// Run reads bad rows from the bad stream into the store until ctx is cancelled (a hard
// stop) or Shutdown is called (then it first catches up with the stream). It returns nil
// on either stop and an error when the stream fails.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("web: Run called twice")
	}
	defer close(s.done)
	if s.bad == nil {
		select {
		case <-ctx.Done():
		case <-s.stopping:
		}
		return nil
	}
	s.consuming.Store(true)
	defer s.consuming.Store(false)
	s.log.Info("reading bad events", "stream", s.bad.Name(), "group", s.cfg.ConsumerGroup)
	err := streams.Consume(ctx, s.bad, s.cp, streams.ConsumeOptions{
		Group:     s.cfg.ConsumerGroup,
		BatchSize: s.cfg.BatchSize,
		Drain:     s.stopping,
		Logger:    s.log,
	}, s.storeBadRecords)
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading bad events from stream %q: %w", s.bad.Name(), err)
	}
	return nil
}

func (s *Server) storeBadRecords(_ context.Context, records []streams.Record) error {
	for _, r := range records {
		b, appID, ok := newBadEvent(r.Data, s.limit)
		if ok {
			s.metrics.badRecords.WithLabelValues("ok").Inc()
		} else {
			s.metrics.badRecords.WithLabelValues("unrecognised").Inc()
			s.log.Debug("record on the bad stream is not a bad row", "shard_id", r.ShardID, "sequence_number", r.SequenceNumber)
		}
		if b.truncated {
			s.metrics.truncated.WithLabelValues("bad").Inc()
		}
		s.store.add(newEntry(appID, nil, b))
	}
	return nil
}

// EndWaits makes pending and later /micro/wait requests answer at once with what they
// have. An HTTP server's Shutdown waits for requests in flight, and a wait may last a
// minute: register EndWaits with the server's RegisterOnShutdown so it does not.
func (s *Server) EndWaits() {
	s.endWaitsOnce.Do(func() { close(s.endWaits) })
}

// Shutdown ends waits (see EndWaits), asks Run to read what is already on the bad stream
// and return, and waits for that until ctx is done. It returns at once when Run was
// never called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.EndWaits()
	s.stopOnce.Do(func() { close(s.stopping) })
	if !s.started.Load() {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("web: waiting for the bad-event reader to drain: %w", ctx.Err())
	}
}

// Health reports whether the server can answer with everything the pipeline produced:
// nil when Run is running and, if there is a bad stream, its reader is running.
func (s *Server) Health() error {
	select {
	case <-s.done:
		return errors.New("web: stopped")
	default:
	}
	if !s.started.Load() {
		return errors.New("web: not started")
	}
	if s.bad != nil && !s.consuming.Load() {
		return errors.New("web: bad-event reader not running")
	}
	return nil
}
