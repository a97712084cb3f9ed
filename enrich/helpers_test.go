package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// testNow is the clock of the test enrichers (etl_tstamp and bad-row timestamps).
var testNow = time.Date(2026, 11, 22, 2, 9, 0, 0, time.UTC)

// request is an HTTP request as the collector receives it.
type request struct {
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	RawQuery string      `json:"query"`
	Headers  [][2]string `json:"headers"` // name, value in request order
	Body     string      `json:"body"`
	// BodyBase64, when set, is the body (for bytes that are not UTF-8).
	BodyBase64 string    `json:"bodyBase64"`
	Remote     string    `json:"remote"`
	Time       time.Time `json:"time"`
	// NetworkUserID overrides the collector's cookie id.
	NetworkUserID string `json:"networkUserId"`
}

// collectorPayload records r as the collector does: the path and raw query, the body of
// a POST, Host first and then the other headers sorted by canonical name, the
// lower-cased content type (also appended to the headers) for anything but a GET.
func collectorPayload(r request) *payload.CollectorPayload {
	host := ""
	var ua, referer, ct string
	h := http.Header{}
	for _, kv := range r.Headers {
		name := http.CanonicalHeaderKey(kv[0])
		if name == "Host" {
			host = kv[1]
			continue
		}
		h[name] = append(h[name], kv[1])
		switch name {
		case "User-Agent":
			if ua == "" {
				ua = kv[1]
			}
		case "Referer":
			if referer == "" {
				referer = kv[1]
			}
		case "Content-Type":
			if ct == "" {
				ct = kv[1]
			}
		}
	}
	body := r.Body
	if r.BodyBase64 != "" {
		b, _ := base64.StdEncoding.DecodeString(r.BodyBase64)
		body = string(b)
	}
	nuid := r.NetworkUserID
	if nuid == "" {
		nuid = "8a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
	}
	ip := r.Remote
	if ip == "" {
		ip = "127.0.0.1"
	}
	ts := r.Time
	if ts.IsZero() {
		ts = time.Date(2026, 11, 22, 2, 8, 0, 0, time.UTC)
	}
	p := &payload.CollectorPayload{
		Schema:        payload.SchemaURI,
		IPAddress:     ip,
		Timestamp:     ts.UnixMilli(),
		Encoding:      "UTF-8",
		Collector:     "snowplow-mini-collector-0.1.0",
		UserAgent:     ua,
		RefererURI:    referer,
		Path:          r.Path,
		Querystring:   r.RawQuery,
		Hostname:      hostWithoutPort(host),
		NetworkUserID: nuid,
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p.Body = body
		p.ContentType = renderContentType(ct)
	}
	if host != "" {
		p.Headers = append(p.Headers, "Host: "+host)
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range h[k] {
			p.Headers = append(p.Headers, k+": "+v)
		}
	}
	if p.ContentType != "" {
		p.Headers = append(p.Headers, p.ContentType)
	}
	return p
}

func hostWithoutPort(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		return host[:i]
	}
	return host
}

// renderContentType is the collector's rendering: type/subtype; name=value, lower case.
func renderContentType(v string) string {
	if v == "" {
		return ""
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil {
		if s := mime.FormatMediaType(t, params); s != "" {
			return strings.ToLower(s)
		}
	}
	return strings.ToLower(strings.TrimSpace(v))
}

func encodePayload(t testing.TB, p *payload.CollectorPayload) []byte {
	t.Helper()
	b, err := payload.Encode(p)
	if err != nil {
		t.Fatalf("payload.Encode: %v", err)
	}
	return b
}

// fixture is a recorded tracker request of shared/fixtures.
type fixture struct {
	Method     string   `json:"method"`
	URL        string   `json:"url"`
	TS         string   `json:"ts"`
	Remote     string   `json:"remote"`
	RawHeaders []string `json:"rawHeaders"`
	BodyBase64 string   `json:"bodyBase64"`
}

// sharedDir returns ../shared/<sub> (recorded tracker requests, Iglu Central schemas).
func sharedDir(t testing.TB, sub string) string {
	t.Helper()
	return sharedtest.Path(t, sub, "the recorded tracker requests and Iglu Central schemas these tests check against")
}

// fixtureNames lists the fixtures (without extension).
func fixtureNames(t testing.TB) []string {
	dir := sharedDir(t, "fixtures")
	m, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range m {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	slices.Sort(names)
	return names
}

// loadFixture reads a fixture as a request.
func loadFixture(t testing.TB, name string) request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t, "fixtures"), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f fixture
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	path, rawQuery, _ := strings.Cut(f.URL, "?")
	r := request{Method: f.Method, Path: path, RawQuery: rawQuery, BodyBase64: f.BodyBase64, Remote: f.Remote}
	if ts, err := time.Parse(time.RFC3339Nano, f.TS); err == nil {
		r.Time = ts
	}
	for i := 0; i+1 < len(f.RawHeaders); i += 2 {
		r.Headers = append(r.Headers, [2]string{f.RawHeaders[i], f.RawHeaders[i+1]})
	}
	return r
}

