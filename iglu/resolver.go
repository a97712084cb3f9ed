package iglu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// ResolverDeps are the resolver's collaborators. Every field is optional.
type ResolverDeps struct {
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Registerer receives the resolver's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// HTTPClient is used for HTTP repositories. Each request is bounded by
	// ResolverConfig.HTTPTimeout; the client's own Timeout, if set, applies as well.
	// Defaults to a client with no timeout of its own.
	HTTPClient *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
	// Store, when set, holds the schemas published to this process's Iglu Server API.
	// It is a repository named LocalServerRepositoryName, tried after the local
	// folders and before every other repository, for every vendor; it serves private
	// schemas too (the pipeline reads with the server's own rights).
	Store SchemaStore
}

// LocalServerRepositoryName names the repository of the schemas published to this
// process's Iglu Server API in lookupHistory.
const LocalServerRepositoryName = "Iglu Server (this snowplow-mini)"

// Resolver finds schemas in repositories, caches them with their compiled validators,
// and validates instances against them. It is safe for concurrent use; a cached lookup
// takes one read lock and no allocation.
//
// Repositories are tried in this order: local folders (ResolverConfig.SchemaDirs), then
// the schemas published to this process's Iglu Server API (ResolverDeps.Store), then
// the built-in embedded core schemas, then the configured repositories sorted as
// Snowplow's client sorts them: those with a vendor prefix of the looked-up vendor
// first, then by class (embedded before HTTP), then by priority. The built-in set is
// asked before a matching HTTP repository (Snowplow asks it after, which
// ResolverConfig.StrictOrder restores): it holds only published versions, which never
// change, so the answer is the same and no network is needed.
//
// A schema found is cached for cacheTtl (schemas from local folders: LocalRecheck, then
// the folder is read again and the compiled validator kept if the file is unchanged); a
// key published or deleted through the Iglu Server API is dropped at once (Invalidate).
// A schema from an HTTP repository that expired keeps being served while one refresh
// runs in the background, and after it if no repository can be reached. NotFound
// answers are cached per repository for cacheTtl. Transport failures are not cached as
// answers: the repository is skipped (reported as RepoFailure without being contacted)
// for a back-off period, then tried again, so an unreachable network costs at most one
// HTTPTimeout per repository and back-off period.
type Resolver struct {
	cfg   ResolverConfig
	log   *slog.Logger
	now   func() time.Time
	ttl   time.Duration // 0: forever
	repos []*repo
	// browsable are the repositories the Iglu Server API serves (embedded and local).
	browsable []*repo
	cache     *lru
	group     singleflight.Group
	compile   compileOptions
	m         metrics
	// gen counts invalidations: a lookup that started before one does not cache its
	// answer.
	gen atomic.Uint64
}

type metrics struct {
	cacheHit, cacheMiss, cacheStale             prometheus.Counter
	valid, invalid, failed                      prometheus.Counter
	repoFound, repoNotFound, repoFail, repoSkip *prometheus.CounterVec
}

