// Package collector is the first stage of the pipeline: the HTTP endpoint that trackers and
// webhooks send events to. It records every request as a Thrift CollectorPayload
// (collector/payload) on the raw stream, where enrich reads it, and writes the requests
// too large for a stream record as size_violation bad rows to the bad-1 stream. It
// behaves as the Snowplow stream collector does (routes, cookies, CORS, redirects,
// request splitting), so that trackers and a real Snowplow enrich work with it unchanged.
//
// The collector imports only the streams foundation and the leaf models
// (collector/payload, iglu/badrow); main.go wires it to the streams and mounts its routes.
package collector

import (
	"context"
	cryptorand "crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Artifact is the processor artifact of the collector's bad rows; the collector name
// written in every payload is Artifact-<version>.
const Artifact = "snowplow-mini-collector"

// Deps are the collector's collaborators.
type Deps struct {
	// Logger receives operational messages (never one per request above Debug). Nil
	// discards them.
	Logger *slog.Logger
	// Registerer receives the collector's metrics. Nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Raw receives the CollectorPayload records (streams.Raw). Required.
	Raw streams.Stream
	// Bad receives size_violation bad rows (streams.Bad1). Required.
	Bad streams.Stream
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Version is the snowplow-mini version, written in the payloads' collector field
	// and in bad rows. Required.
	Version string
}

// Collector serves the collector's HTTP routes. Create it with New and mount it with
// Register. It is safe for concurrent use.
type Collector struct {
	cfg       Config
	logger    *slog.Logger
	raw, bad  streams.Stream
	now       func() time.Time
	name      string // the payloads' collector field
	processor badrow.Processor
	metrics   *metrics

	dnt             *regexp.Regexp // wholly matches the do-not-track cookie value
	maxAge          string         // Access-Control-Max-Age value
	hsts            string         // Strict-Transport-Security value, "" when disabled
	crossDomainBody string

	// maxRecordBytes is the stream's record limit (data plus partition key);
	// streams.MaxRecordBytes, lowered by tests to exercise splitting cheaply.
	maxRecordBytes int

	rawHealth, badHealth sinkHealth

	bodyBufs sync.Pool                     // *[]byte request body buffers
	recBufs  sync.Pool                     // *[]byte record buffers (see records.pooled)
	rands    sync.Pool                     // *rand.ChaCha8 for UUIDs
	lastDate atomic.Pointer[formattedDate] // see httpDate

	putDeadlines sharedDeadline
}

// New validates cfg and deps and returns a collector. It starts nothing.
func New(cfg Config, deps Deps) (*Collector, error) {
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if deps.Raw == nil {
		errs = append(errs, errors.New("collector: raw stream is required"))
	}
	if deps.Bad == nil {
		errs = append(errs, errors.New("collector: bad stream is required"))
	}
	if deps.Version == "" {
		errs = append(errs, errors.New("collector: version is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	m, err := newMetrics(deps.Registerer)
	if err != nil {
		return nil, fmt.Errorf("registering collector metrics: %w", err)
	}
	c := &Collector{
		cfg:            cfg,
		logger:         logger.With("component", "collector"),
		raw:            deps.Raw,
		bad:            deps.Bad,
		now:            now,
		name:           Artifact + "-" + deps.Version,
		processor:      badrow.Processor{Artifact: Artifact, Version: deps.Version},
		metrics:        m,
		maxAge:         strconv.FormatInt(int64(cfg.CORS.AccessControlMaxAge.Std()/time.Second), 10),
		maxRecordBytes: streams.MaxRecordBytes,
	}
	for _, s := range []struct {
		h      *sinkHealth
		stream streams.Stream
	}{{&c.rawHealth, deps.Raw}, {&c.badHealth, deps.Bad}} {
		s.h.name = s.stream.Name()
		s.h.putOK = m.recordsPut.WithLabelValues(s.h.name)
		s.h.putFailed = m.putErrors.WithLabelValues(s.h.name)
	}
	c.putDeadlines.timeout = cfg.PutTimeout.Std()
	c.bodyBufs.New = func() any { b := make([]byte, 0, 16<<10); return &b }
	c.recBufs.New = func() any { b := make([]byte, 0, 16<<10); return &b }
	c.rands.New = func() any {
		var seed [32]byte
		// Since Go 1.24 crypto/rand.Read never returns an error (it aborts the
		// program when the system has no randomness to give).
		_, _ = cryptorand.Read(seed[:])
		return rand.NewChaCha8(seed)
	}
	if cfg.DoNotTrackCookie.Enabled {
		// Validate compiled it already; anchoring makes it match the whole value, as
		// Java's Matcher.matches does.
		c.dnt = regexp.MustCompile(`^(?:` + cfg.DoNotTrackCookie.Value + `)$`)
	}
	if cfg.HSTS.Enable {
		c.hsts = "max-age=" + strconv.FormatInt(int64(cfg.HSTS.MaxAge.Std()/time.Second), 10)
	}
	if cfg.CrossDomain.Enabled {
		c.crossDomainBody = crossDomainXML(cfg.CrossDomain)
	}
	return c, nil
}

// Register adds the collector's routes to r:
//
//   - POST, GET, HEAD and OPTIONS /{vendor}/{version} (tracker protocol, webhooks, custom
//     paths from Config.Paths)
//   - GET, HEAD and OPTIONS /i and /ice.png (pixel)
//   - any method /r/{anything} (click redirect, or 404 "redirects disabled")
//   - GET /robots.txt and GET /sink-health
//   - GET /crossdomain.xml and GET / when enabled in Config
//
// Static routes registered by others (/micro/*, /api/*, /health, /metrics) take
// precedence over /{vendor}/{version} in chi. Snowplow answers a CORS preflight on any
// path; on a shared router the collector answers it only on its own paths, because an
// OPTIONS route on every path would turn the other routes' 404s into 405s. Handler
// answers it on every path.
//
// The collector does not register /health: the server's owner does, and may consult
// Healthy.
func (c *Collector) Register(r chi.Router) {
	for _, p := range []string{"/{vendor}/{version}", "/i", "/ice.png"} {
		r.Options(p, c.servePreflight)
	}
	r.Post("/{vendor}/{version}", c.serveVendor)
	r.Get("/{vendor}/{version}", c.serveVendor)
	r.Head("/{vendor}/{version}", c.serveVendor)
	for _, p := range []string{"/i", "/ice.png"} {
		r.Get(p, c.servePixelPath)
		r.Head(p, c.servePixelPath)
	}
	r.HandleFunc("/r/{target}", c.serveRedirectPath)
	r.Get("/robots.txt", c.serveRobots)
	r.Get("/sink-health", c.serveSinkHealth)
	if c.cfg.CrossDomain.Enabled {
		r.Get("/crossdomain.xml", c.serveCrossDomain)
	}
	if c.cfg.RootResponse.Enabled {
		r.Get("/", c.serveRoot)
	}
}

// Handler returns a router serving only the collector: its routes, a preflight answer on
// every path, and 404 for anything else, as the Snowplow collector does on its own port.
func (c *Collector) Handler() http.Handler {
	r := chi.NewRouter()
	r.NotFound(c.serveNotFound)
	r.MethodNotAllowed(c.serveNotFound)
	r.Options("/*", c.servePreflight)
	c.Register(r)
	return r
}

// Healthy returns nil when the raw stream accepts records, and an error saying why not
// when the last put to it failed within the last unhealthyFor, or when the stream
// reports itself full.
func (c *Collector) Healthy() error {
	return c.rawHealth.check(c.now(), c.raw)
}

// unhealthyFor is how long a failed put keeps a stream unhealthy when no later put
// succeeds; without traffic there is nothing newer to judge by.
const unhealthyFor = 10 * time.Second

// sinkHealth tracks put failures of one stream, to answer health checks and to log
// one message per episode of failures rather than one per request.
type sinkHealth struct {
	name      string
	putOK     prometheus.Counter // records put
	putFailed prometheus.Counter // failed puts

	mu          sync.Mutex
	failing     bool
	lastFailure time.Time
	lastErr     error
	failingFlag atomic.Bool // mirrors failing, read without the lock on every put
}

func (h *sinkHealth) check(now time.Time, s streams.Stream) error {
	if f, ok := s.(interface{ Full() bool }); ok && f.Full() {
		return fmt.Errorf("stream %q is full", h.name)
	}
	if !h.failingFlag.Load() {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing && now.Sub(h.lastFailure) < unhealthyFor {
		return fmt.Errorf("stream %q not accepting records: %w", h.name, h.lastErr)
	}
	return nil
}

// failed records a failed put; it reports whether this failure starts an episode.
func (h *sinkHealth) failed(now time.Time, err error) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	start := !h.failing
	h.failing = true
	h.failingFlag.Store(true)
	h.lastFailure = now
	h.lastErr = err
	return start
}

// succeeded records a successful put; it reports whether this ends an episode.
func (h *sinkHealth) succeeded() bool {
	if !h.failingFlag.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.failing
	h.failing = false
	h.failingFlag.Store(false)
	return end
}

// routeOf maps a recorded path to the bounded route label of the metrics.
func routeOf(path string) string {
	switch {
	case path == "/com.snowplowanalytics.snowplow/tp2":
		return routeTP2
	case path == "/i" || path == "/ice.png":
		return routePixel
	case strings.HasPrefix(path, "/r/"):
		return routeRedirect
	default:
		return routeVendor
	}
}

func crossDomainXML(cfg CrossDomainConfig) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\"?>\n<cross-domain-policy>\n")
	for i, d := range cfg.Domains {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "<allow-access-from domain=\"%s\" secure=\"%t\" />", d, cfg.Secure)
	}
	b.WriteString("\n</cross-domain-policy>")
	return b.String()
}

// sharedDeadline hands out contexts that expire PutTimeout after they were made, one
// per deadlineGranularity shared by all requests in it: a context with a timer per
// request costs several percent of a request's CPU, and a put deadline a few
// milliseconds early does not matter.
type sharedDeadline struct {
	timeout time.Duration
	cur     atomic.Pointer[deadlineCtx]
}

type deadlineCtx struct {
	ctx     context.Context
	cancel  context.CancelFunc // kept for completeness: the deadline cancels ctx
	created time.Time
}

const deadlineGranularity = 20 * time.Millisecond

// get returns a context that is done within timeout (and at least timeout less
// deadlineGranularity) from now. Its timer cancels it when it expires, so nothing
// needs to be released.
func (d *sharedDeadline) get() context.Context {
	now := time.Now()
	if cur := d.cur.Load(); cur != nil && now.Sub(cur.created) < deadlineGranularity {
		return cur.ctx
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	d.cur.Store(&deadlineCtx{ctx: ctx, cancel: cancel, created: now})
	return ctx
}

// Preflight answers a CORS preflight as the collector does on every path. A server that
// mounts the collector beside other routes can send every OPTIONS request it does not
// answer itself here, as Snowplow's collector answers a preflight on any path.
func (c *Collector) Preflight() http.Handler { return http.HandlerFunc(c.servePreflight) }
