package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/collector"
	"github.com/snowplow-mini/snowplow-mini/enrich"
	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/loaders"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/web"
)

// consumerGroups lists, per stream, the consumer groups that read it. Each stream is
// told its groups up front so that retention never drops a record one of them has not
// processed, even before the group's first read.
func consumerGroups(cfg Config) map[string][]string {
	g := map[string][]string{}
	add := func(group string, names ...string) {
		for _, n := range names {
			g[n] = append(g[n], group)
		}
	}
	add(enrich.ConsumerGroup, streams.Raw)
	sink := cfg.Loaders.Sink
	add(sink.Group, append([]string{sink.EnrichedStream}, sink.BadStreams...)...)
	if cfg.Loaders.S3.Enabled {
		add(cfg.Loaders.S3.Group, cfg.Loaders.S3.Streams...)
	}
	if cfg.Loaders.Stdout.Format != "" {
		add(cfg.Loaders.Stdout.Group, cfg.Loaders.Stdout.Stream)
	}
	return g
}

// stage is what the wiring needs of a consuming stage.
type stage interface {
	Run(ctx context.Context) error
	Shutdown(ctx context.Context) error
}

// pipeline holds everything serve constructed, in pipeline order.
type pipeline struct {
	logger  *slog.Logger
	sel     stageSet
	streams map[string]streams.Stream
	// checkpointers are the streams' own Checkpointers (the streams themselves).
	checkpointers map[string]streams.Checkpointer
	// local are the in-process streams (memory or durable; none on Kinesis).
	local    map[string]pipeStream
	resolver *iglu.Resolver
	igluAPI  *iglu.Server
	coll     *collector.Collector
	enricher *enrich.Enricher
	web      *web.Server
	sink     *loaders.Sink
	// loaders read enriched and bad records; they are shut down after enrich.
	loaders []namedStage
	closers []func() error
	handler http.Handler
	state   runState
	// watches are the stages' consumer groups, checked by /health for stalls.
	watches      []watch
	stallTimeout time.Duration
	pprof        bool
	// rootResponse: the collector answers GET / itself (else / leads to the UI).
	rootResponse bool
}

type namedStage struct {
	name string
	s    stage
}

// runState tells /health which stages are running.
type runState struct {
	mu      sync.Mutex
	running map[string]bool
}

func (r *runState) set(name string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[name] = on
}

