package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

func TestEviction(t *testing.T) {
	for _, max := range []int{5, chunkSize + 3} {
		t.Run(fmt.Sprint(max), func(t *testing.T) {
			fx := loadFixtures(t)
			row := sizeViolation(t)
			ts := newTestServer(t, func(c *Config, _ *Deps) { c.MaxEvents = max })
			// 2*max+1 events, every third one bad: the oldest max+1 are evicted.
			var kept []string
			n := 2*max + 1
			wantEvicted := map[string]int{}
			for i := range n {
				bad := i%3 == 2
				if bad {
					ts.addBad(t, row)
				} else {
					id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
					v := fx["struct"].variant(map[event.Field]string{event.EventID: id})
					ts.ObserveGood(v.raw, v.ev)
					if i >= n-max {
						kept = append([]string{id}, kept...)
					}
				}
				if i < n-max {
					if bad {
						wantEvicted["bad"]++
					} else {
						wantEvicted["good"]++
					}
				}
			}
			var sum struct{ Total, Good, Bad int }
			ts.doJSON(t, http.MethodGet, "/micro/all", "", &sum)
			if sum.Total != max || sum.Good != len(kept) || sum.Bad != max-len(kept) {
				t.Errorf("/micro/all = %+v, want total %d, good %d", sum, max, len(kept))
			}
			var good []goodJSON
			ts.doJSON(t, http.MethodGet, "/micro/good", "", &good)
			if diff := cmp.Diff(kept, eventIDs(good)); diff != "" {
				t.Errorf("kept good events (-want +got):\n%s", diff)
			}
			for kind, want := range wantEvicted {
				if got := counterValue(t, ts.metrics.evicted.WithLabelValues(kind)); int(got) != want {
					t.Errorf("evicted{kind=%q} = %v, want %d", kind, got, want)
				}
			}
		})
	}
}

func TestConcurrentObserveAndRead(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, func(c *Config, _ *Deps) { c.MaxEvents = 500 })
	const writers, perWriter = 4, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			app := fmt.Sprint("app", w)
			for i := range perWriter {
				v := fx["link_click"].variant(map[event.Field]string{event.AppID: app})
				ts.ObserveGood(v.raw, v.ev)
				if i%50 == 0 {
					ts.addBad(t, schemaViolation(t, fx["link_click"], app))
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 3 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch r {
				case 0:
					var got []goodJSON
					ts.doJSON(t, http.MethodPost, "/micro/good", `{"contexts":["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"],"limit":50}`, &got)
				case 1:
					var got []badJSON
					ts.doJSON(t, http.MethodGet, "/micro/bad?app_id=app1", "", &got)
				case 2:
					ts.doJSON(t, http.MethodPost, "/micro/reset", `{"app_id":"app3"}`, &struct{}{})
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	var sum struct{ Total, Good, Bad int }
	ts.doJSON(t, http.MethodGet, "/micro/all", "", &sum)
	var good []goodJSON
	ts.doJSON(t, http.MethodGet, "/micro/good", "", &good)
	var bad []badJSON
	ts.doJSON(t, http.MethodGet, "/micro/bad", "", &bad)
	if sum.Good != len(good) || sum.Bad != len(bad) || sum.Total > 500 {
		t.Errorf("/micro/all = %+v, but /micro/good has %d and /micro/bad %d (max 500)", sum, len(good), len(bad))
	}
}

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

var _ SchemaResolver = (*iglu.Resolver)(nil)

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
		{"/micro/ui/", "text/html; charset=utf-8", "snowplow-mini <small>v0.1.0</small>"},
		{"/micro/ui/app.js", "text/javascript; charset=utf-8", "/micro/good?"},
		{"/micro/ui/style.css", "text/css; charset=utf-8", "ol.events"},
	} {
		res := ts.do(t, http.MethodGet, tt.target, "")
		if res.status != 200 || res.header.Get("Content-Type") != tt.wantType || !strings.Contains(string(res.body), tt.wantText) {
			t.Errorf("GET %s = %d %q, want 200 %q containing %q", tt.target, res.status, res.header.Get("Content-Type"), tt.wantType, tt.wantText)
		}
	}
	page := ts.do(t, http.MethodGet, "/micro/ui", "")
	if !strings.Contains(string(page.body), `data-refresh="2000"`) {
		t.Errorf("UI page does not carry the refresh interval: %s", page.body)
	}
	if res := ts.do(t, http.MethodGet, "/micro/ui/index.html", ""); res.status != 404 {
		t.Errorf("GET /micro/ui/index.html = %d, want 404 (the template is not served raw)", res.status)
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
	bad.MaxEvents = 0
	bad.ConsumerGroup = ""
	bad.BatchSize = 20_000
	bad.Wait.DefaultTimeout = 2 * time.Minute
	bad.UIRefresh = time.Millisecond
	err := bad.Validate()
	for _, want := range []string{
		"web.maxEvents: 0: must be at least 1",
		"web.consumerGroup: must not be empty",
		"web.batchSize: 20000: must be between 1 and 10000",
		"web.wait.defaultTimeout: 2m0s: must not exceed wait.maxTimeout (1m0s)",
		"web.uiRefresh: 1ms: must be at least 100ms",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to report %q", err, want)
		}
	}
	if _, err := New(bad, Deps{}); err == nil {
		t.Error("New with an invalid config = nil error, want one")
	}
	mem := newMemoryStream(t)
	if _, err := New(DefaultConfig(), Deps{Bad: streamOnly{mem}}); err == nil || !strings.Contains(err.Error(), "checkpointer") {
		t.Errorf("New with a bad stream and no checkpointer = %v, want an error about it", err)
	}
	if _, err := New(DefaultConfig(), Deps{Bad: mem}); err != nil {
		t.Errorf("New with a bad stream that is its own checkpointer = %v, want nil", err)
	}
}

