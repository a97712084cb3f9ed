package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// fakeResolver answers lookups with one schema or one error.
type fakeResolver struct {
	schema json.RawMessage
	err    error
	got    iglu.SchemaKey
}

func (f *fakeResolver) Lookup(_ context.Context, key iglu.SchemaKey) (*iglu.Schema, error) {
	f.got = key
	if f.err != nil {
		return nil, f.err
	}
	return &iglu.Schema{Key: key, Raw: f.schema}, nil
}

func TestIglu(t *testing.T) {
	notFound := &iglu.ClientError{Kind: iglu.ResolutionError, LookupHistory: []iglu.LookupHistory{{
		Repository: "Iglu Central", Errors: []iglu.RegistryError{{Kind: iglu.NotFound}},
		Attempts: 1, LastAttempt: time.Date(2026, 11, 22, 2, 8, 7, 0, time.UTC),
	}}}
	schema := json.RawMessage(`{"self":{"vendor":"com.acme","name":"button","format":"jsonschema","version":"1-0-0"},"type":"object"}`)
	tests := []struct {
		name       string
		resolver   SchemaResolver
		target     string
		wantStatus int
		wantBody   string
	}{
		{"found", &fakeResolver{schema: schema}, "/micro/iglu/com.acme/button/jsonschema/1-0-0", 200, string(schema)},
		{"not found", &fakeResolver{err: fmt.Errorf("resolving: %w", notFound)}, "/micro/iglu/com.acme/button/jsonschema/1-0-0", 404,
			`{"value":{"Iglu Central":{"errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2026-11-22T02:08:07.000Z"}}}`},
		{"resolver failure", &fakeResolver{err: errors.New("disk on fire")}, "/micro/iglu/com.acme/button/jsonschema/1-0-0", 500,
			"looking up iglu:com.acme/button/jsonschema/1-0-0 failed; the server log has the details"},
		{"bad version", &fakeResolver{schema: schema}, "/micro/iglu/com.acme/button/jsonschema/1-0", 404, badSchemaPathText},
		{"zero model", &fakeResolver{schema: schema}, "/micro/iglu/com.acme/button/jsonschema/0-1-0", 404, badSchemaPathText},
		{"no resolver", nil, "/micro/iglu/com.acme/button/jsonschema/1-0-0", 404, "No Iglu resolver is configured."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, func(_ *Config, d *Deps) { d.Resolver = tt.resolver })
			res := ts.do(t, http.MethodGet, tt.target, "")
			if res.status != tt.wantStatus || string(res.body) != tt.wantBody {
				t.Errorf("GET %s = %d %s, want %d %s", tt.target, res.status, res.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	fr := &fakeResolver{schema: schema}
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Resolver = fr })
	ts.do(t, http.MethodGet, "/micro/iglu/com.acme/button/jsonschema/2-1-3", "")
	if want := (iglu.SchemaKey{Vendor: "com.acme", Name: "button", Format: "jsonschema", Version: iglu.SchemaVer{Model: 2, Revision: 1, Addition: 3}}); fr.got != want {
		t.Errorf("looked up %v, want %v", fr.got, want)
	}
}

func TestUI(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tt := range []struct {
		target, wantType, wantText string
	}{
		{"/micro/ui", "text/html; charset=utf-8", `<script src="/micro/ui/app.js" defer></script>`},
		{"/micro/ui/", "text/html; charset=utf-8", `id="timeline"`},
		{"/micro/ui/app.js", "text/javascript; charset=utf-8", "/micro/events"},
		{"/micro/ui/style.css", "text/css; charset=utf-8", ".panel"},
	} {
		res := ts.do(t, http.MethodGet, tt.target, "")
		if res.status != 200 || res.header.Get("Content-Type") != tt.wantType || !strings.Contains(string(res.body), tt.wantText) {
			t.Errorf("GET %s = %d %q, want 200 %q containing %q", tt.target, res.status, res.header.Get("Content-Type"), tt.wantType, tt.wantText)
		}
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s Content-Security-Policy = %q, want scripts from the page's own files only", tt.target, csp)
		}
	}
	if res := ts.do(t, http.MethodGet, "/micro/ui/nope.js", ""); res.status != 404 {
		t.Errorf("GET /micro/ui/nope.js = %d, want 404", res.status)
	}
	// Event data reaches the page as text only: the script has no way to parse markup.
	js, err := uiFiles.ReadFile("ui/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(string(js), sink) {
			t.Errorf("ui/app.js uses %s: render event data with textContent", sink)
		}
	}
	for _, target := range []string{"/micro", "/micro/"} {
		res := ts.do(t, http.MethodGet, target, "")
		if res.status != http.StatusFound || res.header.Get("Location") != "/micro/ui" {
			t.Errorf("GET %s = %d to %q, want 302 to /micro/ui", target, res.status, res.header.Get("Location"))
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v, want nil", err)
	}
	bad := DefaultConfig()
	bad.MaxPageSize = 0
	bad.MaxFailedEvents = -1
	bad.Wait.DefaultTimeout = 2 * time.Minute
	err := bad.Validate()
	for _, want := range []string{
		"web.maxPageSize: 0: must be between 1 and 100000",
		"web.maxFailedEvents: -1: must be between 0 and 1000000",
		"web.wait.defaultTimeout: 2m0s: must not exceed wait.maxTimeout (1m0s)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to report %q", err, want)
		}
	}
	if _, err := New(bad, Deps{Store: newMemStore()}); err == nil {
		t.Error("New with an invalid config = nil error, want one")
	}
	if _, err := New(DefaultConfig(), Deps{}); err == nil || !strings.Contains(err.Error(), "event store") {
		t.Errorf("New without a store = %v, want an error about it", err)
	}
}

