package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// A page on another site must not read the captured events nor change them: no CORS
// headers for it, and 403 for anything but GET and HEAD (which it cannot read).
func TestCORSRefusesOtherOrigins(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	ts.ObserveGood(fx["struct"].raw, fx["struct"].ev)
	const evil = "https://evil.example"
	for _, tt := range []struct {
		method, target string
		header         []string
		wantStatus     int
	}{
		{"GET", "/micro/good", nil, 200},
		{"GET", "/micro/all", nil, 200},
		{"POST", "/micro/good", nil, 403},
		{"POST", "/micro/reset", nil, 403},
		{"OPTIONS", "/micro/good", []string{"Access-Control-Request-Method", "POST"}, 403},
	} {
		res := ts.do(t, tt.method, tt.target, "", append([]string{"Origin", evil}, tt.header...)...)
		if res.status != tt.wantStatus {
			t.Errorf("%s %s from %s = %d %s, want %d", tt.method, tt.target, evil, res.status, res.body, tt.wantStatus)
		}
		if got := res.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("%s %s from %s: Access-Control-Allow-Origin = %q, want none", tt.method, tt.target, evil, got)
		}
		if res.status == 403 && !strings.Contains(string(res.body), "--allowed-origins") {
			t.Errorf("%s %s from %s = %q, want a message naming --allowed-origins", tt.method, tt.target, evil, res.body)
		}
	}
	var sum struct{ Total int }
	ts.doJSON(t, http.MethodGet, "/micro/all", "", &sum)
	if sum.Total != 1 {
		t.Errorf("after a cross-origin reset the store holds %d events, want 1", sum.Total)
	}
}

func TestCORSAllowedOrigins(t *testing.T) {
	for _, tt := range []struct {
		allowed []string
		origin  string
		host    string
		want    bool
	}{
		{nil, "http://localhost:3000", "localhost:9090", false},
		{DefaultConfig().AllowedOrigins, "http://localhost:3000", "localhost:9090", true},
		{DefaultConfig().AllowedOrigins, "http://localhost", "localhost:9090", true},
		{DefaultConfig().AllowedOrigins, "http://127.0.0.1:8080", "localhost:9090", true},
		{DefaultConfig().AllowedOrigins, "http://[::1]:8080", "localhost:9090", true},
		{DefaultConfig().AllowedOrigins, "https://LOCALHOST:8443", "localhost:9090", true},
		{DefaultConfig().AllowedOrigins, "http://localhost.evil.example:3000", "localhost:9090", false},
		{DefaultConfig().AllowedOrigins, "http://127.0.0.1.evil.example", "localhost:9090", false},
		{DefaultConfig().AllowedOrigins, "null", "localhost:9090", false},
		{DefaultConfig().AllowedOrigins, "https://evil.example", "localhost:9090", false},
		// The UI, opened at whatever name the server is reached by, is same-origin.
		{DefaultConfig().AllowedOrigins, "http://devbox:9090", "devbox:9090", true},
		{[]string{"https://app.test:8443"}, "https://app.test:8443", "localhost:9090", true},
		{[]string{"https://app.test:8443"}, "https://app.test:8444", "localhost:9090", false},
		{[]string{"https://app.test:8443"}, "http://app.test:8443", "localhost:9090", false},
		{[]string{"https://app.test"}, "https://app.test", "localhost:9090", true},
		{[]string{"*"}, "https://evil.example", "localhost:9090", true},
	} {
		if got := newOriginPolicy(tt.allowed).allows(tt.origin, tt.host); got != tt.want {
			t.Errorf("origins %q: allows(%q, %q) = %t, want %t", tt.allowed, tt.origin, tt.host, got, tt.want)
		}
	}
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.AllowedOrigins = []string{"*"} })
	if res := ts.do(t, http.MethodPost, "/micro/good", "{}", "Origin", "https://suite.example"); res.status != 200 || res.header.Get("Access-Control-Allow-Origin") != "https://suite.example" {
		t.Errorf("with \"*\": POST /micro/good = %d %v, want 200 with the origin echoed", res.status, res.header)
	}
}

func TestConfigRejectsBadOrigins(t *testing.T) {
	for _, o := range []string{"localhost:3000", "http://", "http://a.test/path", "http://a.test:80:*", "*.example"} {
		c := DefaultConfig()
		c.AllowedOrigins = []string{o}
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "web.allowedOrigins[0]") {
			t.Errorf("Validate with allowedOrigins [%q] = %v, want an error naming web.allowedOrigins[0]", o, err)
		}
	}
}

