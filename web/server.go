package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/iglu"
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
	// Store is the event store every answer is read from. Required.
	Store Store
	// Resolver serves /micro/iglu/...; when nil that endpoint answers 404 with a message.
	Resolver SchemaResolver
}

// Server is the Micro-compatible test API and the UI over the event store. Create it with
// New, mount it with Register, and Run it (Run only waits: it is there so that long
// requests, waits and live streams, end in step with the pipeline's shutdown). It is safe
// for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   Store
	schemas SchemaResolver

	origins *originPolicy
	metrics *metrics
	bufs    sync.Pool // *[]byte buffers that event lists are rendered into
	// resets counts resets through this server: waits start their count over.
	resets atomic.Uint64

	// stopping is closed by Shutdown: Run returns.
	stopping chan struct{}
	stopOnce sync.Once
	// endWaits is closed by EndWaits (and Shutdown): waits and live streams end at once.
	endWaits     chan struct{}
	endWaitsOnce sync.Once
	// done is closed when Run returns; started is set when Run begins.
	done    chan struct{}
	started atomic.Bool
}

// New validates cfg and deps and returns a Server. It starts nothing.
func New(cfg Config, deps Deps) (*Server, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Store == nil {
		errs = append(errs, errors.New("web: an event store is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{
		cfg:      cfg,
		log:      log.With("component", "web"),
		store:    deps.Store,
		schemas:  deps.Resolver,
		origins:  newOriginPolicy(cfg.AllowedOrigins),
		metrics:  m,
		stopping: make(chan struct{}),
		endWaits: make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

// Run waits until ctx is cancelled or Shutdown is called, and returns nil.
func (s *Server) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("web: Run called twice")
	}
	defer close(s.done)
	select {
	case <-ctx.Done():
	case <-s.stopping:
	}
	return nil
}

// EndWaits makes pending and later /micro/wait requests answer at once with what they
// have, and ends live streams. An HTTP server's Shutdown waits for requests in flight,
// and a wait may last a minute: register EndWaits with the server's RegisterOnShutdown.
func (s *Server) EndWaits() {
	s.endWaitsOnce.Do(func() { close(s.endWaits) })
}

// Shutdown ends waits (see EndWaits) and makes Run return, waiting for it until ctx is
// done. It returns at once when Run was never called.
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
		return fmt.Errorf("web: waiting for Run to return: %w", ctx.Err())
	}
}

// Health reports whether the server is running.
func (s *Server) Health() error {
	select {
	case <-s.done:
		return errors.New("web: stopped")
	default:
	}
	if !s.started.Load() {
		return errors.New("web: not started")
	}
	return nil
}