// NewResolver validates cfg and builds a resolver. It contacts no repository; local
// folders must exist.
func NewResolver(cfg ResolverConfig, deps ResolverDeps) (*Resolver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{}
	}
	meta, err := embeddedSchema(metaSchemaKey())
	if err != nil {
		return nil, fmt.Errorf("reading the embedded meta-schema: %w", err)
	}
	meta, err = metaSchemaForCompiler(meta)
	if err != nil {
		return nil, err
	}
	r := &Resolver{
		cfg:     cfg,
		log:     deps.Logger.With("component", "iglu"),
		now:     deps.Now,
		cache:   newLRU(cfg.CacheSize),
		compile: compileOptions{metaSchema: meta},
	}
	if cfg.CacheTTL != nil {
		r.ttl = time.Duration(*cfg.CacheTTL) * time.Second
		if r.ttl == 0 {
			// cacheTtl 0: every entry is stale at once, but kept for stale serving.
			r.ttl = time.Nanosecond
		}
	}

	for i, dir := range cfg.SchemaDirs {
		fsys, root, err := localDirFS(dir)
		if err != nil {
			return nil, fmt.Errorf("iglu.schemaDirs[%d]: %w", i, err)
		}
		r.repos = append(r.repos, &repo{
			name: "Local schemas (" + root + ")", priority: i, prefixes: []string{""},
			class: classLocal, backend: &fsBackend{fsys: fsys, jsonExt: true},
		})
	}
	if deps.Store != nil {
		r.repos = append(r.repos, &repo{
			name: LocalServerRepositoryName, prefixes: []string{""},
			class: classStore, backend: storeBackend{deps.Store},
		})
	}
	// The built-in embedded set matches every vendor (so it is asked before any HTTP
	// repository) unless StrictOrder asks for Snowplow's placement (no prefix).
	builtinPrefixes := []string{""}
	if cfg.StrictOrder {
		builtinPrefixes = nil
	}
	if !slices.ContainsFunc(cfg.Repositories, func(rc RepositoryConfig) bool { return rc.Name == EmbeddedRepositoryName }) {
		r.repos = append(r.repos, &repo{
			name: EmbeddedRepositoryName, prefixes: builtinPrefixes, class: classEmbedded,
			backend: &fsBackend{fsys: EmbeddedSchemas()},
		})
	}
	for _, rc := range cfg.Repositories {
		rp := &repo{name: rc.Name, priority: rc.Priority, prefixes: rc.VendorPrefixes}
		if rc.Connection.Embedded != nil {
			rp.class = classEmbedded
			rp.backend = &fsBackend{fsys: EmbeddedSchemas()}
			if rc.Name == EmbeddedRepositoryName && !cfg.StrictOrder {
				rp.prefixes = []string{""}
			}
		} else {
			var key string
			if rc.Connection.HTTP.APIKey != nil {
				key = *rc.Connection.HTTP.APIKey
			}
			rp.class = classHTTP
			rp.backoff = true
			rp.backend = &httpBackend{
				base:    strings.TrimRight(rc.Connection.HTTP.URI, "/"),
				apikey:  key,
				client:  deps.HTTPClient,
				timeout: cfg.HTTPTimeout,
			}
		}
		r.repos = append(r.repos, rp)
	}
	for _, rp := range r.repos {
		if _, ok := rp.backend.(*fsBackend); ok {
			r.browsable = append(r.browsable, rp)
		}
	}
	if err := r.initMetrics(deps.Registerer); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Resolver) initMetrics(reg prometheus.Registerer) error {
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "snowplow_mini_iglu_cache_lookups_total",
		Help: "Schema lookups by cache outcome (hit; miss; stale: an expired schema served while it is refreshed).",
	}, []string{"result"})
	validations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "snowplow_mini_iglu_validations_total",
		Help: "Instance validations by outcome (valid, invalid, error: schema unavailable or unusable).",
	}, []string{"result"})
	repoRequests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "snowplow_mini_iglu_repository_requests_total",
		Help: "Schema requests per repository by outcome (found, not_found, failure, skipped: backing off).",
	}, []string{"repository", "result"})
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "snowplow_mini_iglu_cache_entries",
		Help: "Schemas and lookup failures held in the cache.",
	}, func() float64 { return float64(r.cache.len()) })
	r.m = metrics{
		cacheHit: lookups.WithLabelValues("hit"), cacheMiss: lookups.WithLabelValues("miss"),
		cacheStale: lookups.WithLabelValues("stale"),
		valid:      validations.WithLabelValues("valid"), invalid: validations.WithLabelValues("invalid"),
		failed:       validations.WithLabelValues("error"),
		repoFound:    repoRequests.MustCurryWith(prometheus.Labels{"result": "found"}),
		repoNotFound: repoRequests.MustCurryWith(prometheus.Labels{"result": "not_found"}),
		repoFail:     repoRequests.MustCurryWith(prometheus.Labels{"result": "failure"}),
		repoSkip:     repoRequests.MustCurryWith(prometheus.Labels{"result": "skipped"}),
	}
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{lookups, validations, repoRequests, entries} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering iglu metrics: %w", err)
		}
	}
	return nil
}