// streamOnly hides the Checkpointer methods of a stream.
type streamOnly struct{ streams.Stream }

func newMemoryStream(t testing.TB) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = streams.Bad1
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestRunReadsTheBadStream(t *testing.T) {
	fx := loadFixtures(t)
	mem := newMemoryStream(t)
	ts := newTestServer(t, func(_ *Config, d *Deps) { d.Bad = mem })
	if err := ts.Health(); err == nil {
		t.Error("Health() before Run = nil, want an error")
	}
	rows := [][]byte{schemaViolation(t, fx["link_click"], "mine"), formatViolation(t), []byte("not a bad row")}
	var entries []streams.Entry
	for i, r := range rows {
		entries = append(entries, streams.Entry{PartitionKey: fmt.Sprint(i), Data: r})
	}
	if _, err := mem.Put(t.Context(), entries); err != nil {
		t.Fatal(err)
	}
	runErr := make(chan error, 1)
	go func() { runErr <- ts.Run(t.Context()) }()

	// /micro/wait is woken by the store: no sleeping here either.
	var got waitJSON
	ts.doJSON(t, http.MethodGet, "/micro/wait?type=bad&count=3&timeout=30s", "", &got)
	if !got.Complete {
		t.Fatalf("bad events from the stream: %+v, want 3", got)
	}
	if err := ts.Health(); err != nil {
		t.Errorf("Health() while running = %v, want nil", err)
	}
	if got := counterValue(t, ts.metrics.badRecords.WithLabelValues("unrecognised")); got != 1 {
		t.Errorf("unrecognised bad records = %v, want 1", got)
	}

	// A record put before Shutdown is read before Run returns (drain).
	if _, err := mem.Put(t.Context(), []streams.Entry{{PartitionKey: "late", Data: sizeViolation(t)}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown() = %v", err)
	}
	if err := <-runErr; err != nil {
		t.Errorf("Run() = %v, want nil after Shutdown", err)
	}
	var sum struct{ Bad int }
	ts.doJSON(t, http.MethodGet, "/micro/all", "", &sum)
	if sum.Bad != 4 {
		t.Errorf("bad events after drain = %d, want 4", sum.Bad)
	}
	if err := ts.Health(); err == nil {
		t.Error("Health() after Run returned = nil, want an error")
	}
	cps, err := mem.Checkpoints(t.Context(), "micro")
	if err != nil || len(cps) == 0 {
		t.Errorf("checkpoints of group micro = %v, %v; want some", cps, err)
	}
}

func TestRunWithoutBadStream(t *testing.T) {
	ts := newTestServer(t, nil)
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
			{"POST", "/micro/good", 200},
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
