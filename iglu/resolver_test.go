package iglu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// reqLog records which repositories were asked, in order.
type reqLog struct {
	mu    sync.Mutex
	names []string
}

func (l *reqLog) add(name string) {
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

// fakeRepo is an HTTP schema repository that records requests.
type fakeRepo struct {
	mu      sync.Mutex
	schemas map[string]string // path under /schemas/ → body
	status  int               // when non-zero, every request answers this status
	hits    []string
	apikeys []string
	log     *reqLog // shared by several repositories
	name    string
	srv     *httptest.Server
}

func newFakeRepo(t *testing.T, name string, log *reqLog, schemas map[string]string) *fakeRepo {
	t.Helper()
	f := &fakeRepo{schemas: schemas, log: log, name: name}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits = append(f.hits, r.URL.Path)
		f.apikeys = append(f.apikeys, r.Header.Get("apikey"))
		if f.log != nil {
			f.log.add(f.name)
		}
		status := f.status
		body, ok := f.schemas[strings.TrimPrefix(r.URL.Path, "/schemas/")]
		f.mu.Unlock()
		switch {
		case status != 0:
			w.WriteHeader(status)
		case !ok:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"The schema is not found"}`)
		default:
			fmt.Fprint(w, body)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRepo) setStatus(s int) {
	f.mu.Lock()
	f.status = s
	f.mu.Unlock()
}

func (f *fakeRepo) hitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.hits)
}

func httpRepo(name string, priority int, uri string, prefixes ...string) RepositoryConfig {
	if prefixes == nil {
		prefixes = []string{}
	}
	return RepositoryConfig{Name: name, Priority: priority, VendorPrefixes: prefixes, Connection: ConnectionConfig{HTTP: &HTTPConnection{URI: uri}}}
}

func resolutionError(t *testing.T, err error) *ClientError {
	t.Helper()
	var ce *ClientError
	if !errors.As(err, &ce) || ce.Kind != ResolutionError {
		t.Fatalf("error = %v, want a ResolutionError", err)
	}
	return ce
}

func TestResolverLookupOrder(t *testing.T) {
	log := &reqLog{}
	a := newFakeRepo(t, "a", log, nil)
	b := newFakeRepo(t, "b", log, nil)
	c := newFakeRepo(t, "c", log, nil)
	d := newFakeRepo(t, "d", log, nil)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{
		httpRepo("a", 5, a.srv.URL),
		httpRepo("b", 1, b.srv.URL, "com.acme"),
		httpRepo("c", 0, c.srv.URL),
		httpRepo("d", 3, d.srv.URL, "com.ac"),
		{Name: "user embedded", Priority: 9, VendorPrefixes: []string{"com.acme"}, Connection: ConnectionConfig{Embedded: &EmbeddedConnection{Path: "/iglu-embedded"}}},
	}
	r := newTestResolver(t, cfg, newTestClock())
	_, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0"))
	ce := resolutionError(t, err)

	// Prefix-matching repositories first (embedded class before HTTP, then priority),
	// then the others by priority.
	if diff := cmp.Diff([]string{"b", "d", "c", "a"}, log.names); diff != "" {
		t.Errorf("HTTP request order (-want +got):\n%s", diff)
	}
	var repos []string
	for _, h := range ce.LookupHistory {
		repos = append(repos, h.Repository)
		if h.Attempts != 1 || len(h.Errors) != 1 || h.Errors[0].Kind != NotFound {
			t.Errorf("history of %s = %+v, want one NotFound attempt", h.Repository, h)
		}
	}
	want := []string{EmbeddedRepositoryName, "a", "b", "c", "d", "user embedded"}
	if diff := cmp.Diff(want, repos); diff != "" {
		t.Errorf("lookupHistory repositories, sorted by name (-want +got):\n%s", diff)
	}
}

func TestResolverEmbeddedBeforeNetwork(t *testing.T) {
	central := newFakeRepo(t, "central", nil, nil)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{httpRepo("Iglu Central", 0, central.srv.URL, "com.snowplowanalytics")}
	r := newTestResolver(t, cfg, newTestClock())
	s, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Repository != EmbeddedRepositoryName || central.hitCount() != 0 {
		t.Errorf("web_page served by %q after %d requests to Iglu Central; want the embedded set and none", s.Repository, central.hitCount())
	}
}

func TestResolverStrictOrder(t *testing.T) {
	central := newFakeRepo(t, "central", nil, map[string]string{
		"com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0": selfDesc("com.snowplowanalytics.snowplow", "web_page", "1-0-0", `"type":"object"`),
	})
	cfg := offlineConfig()
	cfg.StrictOrder = true
	cfg.Repositories = []RepositoryConfig{httpRepo("Iglu Central", 0, central.srv.URL, "com.snowplowanalytics")}
	r := newTestResolver(t, cfg, newTestClock())
	s, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"))
	if err != nil || s.Repository != "Iglu Central" {
		t.Errorf("Lookup(web_page) with StrictOrder = %v, %v; want it from Iglu Central, asked first", s, err)
	}
	// Down: the embedded set answers after it.
	central.setStatus(http.StatusInternalServerError)
	s, err = r.Lookup(context.Background(), mustKey(t, "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"))
	if err != nil || s.Repository != EmbeddedRepositoryName {
		t.Errorf("Lookup(link_click) with Iglu Central down = %v, %v; want the embedded set", s, err)
	}
}

func TestResolverNotFoundIsCached(t *testing.T) {
	repo := newFakeRepo(t, "r", nil, nil)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
	clock := newTestClock()
	r := newTestResolver(t, cfg, clock)
	key := mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")
	ctx := context.Background()

	_, err := r.Lookup(ctx, key)
	first := resolutionError(t, err)
	clock.Advance(time.Minute)
	_, err = r.Lookup(ctx, key)
	second := resolutionError(t, err)
	if repo.hitCount() != 1 {
		t.Errorf("requests after two lookups = %d, want 1 (NotFound cached)", repo.hitCount())
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("cached error differs (-first +second):\n%s", diff)
	}
	if !first.IsNotFound() {
		t.Errorf("IsNotFound() = false for %v", first)
	}
	// After cacheTtl (600 s), the repository is asked again.
	clock.Advance(10 * time.Minute)
	_, _ = r.Lookup(ctx, key)
	if repo.hitCount() != 2 {
		t.Errorf("requests after the TTL = %d, want 2", repo.hitCount())
	}
}

func TestResolverRepoFailureBacksOff(t *testing.T) {
	repo := newFakeRepo(t, "r", nil, map[string]string{
		"com.acme/x/jsonschema/1-0-0": selfDesc("com.acme", "x", "1-0-0", `"type":"object"`),
	})
	repo.setStatus(http.StatusInternalServerError)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
	clock := newTestClock()
	r := newTestResolver(t, cfg, clock)
	key := mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")
	other := mustKey(t, "iglu:com.acme/y/jsonschema/1-0-0")
	ctx := context.Background()

	_, err := r.Lookup(ctx, key)
	ce := resolutionError(t, err)
	h := historyOf(t, ce, "R")
	if h.Errors[0].Kind != RepoFailure || !strings.Contains(h.Errors[0].Message, "500") {
		t.Errorf("first failure = %+v, want RepoFailure with the status", h)
	}

	// Within the back-off: no request, for this key or any other, and RepoFailure at once.
	clock.Advance(time.Second)
	for _, k := range []SchemaKey{key, other} {
		_, err = r.Lookup(ctx, k)
		h := historyOf(t, resolutionError(t, err), "R")
		if h.Errors[0].Kind != RepoFailure {
			t.Errorf("Lookup(%s) during back-off = %+v, want RepoFailure", k, h)
		}
	}
	if repo.hitCount() != 1 {
		t.Errorf("requests during back-off = %d, want 1", repo.hitCount())
	}

	// After the back-off (10 s) the repository is tried again; it is back.
	repo.setStatus(0)
	clock.Advance(10 * time.Second)
	s, err := r.Lookup(ctx, key)
	if err != nil || s.Repository != "R" {
		t.Fatalf("Lookup after recovery = %v, %v", s, err)
	}
	if repo.hitCount() != 2 {
		t.Errorf("requests after back-off = %d, want 2", repo.hitCount())
	}
}

func TestResolverBackoffGrowsAndAttemptsAccumulate(t *testing.T) {
	repo := newFakeRepo(t, "r", nil, nil)
	repo.setStatus(http.StatusBadGateway)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
	clock := newTestClock()
	r := newTestResolver(t, cfg, clock)
	key := mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")
	ctx := context.Background()

	var last LookupHistory
	for i, wait := range []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second} {
		clock.Advance(wait)
		_, err := r.Lookup(ctx, key)
		last = historyOf(t, resolutionError(t, err), "R")
		if repo.hitCount() != i+1 {
			t.Fatalf("after %d waits: %d requests, want %d (back-off 10s, 20s, 40s)", i, repo.hitCount(), i+1)
		}
		// Just before the next back-off ends nothing is sent.
		clock.Advance(time.Duration(10<<i)*time.Second - time.Millisecond)
		_, _ = r.Lookup(ctx, key)
		clock.Advance(-(time.Duration(10<<i)*time.Second - time.Millisecond))
		if repo.hitCount() != i+1 {
			t.Fatalf("request sent before the back-off ended (attempt %d)", i+1)
		}
	}
	if last.Attempts != 4 {
		t.Errorf("attempts = %d, want 4", last.Attempts)
	}
}

func historyOf(t *testing.T, ce *ClientError, repo string) LookupHistory {
	t.Helper()
	for _, h := range ce.LookupHistory {
		if h.Repository == repo {
			return h
		}
	}
	t.Fatalf("no history for %s in %v", repo, ce)
	return LookupHistory{}
}

func TestResolverHTTPStatuses(t *testing.T) {
	tests := []struct {
		status int
		want   RegistryErrorKind
	}{
		{http.StatusNotFound, NotFound},
		{http.StatusForbidden, NotFound},
		{http.StatusUnauthorized, NotFound},
		{http.StatusInternalServerError, RepoFailure},
		{http.StatusServiceUnavailable, RepoFailure},
		{http.StatusTooManyRequests, RepoFailure},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			repo := newFakeRepo(t, "r", nil, nil)
			repo.setStatus(tt.status)
			cfg := offlineConfig()
			cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
			r := newTestResolver(t, cfg, newTestClock())
			_, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0"))
			if h := historyOf(t, resolutionError(t, err), "R"); h.Errors[0].Kind != tt.want {
				t.Errorf("HTTP %d = %+v, want %s", tt.status, h, tt.want)
			}
		})
	}
}

func TestResolverTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	cfg := offlineConfig()
	cfg.HTTPTimeout = 50 * time.Millisecond
	cfg.Repositories = []RepositoryConfig{httpRepo("Slow", 0, slow.URL)}
	r := newTestResolver(t, cfg, newTestClock())

	// The handler never answers; only the timeout ends the lookup.
	_, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0"))
	h := historyOf(t, resolutionError(t, err), "Slow")
	if h.Errors[0].Kind != RepoFailure || !strings.Contains(h.Errors[0].Message, "deadline exceeded") {
		t.Errorf("history = %+v, want RepoFailure after the deadline", h)
	}
}

func TestResolverCallerContext(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(func() { close(release); slow.Close() })
	cfg := offlineConfig()
	cfg.HTTPTimeout = time.Hour
	cfg.Repositories = []RepositoryConfig{httpRepo("Slow", 0, slow.URL)}
	r := newTestResolver(t, cfg, newTestClock())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := r.Lookup(ctx, mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Lookup(cancelled ctx) = %v, want context.Canceled", err)
	}
}

func TestResolverServesStaleWhenUnreachable(t *testing.T) {
	repo := newFakeRepo(t, "r", nil, map[string]string{
		"com.acme/x/jsonschema/1-0-0": selfDesc("com.acme", "x", "1-0-0", `"type":"object"`),
	})
	cfg := offlineConfig()
	ttl := 60
	cfg.CacheTTL = &ttl
	cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
	clock := newTestClock()
	r := newTestResolver(t, cfg, clock)
	key := mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")
	ctx := context.Background()
	first, err := r.Lookup(ctx, key)
	if err != nil {
		t.Fatal(err)
	}

	// Expired, repository down: the expired schema is served at once, and one refresh
	// is attempted in the background.
	repo.setStatus(http.StatusServiceUnavailable)
	clock.Advance(2 * time.Minute)
	again, err := r.Lookup(ctx, key)
	if err != nil || again != first {
		t.Fatalf("Lookup after the TTL = %v, %v; want the expired schema", again, err)
	}
	poll.Until(t, "the background refresh", 10*time.Second, func() bool { return repo.hitCount() == 2 })
	poll.Until(t, "the refresh to be recorded", 10*time.Second, func() bool {
		e := r.cache.get(key)
		return e != nil && e.schema == first && e.fresh(clock.Now())
	})
	// Still served while the repository is backing off.
	if s, err := r.Lookup(ctx, key); err != nil || s != first {
		t.Errorf("Lookup during the back-off = %v, %v; want the stale schema", s, err)
	}

	// Gone for good (404): once the refresh has seen it, the schema is not served.
	repo.setStatus(http.StatusNotFound)
	clock.Advance(time.Hour)
	_, _ = r.Lookup(ctx, key)
	poll.Until(t, "the refresh that sees the 404", 10*time.Second, func() bool {
		_, err := r.Lookup(ctx, key)
		return err != nil
	})
}

func TestResolverHTTPDetails(t *testing.T) {
	body := selfDesc("com.acme", "x", "1-0-0", `"type":"object"`)
	repo := newFakeRepo(t, "r", nil, map[string]string{"com.acme/x/jsonschema/1-0-0": body, "com.acme/bad/jsonschema/1-0-0": "<html>"})
	key := "secret-uuid"
	cfg := offlineConfig()
	rc := httpRepo("R", 0, repo.srv.URL+"/")
	rc.Connection.HTTP.APIKey = &key
	cfg.Repositories = []RepositoryConfig{rc}
	r := newTestResolver(t, cfg, newTestClock())
	s, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0"))
	if err != nil || string(s.Raw) != body {
		t.Fatalf("Lookup = %v, %v", s, err)
	}
	repo.mu.Lock()
	if repo.hits[0] != "/schemas/com.acme/x/jsonschema/1-0-0" || repo.apikeys[0] != key {
		t.Errorf("request %s with apikey %q, want /schemas/com.acme/x/jsonschema/1-0-0 and %q", repo.hits[0], repo.apikeys[0], key)
	}
	repo.mu.Unlock()
	_, err = r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/bad/jsonschema/1-0-0"))
	if h := historyOf(t, resolutionError(t, err), "R"); h.Errors[0].Kind != RepoFailure {
		t.Errorf("non-JSON answer = %+v, want RepoFailure", h)
	}
	// The repository answered: it is not backed off for other keys.
	if _, err := r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")); err != nil {
		t.Errorf("Lookup(x) after a non-JSON answer for another key = %v", err)
	}
}

func TestResolverLocalFolder(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"schemas/com.acme/x/jsonschema/1-0-0":      selfDesc("com.acme", "x", "1-0-0", `"type":"object","maxProperties":1`),
		"schemas/com.acme/y/jsonschema/1-0-0.json": selfDesc("com.acme", "y", "1-0-0", `"type":"string"`),
		// Overrides the embedded schema of the same key.
		"schemas/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0": selfDesc("com.snowplowanalytics.snowplow", "web_page", "1-0-0", `"type":"object"`),
	})
	clock := newTestClock()
	r := newTestResolver(t, offlineConfig(dir), clock)
	ctx := context.Background()
	x := mustKey(t, "iglu:com.acme/x/jsonschema/1-0-0")
	local := "Local schemas (" + filepath.Join(dir, "schemas") + ")"

	s1, err := r.Lookup(ctx, x)
	if err != nil || s1.Repository != local {
		t.Fatalf("Lookup(x) = %v, %v; want from %s", s1, err, local)
	}
	if _, err := r.Lookup(ctx, mustKey(t, "iglu:com.acme/y/jsonschema/1-0-0")); err != nil {
		t.Errorf("Lookup(y, stored as 1-0-0.json) = %v", err)
	}
	wp, err := r.Lookup(ctx, mustKey(t, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"))
	if err != nil || wp.Repository != local {
		t.Errorf("Lookup(web_page) = %v, %v; want the local copy first", wp, err)
	}
	if _, err := r.Validate(ctx, x, mustDecode(t, `{"a":1}`)); err != nil {
		t.Fatal(err)
	}

	// Unchanged file after the recheck period: same *Schema, compiled once.
	clock.Advance(3 * time.Second)
	s2, _ := r.Lookup(ctx, x)
	if s2 != s1 {
		t.Errorf("Lookup after recheck of an unchanged file returned a new schema")
	}

	// Edited file: picked up after the recheck period.
	p := filepath.Join(dir, "schemas", "com.acme", "x", "jsonschema", "1-0-0")
	if err := os.WriteFile(p, []byte(selfDesc("com.acme", "x", "1-0-0", `"type":"object","maxProperties":0`)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Validate(ctx, x, mustDecode(t, `{"a":1}`)); err != nil {
		t.Errorf("Validate before the recheck = %v, want the cached schema", err)
	}
	clock.Advance(3 * time.Second)
	if _, err := r.Validate(ctx, x, mustDecode(t, `{"a":1}`)); err == nil {
		t.Errorf("Validate after the recheck = nil, want the edited schema to reject")
	}

	// A schema added later is found once the NotFound expires.
	z := mustKey(t, "iglu:com.acme/z/jsonschema/1-0-0")
	if _, err := r.Lookup(ctx, z); err == nil {
		t.Fatal("Lookup(z) before it exists = nil error")
	}
	zp := filepath.Join(dir, "schemas", "com.acme", "z", "jsonschema")
	_ = os.MkdirAll(zp, 0o755)
	if err := os.WriteFile(filepath.Join(zp, "1-0-0"), []byte(selfDesc("com.acme", "z", "1-0-0", `"type":"object"`)), 0o644); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3 * time.Second)
	if _, err := r.Lookup(ctx, z); err != nil {
		t.Errorf("Lookup(z) after it was added = %v", err)
	}

	if _, err := NewResolver(offlineConfig(filepath.Join(dir, "missing")), ResolverDeps{}); err == nil {
		t.Errorf("NewResolver with a missing schema folder = nil error")
	}
}

func TestResolverLRU(t *testing.T) {
	repo := newFakeRepo(t, "r", nil, map[string]string{
		"com.acme/a/jsonschema/1-0-0": selfDesc("com.acme", "a", "1-0-0", `"type":"object"`),
		"com.acme/b/jsonschema/1-0-0": selfDesc("com.acme", "b", "1-0-0", `"type":"object"`),
		"com.acme/c/jsonschema/1-0-0": selfDesc("com.acme", "c", "1-0-0", `"type":"object"`),
	})
	cfg := offlineConfig()
	cfg.CacheSize = 2
	cfg.Repositories = []RepositoryConfig{httpRepo("R", 0, repo.srv.URL)}
	clock := newTestClock()
	r := newTestResolver(t, cfg, clock)
	ctx := context.Background()
	get := func(n string) {
		clock.Advance(time.Millisecond)
		if _, err := r.Lookup(ctx, mustKey(t, "iglu:com.acme/"+n+"/jsonschema/1-0-0")); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("a") // a is now more recent than b
	get("c") // evicts b
	if repo.hitCount() != 3 {
		t.Fatalf("requests = %d, want 3", repo.hitCount())
	}
	get("a")
	if repo.hitCount() != 3 {
		t.Errorf("a was evicted, want b evicted (least recently used)")
	}
	get("b")
	if repo.hitCount() != 4 {
		t.Errorf("b was not evicted")
	}
}

func TestResolverMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, err := NewResolver(offlineConfig(), ResolverDeps{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := mustKey(t, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
	_, _ = r.Validate(ctx, key, mustDecode(t, `{"id":"6f1c6c8e-7f0c-4c7f-9a0e-1e2f3a4b5c6d"}`))
	_, _ = r.Validate(ctx, key, mustDecode(t, `{}`))
	_, _ = r.Lookup(ctx, mustKey(t, "iglu:com.acme/none/jsonschema/1-0-0"))
	for _, c := range []struct {
		name, result string
		want         float64
	}{
		{"snowplow_mini_iglu_validations_total", "valid", 1},
		{"snowplow_mini_iglu_validations_total", "invalid", 1},
		{"snowplow_mini_iglu_cache_lookups_total", "hit", 1},
		{"snowplow_mini_iglu_cache_lookups_total", "miss", 2},
	} {
		if got := counterValue(t, reg, c.name, "result", c.result); got != c.want {
			t.Errorf("%s{result=%q} = %v, want %v", c.name, c.result, got, c.want)
		}
	}
	if got := counterValue(t, reg, "snowplow_mini_iglu_repository_requests_total", "repository", EmbeddedRepositoryName); got != 2 {
		t.Errorf("requests to the embedded repository = %v, want 2", got)
	}
	if _, err := NewResolver(offlineConfig(), ResolverDeps{Registerer: reg}); err == nil {
		t.Errorf("registering the metrics twice = nil error")
	}
}

func TestResolverList(t *testing.T) {
	server := http.NewServeMux()
	server.HandleFunc("/api/schemas/com.snowplowanalytics.snowplow/client_session/jsonschema/1", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `["iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-3"]`)
	})
	srv := httptest.NewServer(server)
	t.Cleanup(srv.Close)
	static := newFakeRepo(t, "static", nil, nil)
	cfg := offlineConfig()
	cfg.Repositories = []RepositoryConfig{httpRepo("Server", 0, srv.URL+"/api"), httpRepo("Static", 1, static.srv.URL)}
	r := newTestResolver(t, cfg, newTestClock())
	keys, err := r.List(context.Background(), "com.snowplowanalytics.snowplow", "client_session", 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range keys {
		got = append(got, k.Version.String())
	}
	if diff := cmp.Diff([]string{"1-0-0", "1-0-1", "1-0-2", "1-0-3"}, got); diff != "" {
		t.Errorf("List(client_session, 1) (-want +got):\n%s", diff)
	}
	_, err = r.List(context.Background(), "com.acme", "none", 1)
	resolutionError(t, err)
}

func TestNewResolverRejectsBadConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CacheSize = 0
	cfg.HTTPTimeout = 0
	cfg.Repositories = append(cfg.Repositories, RepositoryConfig{Name: "Iglu Central"}, httpRepo("x", 0, "ftp://a"))
	_, err := NewResolver(cfg, ResolverDeps{})
	if err == nil {
		t.Fatal("NewResolver(bad config) = nil error")
	}
	for _, want := range []string{
		"iglu.cacheSize: must be at least 1",
		"iglu.httpTimeout: must be positive",
		`iglu.repositories[1].name: "Iglu Central" is used by another repository`,
		"iglu.repositories[1].connection: must have exactly one of http and embedded, got neither",
		`iglu.repositories[2].connection.http.uri: must be an absolute http(s) URL, got "ftp://a"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// counterValue sums the counters of a family whose label has the value.
func counterValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