// Schema is a schema as a repository served it.
type Schema struct {
	Key SchemaKey
	// Raw is the schema document as served. It must not be modified.
	Raw json.RawMessage
	// Repository is the name of the repository that served it.
	Repository string
	// SupersededBy is the version named by the schema's "$supersededBy", zero if none.
	SupersededBy SchemaVer

	uri          string // Key.String() as made
	supersedeErr string
	compile      *compileOptions
	once         sync.Once
	v            *validator
	err          *ClientError
}

// URI returns the schema's Iglu URI (Key.String()), made once with the schema.
func (s *Schema) URI() string { return s.uri }

func newSchema(key SchemaKey, raw []byte, repository string, opts *compileOptions) *Schema {
	s := &Schema{Key: key, Raw: raw, Repository: repository, compile: opts, uri: key.String()}
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return s // reported when the schema is compiled
	}
	if sb, ok := top["$supersededBy"]; ok {
		var text string
		if json.Unmarshal(sb, &text) != nil {
			s.supersedeErr = "$supersededBy must be a string"
		} else if v, err := ParseSchemaVer(text); err != nil {
			s.supersedeErr = fmt.Sprintf("$supersededBy %q is not a SchemaVer", text)
		} else if v.Model != key.Version.Model || v.Compare(key.Version) <= 0 {
			s.supersedeErr = fmt.Sprintf("$supersededBy %s must be a later version of the same model as %s", v, key.Version)
		} else {
			s.SupersededBy = v
		}
	}
	return s
}

// validator compiles the schema once; later calls return the same result.
func (s *Schema) validator() (*validator, *ClientError) {
	s.once.Do(func() {
		if s.supersedeErr != "" {
			s.err = schemaIssue("$.$supersededBy", s.supersedeErr)
			return
		}
		s.v, s.err = compileSchema(s.Raw, *s.compile)
	})
	return s.v, s.err
}

// Lookup returns the schema for key. A failure is a *ClientError of kind
// ResolutionError listing what each repository answered; it is a copy the caller may
// keep. ctx bounds the wait; a lookup already running for the same key on behalf of
// another caller goes on. A key that fails SchemaKey.Validate is never asked of a
// repository: it is a ResolutionError with no lookup history.
func (r *Resolver) Lookup(ctx context.Context, key SchemaKey) (*Schema, error) {
	now := r.now()
	// Only keys that passed SchemaKey.Validate are ever resolved and cached: a key
	// found in the cache need not be checked again.
	if e := r.cache.get(key); e != nil {
		switch {
		case e.fresh(now):
			e.touch()
			r.m.cacheHit.Inc()
			if e.schema != nil {
				return e.schema, nil
			}
			return nil, e.err.clone()
		case e.remote:
			// An expired schema from an HTTP repository: answer with it and refresh
			// in the background, so that no event waits on the network for a schema
			// it already had. (Local and embedded schemas are re-read at once: that is
			// cheap, and an edited local schema must apply to the next event.)
			e.touch()
			r.m.cacheStale.Inc()
			r.group.DoChan(key.String(), func() (any, error) {
				return r.resolve(context.WithoutCancel(ctx), key), nil
			})
			return e.schema, nil
		}
	}
	if key.Validate() != nil {
		return nil, &ClientError{Kind: ResolutionError}
	}
	r.m.cacheMiss.Inc()
	ch := r.group.DoChan(key.String(), func() (any, error) {
		return r.resolve(context.WithoutCancel(ctx), key), nil
	})
	select {
	case res := <-ch:
		e := res.Val.(*cacheEntry)
		if e.schema != nil {
			return e.schema, nil
		}
		return nil, e.err.clone()
	case <-ctx.Done():
		return nil, fmt.Errorf("looking up %s: %w", key, ctx.Err())
	}
}