// stopped lists the stages that are not running.
func (r *runState) stopped() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name, on := range r.running {
		if !on {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// serve runs the pipeline until ctx is done, then shuts it down in pipeline order:
// stop accepting HTTP, drain enrich, drain the loaders and the test API, close.
func serve(ctx context.Context, cfg Config, getenv func(string) string, stdout, stderr io.Writer, ready func(string)) error {
	return serveStages(ctx, cfg, allStages(cfg), getenv, stdout, stderr, ready)
}

// serveStages runs the stages of sel (all of them for serve, one for `run <stage>`)
// with their HTTP endpoints, /health and /metrics, and shuts them down in pipeline order.
func serveStages(ctx context.Context, cfg Config, sel stageSet, getenv func(string) string, stdout, stderr io.Writer, ready func(string)) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.Streams.Backend == backendKinesis {
		// Enrich workers sharing a stream re-enrich the batch of one that died.
		cfg.Loaders.Sink.DropReprocessed = true
	}
	logger := newLogger(cfg.Log, stderr)
	p, err := build(ctx, cfg, sel, getenv, logger, stdout)
	if err != nil {
		return err
	}
	defer p.close()

	// Listen first: with port 0 the real address is known before anything is logged.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	ln = newLimitListener(ln, cfg.HTTP.MaxConnections, logger)
	loopback := isLoopback(ln.Addr())
	srv := &http.Server{
		Handler:           guard(p.handler, cfg.HTTP, loopback),
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		MaxHeaderBytes:    40960 + 20480,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	// Pending /micro/wait requests answer at once when shutdown begins.
	if p.web != nil {
		srv.RegisterOnShutdown(p.web.EndWaits)
	}

	// Stages run on a context that a signal does not cancel: a signal starts the
	// orderly shutdown below, and the context is cancelled only once that is done (or a
	// stage failed, which stops everything at once).
	runCtx, hardStop := context.WithCancel(context.WithoutCancel(ctx))
	defer hardStop()
	g, gctx := errgroup.WithContext(runCtx)

	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	})
	for _, st := range p.stages() {
		p.state.set(st.name, true)
		g.Go(func() error {
			defer p.state.set(st.name, false)
			if err := st.s.Run(gctx); err != nil {
				return fmt.Errorf("%s: %w", st.name, err)
			}
			return nil
		})
	}

	// Announce once the event store has its tables (a few ms for SQLite), so that
	// /health answers 200 from the first line a user reads.
	if p.sink != nil {
		select {
		case <-p.sink.Ready():
		case <-gctx.Done():
		case <-time.After(10 * time.Second):
			logger.Warn("the event store is not ready yet; events are kept on the enriched stream meanwhile")
		}
	}
	addr := ln.Addr().String()
	urls := serverURLs(ln.Addr(), net.InterfaceAddrs)
	base := urls[0]
	if !loopback {
		msg := "listening on a non-loopback address: other machines can send events to the collector, and read or reset them through /micro/* (set SNOWPLOW_MINI_API_KEY to require a key there)"
		if cfg.HTTP.APIKey != "" {
			msg = "listening on a non-loopback address: other machines can send events to the collector (/micro/* and /debug/pprof need the API key; Iglu writes need an Iglu key)"
		}
		logger.Warn(msg, "addr", addr, "urls", strings.Join(urls, " "))
	}
	if sel != allStages(cfg) {
		logger.Info("snowplow-mini is running", "version", version, "stages", sel.String(),
			"addr", addr, "health", base+"/health", "metrics", base+"/metrics", "streams", cfg.Streams.Backend)
	} else {
		logger.Info("snowplow-mini is running",
			"version", version,
			"collector", base,
			"ui", base+"/micro/ui",
			"micro_api", base+"/micro/all",
			"iglu_api", base+"/api/schemas",
			"metrics", base+"/metrics",
			"urls", strings.Join(urls, " "),
			"data_dir", cfg.DataDir,
			"sink", loaders.RedactURL(cfg.Loaders.Sink.URL),
			"streams", cfg.Streams.Backend,
		)
	}
	if ready != nil {
		ready(addr)
	}

	g.Go(func() error {
		select {
		case <-ctx.Done():
			logger.Info("shutting down: draining the pipeline", "timeout", cfg.ShutdownTimeout)
		case <-gctx.Done():
			// A stage failed; everything is being stopped already.
		}
		sdCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
		defer cancel()
		err := p.shutdown(sdCtx, srv)
		hardStop()
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}
	logger.Info("stopped cleanly")
	return nil
}

// shutdown stops the pipeline front to back, each stage draining what is already
// on its input stream, so an event accepted with a 2xx reaches the sink.
func (p *pipeline) shutdown(ctx context.Context, srv *http.Server) error {
	var errs []error
	step := func(what string, f func(context.Context) error) {
		start := time.Now()
		if err := f(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shutting down %s: %w", what, err))
			return
		}
		p.logger.Debug("stage stopped", "stage", what, "took", time.Since(start))
	}
	step("http server", srv.Shutdown)
	for _, st := range p.stages() {
		step(st.name, st.s.Shutdown)
	}
	return errors.Join(errs...)
}

// stages lists the consuming stages in pipeline order: the order they drain in.
func (p *pipeline) stages() []namedStage {
	var out []namedStage
	if p.enricher != nil {
		out = append(out, namedStage{"enrich", p.enricher})
	}
	out = append(out, p.loaders...)
	if p.web != nil {
		out = append(out, namedStage{"test api", p.web})
	}
	return out
}

func (p *pipeline) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		if err := p.closers[i](); err != nil {
			p.logger.Warn("closing", "err", err)
		}
	}
}