func TestRunAndShutdown(t *testing.T) {
	ts := newTestServer(t, nil)
	if err := ts.Health(); err == nil {
		t.Error("Health() before Run = nil, want an error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	runErr := make(chan error, 1)
	go func() { runErr <- ts.Run(ctx) }()
	cancel()
	if err := <-runErr; err != nil {
		t.Errorf("Run() after cancel = %v, want nil", err)
	}
	if err := ts.Run(t.Context()); err == nil {
		t.Error("second Run() = nil, want an error")
	}
}

func TestRedirectToUI(t *testing.T) {
	ts := newTestServer(t, nil)
	rec := httptest.NewRecorder()
	ts.RedirectToUI().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/micro/ui" {
		t.Errorf("RedirectToUI on / = %d to %q, want 302 to /micro/ui", rec.Code, rec.Header().Get("Location"))
	}
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestIgluWithTheEmbeddedResolver(t *testing.T) {
	cfg := iglu.DefaultConfig()
	cfg.Repositories = nil // offline: the embedded core schemas only
	res, err := iglu.NewResolver(cfg, iglu.ResolverDeps{})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Resolver = res })

	found := ts.do(t, http.MethodGet, "/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", "")
	var schema struct {
		Self struct{ Vendor, Name, Format, Version string } `json:"self"`
	}
	if found.status != http.StatusOK || json.Unmarshal(found.body, &schema) != nil || schema.Self.Name != "web_page" {
		t.Errorf("GET web_page 1-0-0 = %d %s, want 200 and the schema", found.status, found.body)
	}

	missing := ts.do(t, http.MethodGet, "/micro/iglu/com.acme/missing/jsonschema/1-0-0", "")
	var report struct {
		Value map[string]struct {
			Errors []struct {
				Error string `json:"error"`
			} `json:"errors"`
			Attempts    int    `json:"attempts"`
			LastAttempt string `json:"lastAttempt"`
		} `json:"value"`
	}
	if missing.status != http.StatusNotFound || json.Unmarshal(missing.body, &report) != nil || len(report.Value) == 0 {
		t.Fatalf("GET a missing schema = %d %s, want 404 with Micro's lookup report", missing.status, missing.body)
	}
	for repo, h := range report.Value {
		if len(h.Errors) != 1 || h.Errors[0].Error != "NotFound" || h.Attempts < 1 || h.LastAttempt == "" {
			t.Errorf("lookup report of %q = %+v, want one NotFound", repo, h)
		}
	}
}

// TestRoutesBeatTheCollectors mounts the API on a router that also has the collector's
// catch-all patterns, in either order, as main does: /micro/* must still answer.
func TestRoutesBeatTheCollectors(t *testing.T) {
	collector := func(r chi.Router) {
		stub := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }
		r.Post("/{vendor}/{version}", stub)
		r.Get("/{vendor}/{version}", stub)
		r.Options("/*", stub)
		r.NotFound(stub)
		r.MethodNotAllowed(stub)
	}
	for _, micro := range []bool{true, false} {
		ts := newTestServer(t, nil)
		r := chi.NewRouter()
		if micro {
			ts.Register(r)
			collector(r)
		} else {
			collector(r)
			ts.Register(r)
		}
		ts.h = r
		for _, tt := range []struct {
			method, target string
			want           int
		}{
			{"POST", "/micro/good", 400}, // Micro's answer to no body
			{"GET", "/micro/all", 200},
			{"GET", "/micro/iglu/com.acme/x/jsonschema/1-0-0", 404},
			{"GET", "/micro/a/b/c", 404},
			{"DELETE", "/micro/good", 404},
			{"GET", "/micro", 302},
			{"POST", "/com.snowplowanalytics.snowplow/tp2", http.StatusTeapot},
			{"GET", "/elsewhere/deeper/still", http.StatusTeapot},
		} {
			if res := ts.do(t, tt.method, tt.target, ""); res.status != tt.want {
				t.Errorf("micro registered first %t: %s %s = %d, want %d", micro, tt.method, tt.target, res.status, tt.want)
			}
		}
		pre := ts.do(t, http.MethodOptions, "/micro/good", "", "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST")
		if pre.status != http.StatusOK || pre.header.Get("Access-Control-Allow-Methods") != "GET, POST, OPTIONS" {
			t.Errorf("micro registered first %t: preflight of /micro/good = %d %v, want ours", micro, pre.status, pre.header)
		}
	}
}