// Invalidate drops what the resolver knows of key (the schema and its compiled
// validator, or a failed lookup), so the next lookup asks the repositories again. The
// Iglu Server API calls it when it publishes or deletes key.
func (r *Resolver) Invalidate(key SchemaKey) {
	r.gen.Add(1)
	r.group.Forget(key.String())
	r.cache.remove(key)
}

// resolve asks the repositories in order and caches the outcome.
func (r *Resolver) resolve(ctx context.Context, key SchemaKey) *cacheEntry {
	gen := r.gen.Load()
	defer func() {
		// An invalidation while this lookup ran may have made its answer stale.
		if r.gen.Load() != gen {
			r.cache.remove(key)
		}
	}()
	now := r.now()
	prev := r.cache.get(key)
	if prev != nil && prev.fresh(now) {
		return prev // another lookup finished while this one waited
	}
	var states []repoState
	for _, rp := range sortRepos(r.repos, key.Vendor) {
		if prev != nil && prev.schema == nil {
			if st, ok := prev.state(rp.name); ok && (st.retryAt.IsZero() || now.Before(st.retryAt)) {
				states = append(states, st)
				continue
			}
		}
		ferr, until, skipped := rp.skipped(now)
		var raw []byte
		if skipped {
			r.m.repoSkip.WithLabelValues(rp.name).Inc()
		} else {
			raw, ferr = rp.backend.fetch(ctx, key)
			until = rp.record(r.now(), ferr, r.cfg.BackoffMin, r.cfg.BackoffMax)
		}
		if ferr == nil {
			r.m.repoFound.WithLabelValues(rp.name).Inc()
			return r.store(key, rp, raw, prev, now)
		}
		if !skipped {
			if ferr.kind == NotFound {
				r.m.repoNotFound.WithLabelValues(rp.name).Inc()
			} else {
				r.m.repoFail.WithLabelValues(rp.name).Inc()
				r.log.Debug("schema repository failed", "schema", key.String(), "repository", rp.name, "err", ferr.Error())
			}
		}
		states = append(states, r.newState(rp, ferr, until, prev, now))
	}

	// Nothing found. Keep serving a stale schema when repositories failed rather
	// than answered NotFound.
	e := &cacheEntry{key: key, states: states, expires: r.negativeExpiry(states, now)}
	if prev != nil && prev.schema != nil && !e.allNotFound() {
		stale := &cacheEntry{key: key, schema: prev.schema, expires: e.expires, fromLocal: prev.fromLocal, remote: prev.remote}
		if stale.expires.IsZero() {
			stale.expires = now.Add(r.cfg.BackoffMin)
		}
		r.log.Warn("serving a stale schema: no repository could be reached", "schema", key.String())
		r.cache.put(stale)
		return stale
	}
	hist := make([]LookupHistory, len(states))
	for i, st := range states {
		hist[i] = st.history
	}
	slices.SortFunc(hist, func(a, b LookupHistory) int { return strings.Compare(a.Repository, b.Repository) })
	e.err = &ClientError{Kind: ResolutionError, LookupHistory: hist}
	r.cache.put(e)
	return e
}

// store caches a schema found in rp, reusing the previous *Schema (and so its compiled
// validator) when the document did not change.
func (r *Resolver) store(key SchemaKey, rp *repo, raw []byte, prev *cacheEntry, now time.Time) *cacheEntry {
	var s *Schema
	if prev != nil && prev.schema != nil && prev.schema.Repository == rp.name && bytes.Equal(prev.schema.Raw, raw) {
		s = prev.schema
	} else {
		s = newSchema(key, raw, rp.name, &r.compile)
	}
	e := &cacheEntry{key: key, schema: s, fromLocal: rp.class == classLocal, remote: rp.class == classHTTP}
	if r.ttl > 0 {
		e.expires = now.Add(r.ttl)
	}
	if e.fromLocal && (e.expires.IsZero() || now.Add(r.cfg.LocalRecheck).Before(e.expires)) {
		e.expires = now.Add(r.cfg.LocalRecheck)
	}
	r.cache.put(e)
	return e
}