// build constructs every stream and stage; it starts nothing.
func build(ctx context.Context, cfg Config, sel stageSet, getenv func(string) string, logger *slog.Logger, stdout io.Writer) (_ *pipeline, err error) {
	p := &pipeline{
		logger:        logger,
		sel:           sel,
		state:         runState{running: map[string]bool{}},
		streams:       map[string]streams.Stream{},
		checkpointers: map[string]streams.Checkpointer{},
		local:         map[string]pipeStream{},
		pprof:         cfg.Debug.Pprof,
		rootResponse:  cfg.Collector.RootResponse.Enabled,
	}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	// The data dir holds the user's events: only its owner may read it.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir: %w", err)
	}
	if st, err := os.Stat(cfg.DataDir); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the data dir can be read by other users of this machine; chmod 700 it to keep the events private",
			"data_dir", cfg.DataDir, "mode", st.Mode().Perm().String())
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Streams: in this process (memory or durable), each knowing the consumer groups
	// that read it and numbering records after every checkpoint the event store kept;
	// or on Kinesis.
	groups := consumerGroups(cfg)
	if err := p.openStreams(ctx, cfg, groups, logger, reg); err != nil {
		return nil, err
	}
	raw, enriched, bad1 := p.streams[streams.Raw], p.streams[streams.Enriched], p.streams[streams.Bad1]
	p.watches, p.stallTimeout = watches(cfg, p.local), cfg.Health.StallTimeout

	// Iglu.
	if sel.enrich || sel.testAPI {
		rc, err := loadResolverConfig(cfg.Iglu)
		if err != nil {
			return nil, err
		}
		igluStore, closeStore, err := openIgluStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
		p.closers = append(p.closers, closeStore)
		p.resolver, err = iglu.NewResolver(rc, iglu.ResolverDeps{Logger: logger, Registerer: reg, Store: igluStore})
		if err != nil {
			return nil, fmt.Errorf("iglu resolver: %w", err)
		}
		if sel.testAPI {
			p.igluAPI, err = iglu.NewServer(p.resolver, iglu.ServerConfig{
				Version:        version,
				SuperAPIKey:    string(cfg.Iglu.SuperAPIKey),
				PatchesAllowed: cfg.Iglu.PatchesAllowed,
				Store:          igluStore,
			})
			if err != nil {
				return nil, err
			}
			if cfg.Iglu.SuperAPIKey == "" {
				logger.Info("the Iglu Server API is read-only: no super API key is configured (set SNOWPLOW_MINI_IGLU_SUPER_API_KEY or --iglu-super-api-key to publish schemas)")
			}
		}
	}
	if err := p.buildStages(ctx, cfg, getenv, logger, reg, stdout, raw, enriched, bad1); err != nil {
		return nil, err
	}
	p.handler = p.routes(reg)
	return p, nil
}

// buildStages constructs the stages p.sel selects.
func (p *pipeline) buildStages(ctx context.Context, cfg Config, getenv func(string) string, logger *slog.Logger, reg *prometheus.Registry, stdout io.Writer, raw, enriched, bad1 streams.Stream) error {
	sel := p.sel
	var err error
	if sel.collector {
		p.coll, err = collector.New(cfg.Collector, collector.Deps{
			Logger:     logger,
			Registerer: reg,
			Raw:        raw,
			Bad:        bad1,
			Version:    version,
		})
		if err != nil {
			return fmt.Errorf("collector: %w", err)
		}
	}

	// Loaders, then the test API over the event store.
	if err := p.buildLoaders(cfg, getenv, logger, reg, stdout); err != nil {
		return err
	}
	if sel.testAPI {
		if p.sink == nil {
			return errors.New("test api: it reads the event store, so it runs with the loader")
		}
		p.web, err = web.New(cfg.Web, web.Deps{
			Logger:     logger,
			Registerer: reg,
			Store:      microStore{p.sink},
			Resolver:   p.resolver,
		})
		if err != nil {
			return fmt.Errorf("test api: %w", err)
		}
	}

	if sel.enrich {
		enr, err := loadEnrichments(ctx, cfg, logger, reg, p.resolver)
		if err != nil {
			return err
		}
		if c, ok := enr.(io.Closer); ok {
			p.closers = append(p.closers, c.Close)
		}
		// The event store keeps each good event's raw request (Micro's rawEvent) when
		// it runs in the same process.
		var observer enrich.Observer
		if p.sink != nil {
			observer = p.sink
		}
		p.enricher, err = enrich.New(cfg.Enrich, enrich.Deps{
			Logger:       logger,
			Registerer:   reg,
			Resolver:     p.resolver,
			Raw:          raw,
			Checkpointer: p.checkpointers[streams.Raw],
			Enriched:     enriched,
			Bad:          bad1,
			Enrichments:  enr,
			Observer:     observer,
			Version:      version,
			KeyBySource:  cfg.Streams.Durable,
		})
		if err != nil {
			return fmt.Errorf("enrich: %w", err)
		}
	}
	return nil
}

// storedSequenceNumber returns the largest sequence number among the event store's
// checkpoints, "" when it has none or cannot be read within a few seconds (the sink
// then retries the database as usual; only a clock that went back since is not
// covered).
func storedSequenceNumber(ctx context.Context, cfg Config, logger *slog.Logger) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	seq, err := loaders.LastSequenceNumber(ctx, cfg.Loaders.Sink, cfg.DataDir)
	if err == nil {
		sc := cfg.streamConfig(streams.Raw, nil)
		sc.After = seq
		err = sc.Validate()
	}
	if err != nil {
		logger.Warn("cannot read the event store's checkpoints; stream sequence numbers start from the clock", "err", err)
		return ""
	}
	return seq
}