// <img src="http://localhost:9090/micro/reset"> on any page must not wipe the events.
func TestResetNeedsPost(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	ts.ObserveGood(fx["struct"].raw, fx["struct"].ev)
	res := ts.do(t, http.MethodGet, "/micro/reset", "")
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "POST" || !strings.Contains(string(res.body), "use POST /micro/reset") {
		t.Errorf("GET /micro/reset = %d Allow %q %q, want 405, Allow POST and a message", res.status, res.header.Get("Allow"), res.body)
	}
	var sum struct{ Total int }
	ts.doJSON(t, http.MethodGet, "/micro/all", "", &sum)
	if sum.Total != 1 {
		t.Errorf("after GET /micro/reset the store holds %d events, want 1", sum.Total)
	}
}

// Names that are not Iglu names are refused before any repository sees them: an HTTP
// registry (called with its API key) must never get a ".." path.
func TestIgluNamesValidatedBeforeLookup(t *testing.T) {
	var hits atomic.Int64
	var paths []string
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		paths = append(paths, r.URL.Path)
		http.NotFound(w, r)
	}))
	defer registry.Close()
	rc, err := iglu.ParseResolverConfig([]byte(`{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":10,"repositories":[
		{"name":"registry","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"` + registry.URL + `/api","apikey":"secret-key"}}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := iglu.NewResolver(rc, iglu.ResolverDeps{})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Resolver = res })
	for _, target := range []string{
		"/micro/iglu/com.x/../jsonschema/1-0-0",
		"/micro/iglu/../x/jsonschema/1-0-0",
		"/micro/iglu/./x/jsonschema/1-0-0",
		"/micro/iglu/com.x/a.b/jsonschema/1-0-0",
		"/micro/iglu/com.x/a%2F..%2Fb/jsonschema/1-0-0",
		"/micro/iglu/com%20x/a/jsonschema/1-0-0",
	} {
		r := ts.do(t, http.MethodGet, target, "")
		if r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "invalid schema key") {
			t.Errorf("GET %s = %d %q, want 400 invalid schema key", target, r.status, r.body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the HTTP registry was asked %d times (%q), want never", n, paths)
	}
	// A valid name still reaches it.
	if r := ts.do(t, http.MethodGet, "/micro/iglu/com.x/y/jsonschema/1-0-0", ""); r.status != http.StatusNotFound || hits.Load() == 0 {
		t.Errorf("GET a valid missing key = %d after %d registry hits, want 404 after asking it", r.status, hits.Load())
	}
	// Lookup itself refuses keys that no parser would return.
	if _, err := res.Lookup(context.Background(), iglu.SchemaKey{Vendor: "..", Name: "x", Format: "jsonschema", Version: iglu.SchemaVer{Model: 1}}); err == nil {
		t.Error(`Lookup of vendor ".." succeeded, want an error`)
	}
}

// Error answers say what failed, not how: transport details stay in the log.
func TestIgluErrorsDoNotLeakInternals(t *testing.T) {
	const internal = "dial tcp: lookup registry.test on 10.9.8.7:53: no such host"
	failure := &iglu.ClientError{Kind: iglu.ResolutionError, LookupHistory: []iglu.LookupHistory{{
		Repository: "registry", Errors: []iglu.RegistryError{{Kind: iglu.RepoFailure, Message: internal}},
		Attempts: 1, LastAttempt: time.Date(2026, 11, 22, 2, 8, 7, 0, time.UTC),
	}}}
	for _, err := range []error{failure, errors.New("reading /home/me/schemas: " + internal)} {
		ts := newTestServer(t, func(_ *Config, d *Deps) { d.Resolver = &fakeResolver{err: err} })
		r := ts.do(t, http.MethodGet, "/micro/iglu/com.acme/x/jsonschema/1-0-0", "")
		if strings.Contains(string(r.body), "10.9.8.7") || strings.Contains(string(r.body), "/home/me") {
			t.Errorf("lookup failing with %v answered %d %s, which leaks it", err, r.status, r.body)
		}
		if r.status == http.StatusNotFound && !strings.Contains(string(r.body), `"error":"RepoFailure"`) {
			t.Errorf("repository failure answered %s, want Micro's shape with RepoFailure", r.body)
		}
	}
}