// newState records one repository's failure for key, carrying over the attempts of a
// previous failure that is being retried.
func (r *Resolver) newState(rp *repo, ferr *fetchError, until time.Time, prev *cacheEntry, now time.Time) repoState {
	st := repoState{history: LookupHistory{
		Repository:  rp.name,
		Errors:      []RegistryError{{Kind: ferr.kind, Message: ferr.msg}},
		Attempts:    1,
		LastAttempt: now,
	}}
	if prev != nil {
		if old, ok := prev.state(rp.name); ok && !old.notFound() {
			st.history.Attempts = old.history.Attempts + 1
			for _, oe := range old.history.Errors {
				if !slices.Contains(st.history.Errors, oe) {
					st.history.Errors = append(st.history.Errors, oe)
				}
			}
		}
	}
	switch {
	case ferr.kind == NotFound && rp.class == classLocal:
		st.retryAt = now.Add(r.cfg.LocalRecheck)
	case ferr.kind == NotFound:
		if r.ttl > 0 {
			st.retryAt = now.Add(r.ttl)
		}
	case !until.IsZero():
		st.retryAt = until
	default:
		// A failure that does not back the repository off (an unreadable answer): try
		// again after the shortest back-off.
		st.retryAt = now.Add(r.cfg.BackoffMin)
	}
	return st
}

// negativeExpiry is when a failed lookup should be tried again: when the first
// repository is due again (zero: never, when every answer is a permanent NotFound and
// there is no TTL).
func (r *Resolver) negativeExpiry(states []repoState, now time.Time) time.Time {
	var exp time.Time
	for _, st := range states {
		if !st.retryAt.IsZero() && (exp.IsZero() || st.retryAt.Before(exp)) {
			exp = st.retryAt
		}
	}
	if r.ttl > 0 && (exp.IsZero() || now.Add(r.ttl).Before(exp)) {
		exp = now.Add(r.ttl)
	}
	return exp
}

// Validation tells which schema validated an instance.
type Validation struct {
	// Schema is the schema the instance was validated against: the requested one, or
	// the one that supersedes it.
	Schema *Schema
	// SupersededBy is the version actually used when the requested schema declares
	// "$supersededBy" (enrich then adds a validation_info context); zero otherwise.
	SupersededBy SchemaVer
}

// maxSupersedeChain bounds how many "$supersededBy" links Validate follows.
const maxSupersedeChain = 8

// Validate looks key up and validates instance against it (or against the version
// that supersedes it). instance must be a decoded JSON value: map[string]any, []any,
// string, bool, nil, and numbers as json.Number — decode with DecodeJSON or an
// encoding/json Decoder with UseNumber, so that 1.0 is a "number" and not an
// "integer" as in Snowplow. float64 numbers work too, but then 1.0 counts as an integer.
//
// The error is a *ClientError: ResolutionError when the schema cannot be found,
// ValidationError with DataReports when the instance is invalid (SupersededBy set if a
// superseding version was used), ValidationError with SchemaIssues when the schema
// cannot be used. Any other error is the caller's: a context error, or an instance
// that is not a decoded JSON value.
func (r *Resolver) Validate(ctx context.Context, key SchemaKey, instance any) (Validation, error) {
	s, err := r.Lookup(ctx, key)
	if err != nil {
		r.m.failed.Inc()
		return Validation{}, err
	}
	var by SchemaVer
	for i := 0; !s.SupersededBy.IsZero(); i++ {
		if i == maxSupersedeChain {
			r.m.failed.Inc()
			return Validation{}, schemaIssue("$.$supersededBy", fmt.Sprintf("more than %d $supersededBy links from %s", maxSupersedeChain, key))
		}
		by = s.SupersededBy
		next := key
		next.Version = by
		if s, err = r.Lookup(ctx, next); err != nil {
			r.m.failed.Inc()
			return Validation{}, err
		}
	}
	v, cerr := s.validator()
	if cerr != nil {
		r.m.failed.Inc()
		return Validation{}, cerr.clone()
	}
	reports, err := v.validate(instance)
	if err != nil {
		r.m.failed.Inc()
		return Validation{}, err
	}
	if len(reports) > 0 {
		r.m.invalid.Inc()
		return Validation{}, &ClientError{Kind: ValidationError, DataReports: reports, SupersededBy: by}
	}
	r.m.valid.Inc()
	return Validation{Schema: s, SupersededBy: by}, nil
}