// testResolver is a resolver over the embedded core schemas plus dirs (static layout).
func testResolver(t testing.TB, dirs ...string) *iglu.Resolver {
	t.Helper()
	cfg := iglu.DefaultConfig()
	cfg.Repositories = nil
	cfg.SchemaDirs = dirs
	r, err := iglu.NewResolver(cfg, iglu.ResolverDeps{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("iglu.NewResolver: %v", err)
	}
	return r
}

// seqIDs returns a NewEventID giving 00000000-0000-4000-8000-000000000001, …002, ….
func seqIDs() func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n.Add(1)) }
}

// newTestEnricher builds an enricher with a fixed clock and sequential event ids.
func newTestEnricher(t testing.TB, res Resolver, mod func(*Config, *Deps)) *Enricher {
	t.Helper()
	cfg := DefaultConfig()
	deps := Deps{Resolver: res, Now: func() time.Time { return testNow }, NewEventID: seqIDs(), Version: "0.1.0"}
	if mod != nil {
		mod(&cfg, &deps)
	}
	e, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

func process(t testing.TB, e *Enricher, record []byte) Result {
	t.Helper()
	res, err := e.Process(context.Background(), record)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	checkGoodLines(t, res)
	return res
}

// checkGoodEntities checks what the event store relies on when it takes the per-type
// columns of an event from the entities enrich handed over with it (event.Entities):
// each JSON field is what enrich writes for its entities, and the data of each entity is
// one valid JSON value. Events with an enrichment that rewrites those fields (PII) or
// adds events are not for this check.
func checkGoodEntities(t testing.TB, res Result) {
	t.Helper()
	for i, g := range res.Good {
		ents, f := &g.Entities, &g.Event.Fields
		unstruct := ""
		if ents.Unstruct != nil {
			unstruct = event.MarshalUnstruct(*ents.Unstruct)
		}
		if event.MarshalContexts(ents.Contexts) != f[event.Contexts] || event.MarshalContexts(ents.Derived) != f[event.DerivedContexts] || unstruct != f[event.UnstructEvent] {
			t.Fatalf("good event %d: entities %+v, fields contexts %q, derived_contexts %q, unstruct_event %q", i, *ents, f[event.Contexts], f[event.DerivedContexts], f[event.UnstructEvent])
		}
		for _, e := range slices.Concat(ents.Contexts, ents.Derived) {
			if len(e.Data) > 0 && !json.Valid(e.Data) {
				t.Fatalf("good event %d: entity %s: data %q is not JSON", i, e.Schema, e.Data)
			}
		}
	}
}

// checkGoodLines checks what the event store relies on when it takes a line enrich
// handed over without checking it again: every good event's TSV line is its Event's
// line, parses with event.UnmarshalTSV without error (so passes event.Check), and, when
// no field holds a TAB, CR or LF, splits into exactly the Event's fields.
func checkGoodLines(t testing.TB, res Result) {
	t.Helper()
	for i, g := range res.Good {
		if want := g.Event.AppendTSV(nil); !bytes.Equal(g.TSV, want) {
			t.Fatalf("good event %d: TSV line %q, its event's line %q", i, g.TSV, want)
		}
		var parsed event.EnrichedEvent
		if err := parsed.UnmarshalTSV(g.TSV); err != nil {
			t.Fatalf("good event %d: UnmarshalTSV(%q): %v", i, g.TSV, err)
		}
		if !slices.ContainsFunc(g.Event.Fields[:], func(f string) bool { return strings.ContainsAny(f, "\t\r\n") }) && parsed.Fields != g.Event.Fields {
			t.Fatalf("good event %d: line %q splits into other fields than the event's", i, g.TSV)
		}
	}
}