// loadEnrichments reads the enrichment configs (or the defaults). With a nil logger it
// only validates (check-config).
func loadEnrichments(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer, resolver *iglu.Resolver) (enrich.Enrichments, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	deps := enrichments.Deps{Logger: logger.With("component", "enrichments")}
	switch {
	case cfg.Enrichments.Dir != "":
		if st, err := os.Stat(cfg.Enrichments.Dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("enrichments.dir: %q is not a directory", cfg.Enrichments.Dir)
		}
		set, err := enrichments.Load(ctx, cfg.Enrichments.Dir, deps)
		if err != nil {
			return nil, fmt.Errorf("enrichments: %w", err)
		}
		return set, nil
	case cfg.Enrichments.DisableDefaults:
		return nil, nil
	default:
		set, err := enrichments.Defaults(ctx, deps, cfg.Enrichments.Disable...)
		if err != nil {
			return nil, fmt.Errorf("default enrichments: %w", err)
		}
		return set, nil
	}
}

func (p *pipeline) buildLoaders(cfg Config, getenv func(string) string, logger *slog.Logger, reg prometheus.Registerer, stdout io.Writer) error {
	sel := p.sel
	inputs := map[string]loaders.Input{}
	for name, s := range p.streams {
		inputs[name] = loaders.Input{Stream: s, Checkpointer: p.checkpointers[name]}
	}
	deps := loaders.Deps{
		Streams:    inputs,
		DataDir:    cfg.DataDir,
		Version:    version,
		Logger:     logger,
		Registerer: reg,
		Stdout:     stdout,
		Getenv:     getenv,
	}
	if sel.loader {
		sink, err := loaders.NewSink(cfg.Loaders.Sink, deps)
		if err != nil {
			return fmt.Errorf("event store: %w", err)
		}
		p.closers = append(p.closers, sink.Close)
		p.sink = sink
		p.loaders = append(p.loaders, namedStage{"event store", sink})
	}
	if sel.s3Loader {
		s3, err := loaders.NewS3Loader(cfg.Loaders.S3, deps)
		if err != nil {
			return fmt.Errorf("s3 loader: %w", err)
		}
		p.loaders = append(p.loaders, namedStage{"s3 loader", s3})
	}
	if sel.stdout {
		out, err := loaders.NewStdoutLoader(cfg.Loaders.Stdout, deps)
		if err != nil {
			return fmt.Errorf("stdout output: %w", err)
		}
		p.loaders = append(p.loaders, namedStage{"stdout output", out})
	}
	return nil
}

// routes builds the one router of the process: static routes (test API, Iglu API,
// health, metrics) first, then the collector's catch-all /{vendor}/{version}.
func (p *pipeline) routes(reg *prometheus.Registry) http.Handler {
	r := chi.NewRouter()
	// Browsers send a CORS preflight before a tracker's credentialed POST; the collector
	// answers one on any path (the test API answers its own).
	if p.coll != nil {
		preflight := p.coll.Preflight()
		r.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Method == http.MethodOptions && !strings.HasPrefix(req.URL.Path, "/micro") {
					preflight.ServeHTTP(w, req)
					return
				}
				next.ServeHTTP(w, req)
			})
		})
	}
	r.Get("/health", p.health)
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	if p.pprof {
		r.HandleFunc("/debug/pprof/*", pprof.Index)
		r.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		r.HandleFunc("/debug/pprof/profile", pprof.Profile)
		r.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		r.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	if p.web != nil {
		p.web.Register(r)
	}
	if p.igluAPI != nil {
		p.igluAPI.Register(r)
	}
	if p.coll != nil {
		p.coll.Register(r)
	}
	if !p.rootResponse && p.web != nil {
		r.Get("/", p.web.RedirectToUI().ServeHTTP)
	}
	return r
}

// health answers 200 only when every stage is running and none has records waiting
// with no progress for longer than health.stallTimeout.
func (p *pipeline) health(w http.ResponseWriter, r *http.Request) {
	var errs []error
	for _, name := range p.state.stopped() {
		errs = append(errs, fmt.Errorf("%s: not running", name))
	}
	errs = append(errs, stalls(p.watches, p.stallTimeout)...)
	if p.coll != nil {
		if err := p.coll.Healthy(); err != nil {
			errs = append(errs, fmt.Errorf("collector: %w", err))
		}
	}
	if p.web != nil {
		if err := p.web.Health(); err != nil {
			errs = append(errs, fmt.Errorf("test api: %w", err))
		}
	}
	if p.sink != nil {
		select {
		case <-p.sink.Ready():
		default:
			errs = append(errs, errors.New("event store: not ready"))
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := errors.Join(errs...); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, err)
		return
	}
	_, _ = io.WriteString(w, "ok")
}