// ValidText reports whether instance, the text of a valid JSON value, is certainly valid
// against key's schema, telling it from the text without decoding it: ok true is the
// answer Validate gives to the decoded instance (a Validation against key itself). ok
// false means only that it cannot tell (no such schema, one superseded, one using
// keywords the quick check does not implement, an instance it is unsure of, a lookup
// cut short by ctx): then Validate decides, with its reports and errors.
func (r *Resolver) ValidText(ctx context.Context, key SchemaKey, instance string) (v Validation, ok bool) {
	s, err := r.Lookup(ctx, key)
	if err != nil || !s.SupersededBy.IsZero() {
		return Validation{}, false
	}
	val, cerr := s.validator()
	if cerr != nil || val.fast == nil {
		return Validation{}, false
	}
	if end, ok := val.fast.validText(instance, 0); !ok || skipJSONSpace(instance, end) != len(instance) {
		return Validation{}, false
	}
	r.m.valid.Inc()
	return Validation{Schema: s}, true
}

// CheckSchema reports whether a schema document can be used to validate instances
// (valid draft-04, local references resolvable), as the resolver would compile it.
// The error is a *ClientError ValidationError with SchemaIssues.
func (r *Resolver) CheckSchema(raw []byte) error {
	if _, cerr := compileSchema(raw, r.compile); cerr != nil {
		return cerr
	}
	return nil
}

// List returns the versions of vendor/name/jsonschema/model-*-* that the repositories
// hold, sorted by version, for loaders that migrate tables. Repositories that can list
// are the embedded set, local folders and Iglu Servers; static HTTP repositories
// cannot. Results are not cached. When no version is found the error is a
// *ClientError ResolutionError.
func (r *Resolver) List(ctx context.Context, vendor, name string, model int) ([]SchemaKey, error) {
	now := r.now()
	var keys []SchemaKey
	var hist []LookupHistory
	for _, rp := range sortRepos(r.repos, vendor) {
		var found []SchemaKey
		ferr, _, skipped := rp.skipped(now)
		if !skipped {
			var err error
			found, err = rp.backend.list(ctx, vendor, name, model)
			switch {
			case errors.Is(err, errListUnsupported):
				ferr = &fetchError{kind: NotFound}
			case err != nil:
				var fe *fetchError
				if !errors.As(err, &fe) {
					fe = &fetchError{kind: RepoFailure, msg: err.Error()}
				}
				ferr = fe
				rp.record(r.now(), fe, r.cfg.BackoffMin, r.cfg.BackoffMax)
			case len(found) == 0:
				ferr = &fetchError{kind: NotFound}
			}
		}
		if ferr != nil {
			hist = append(hist, LookupHistory{Repository: rp.name, Errors: []RegistryError{{Kind: ferr.kind, Message: ferr.msg}}, Attempts: 1, LastAttempt: now})
			continue
		}
		keys = append(keys, found...)
	}
	if len(keys) == 0 {
		slices.SortFunc(hist, func(a, b LookupHistory) int { return strings.Compare(a.Repository, b.Repository) })
		return nil, &ClientError{Kind: ResolutionError, LookupHistory: hist}
	}
	slices.SortFunc(keys, SchemaKey.Compare)
	return slices.Compact(keys), nil
}
