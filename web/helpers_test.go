package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/web")

// testdataDir is the repository's testdata folder for this package.
var testdataDir = filepath.Join("..", "testdata", "web")

// fixture is one good event as enrich hands it over.
type fixture struct {
	raw *event.RawEvent
	ev  *event.EnrichedEvent
}

// loadFixtures reads testdata/web/good_events.json: real tracker requests (the node
// tracker fixtures) with the enriched fields enrich derives from them.
func loadFixtures(t testing.TB) map[string]fixture {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, "good_events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var items []struct {
		Name   string            `json:"name"`
		Raw    json.RawMessage   `json:"raw"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]fixture, len(items))
	for _, it := range items {
		raw := new(event.RawEvent)
		if err := raw.UnmarshalJSON(it.Raw); err != nil {
			t.Fatalf("fixture %s: %v", it.Name, err)
		}
		ev := new(event.EnrichedEvent)
		for name, v := range it.Fields {
			f, ok := event.FieldByName(name)
			if !ok {
				t.Fatalf("fixture %s: unknown field %q", it.Name, name)
			}
			ev.Set(f, v)
		}
		if err := ev.Check(); err != nil {
			t.Fatalf("fixture %s: %v", it.Name, err)
		}
		out[it.Name] = fixture{raw: raw, ev: ev}
	}
	return out
}

// variant returns a copy of f with the given fields changed: a distinct event.
func (f fixture) variant(fields map[event.Field]string) fixture {
	ev := *f.ev
	for k, v := range fields {
		ev.Set(k, v)
	}
	raw := *f.raw
	return fixture{raw: &raw, ev: &ev}
}

// testServer is a Server mounted on a chi router, over a memStore.
type testServer struct {
	*Server
	h     http.Handler
	reg   *prometheus.Registry
	store *memStore
}

func newTestServer(t testing.TB, mutate func(*Config, *Deps)) *testServer {
	t.Helper()
	cfg := DefaultConfig()
	reg := prometheus.NewRegistry()
	st := newMemStore()
	deps := Deps{Registerer: reg, Store: st}
	if mutate != nil {
		mutate(&cfg, &deps)
	}
	s, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	s.Register(r)
	return &testServer{Server: s, h: r, reg: reg, store: st}
}

// ObserveGood stores a good event as the sink would: its fields and its raw request's
// Micro JSON (none when raw is nil).
func (ts *testServer) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent) {
	var js []byte
	if raw != nil {
		js = raw.AppendMicroJSON(nil)
	}
	ts.store.addGood(*ev, js)
}

// memStore is a Store in memory for the handler tests. It supports the queries the
// Micro 3 routes and waits make (app_id, exact column values, after an id, limit);
// the Micro 4 routes' filters, sorting and time ranges are tested on the real stores
// (main package), so here they fail the request.
type memStore struct {
	mu      sync.Mutex
	nextID  int64
	good    []memGood // oldest first
	bad     []memBad
	changed chan struct{}
	loadAt  time.Time
}

type memGood struct {
	id   int64
	ev   event.EnrichedEvent
	raw  []byte
	load time.Time
}

type memBad struct {
	id    int64
	appID string
	data  []byte
	load  time.Time
}

func newMemStore() *memStore {
	return &memStore{changed: make(chan struct{}), loadAt: time.Date(2026, 11, 22, 2, 8, 8, 0, time.UTC)}
}

func (m *memStore) notifyLocked() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *memStore) addGood(ev event.EnrichedEvent, raw []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	m.good = append(m.good, memGood{m.nextID, ev, raw, m.loadAt.Add(time.Duration(m.nextID) * time.Millisecond)})
	m.notifyLocked()
}

func (m *memStore) addBad(data []byte, appID string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	m.bad = append(m.bad, memBad{m.nextID, appID, data, m.loadAt.Add(time.Duration(m.nextID) * time.Millisecond)})
	m.notifyLocked()
}

func (m *memStore) Count(_ context.Context, appID string) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c Counts
	for _, g := range m.good {
		if appID == "" || g.ev.Fields[event.AppID] == appID {
			c.Good++
		}
	}
	for _, b := range m.bad {
		if appID == "" || b.appID == appID {
			c.Bad++
		}
	}
	return c, nil
}

func (m *memStore) Reset(_ context.Context, appID string) (Counts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var c Counts
	good := m.good[:0:0]
	for _, g := range m.good {
		if appID == "" || g.ev.Fields[event.AppID] == appID {
			c.Good++
			continue
		}
		good = append(good, g)
	}
	bad := m.bad[:0:0]
	for _, b := range m.bad {
		if appID == "" || b.appID == appID {
			c.Bad++
			continue
		}
		bad = append(bad, b)
	}
	m.good, m.bad = good, bad
	m.notifyLocked()
	return c, nil
}

var errMemStore = errors.New("memStore: filters, sorting and time ranges are tested on the real stores")

func (m *memStore) selectGood(q EventQuery) ([]memGood, error) {
	if len(q.AnyOf) > 0 || q.SortColumn != "" || !q.Start.IsZero() || !q.End.IsZero() {
		return nil, errMemStore
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []memGood
next:
	for i := len(m.good) - 1; i >= 0; i-- {
		g := m.good[i]
		if q.AppID != "" && g.ev.Fields[event.AppID] != q.AppID || g.id <= q.AfterID {
			continue
		}
		for _, eq := range q.Equal {
			f, ok := event.FieldByName(eq.Column)
			if !ok || g.ev.Fields[f] != eq.Value {
				continue next
			}
		}
		out = append(out, g)
	}
	return out, nil
}

func (m *memStore) Events(_ context.Context, q EventQuery, fn func(*StoredEvent) bool) error {
	list, err := m.selectGood(q)
	if err != nil {
		return err
	}
	list = list[min(q.Offset, len(list)):]
	if q.Limit > 0 && len(list) > q.Limit {
		list = list[:q.Limit]
	}
	for _, g := range list {
		ev := g.ev
		if !fn(&StoredEvent{ID: g.id, LoadTstamp: g.load, Event: &ev, RawEvent: g.raw}) {
			break
		}
	}
	return nil
}

func (m *memStore) CountEvents(_ context.Context, q EventQuery) (int64, error) {
	list, err := m.selectGood(q)
	return int64(len(list)), err
}

func (m *memStore) BadRows(_ context.Context, q BadQuery, fn func(*StoredBadRow) bool) error {
	m.mu.Lock()
	bad := slices.Clone(m.bad)
	m.mu.Unlock()
	n := 0
	for i := len(bad) - 1; i >= 0; i-- {
		b := bad[i]
		if q.AppID != "" && b.appID != q.AppID || b.id <= q.AfterID {
			continue
		}
		if !fn(&StoredBadRow{ID: b.id, LoadTstamp: b.load, AppID: b.appID, Data: b.data}) {
			break
		}
		if n++; q.Limit > 0 && n >= q.Limit {
			break
		}
	}
	return nil
}

func (m *memStore) EventColumns(context.Context) ([]string, []string, error) {
	return nil, nil, errMemStore
}

func (m *memStore) WideColumnFields(context.Context, string) ([]string, error) {
	return nil, errMemStore
}

func (m *memStore) ColumnValues(context.Context, string, int) ([]string, error) {
	return nil, errMemStore
}

func (m *memStore) Timeline(context.Context, []TimeRange) ([]int64, error) { return nil, errMemStore }

func (m *memStore) Changed() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.changed
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (ts *testServer) do(t testing.TB, method, target, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	ts.h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// doJSON makes a request that must answer 200 with JSON and decodes the answer into v.
func (ts *testServer) doJSON(t testing.TB, method, target, body string, v any) {
	t.Helper()
	res := ts.do(t, method, target, body)
	if res.status != http.StatusOK {
		t.Fatalf("%s %s %s = %d %s, want 200", method, target, body, res.status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s Content-Type = %q, want application/json", method, target, ct)
	}
	if err := json.Unmarshal(res.body, v); err != nil {
		t.Fatalf("%s %s: decoding %s: %v", method, target, res.body, err)
	}
}

// addBad stores bad rows, with the app_id the sink would read from them: the aid of
// the raw event, or of the request's query string or payload_data body.
func (ts *testServer) addBad(t testing.TB, rows ...[]byte) {
	t.Helper()
	for _, r := range rows {
		ts.store.addBad(r, testBadAppID(r))
	}
}

func testBadAppID(record []byte) string {
	row, err := badrow.Parse(record)
	if err != nil {
		return ""
	}
	if raw, ok, err := row.RawEvent(); ok && err == nil {
		aid, _ := raw.Param("aid")
		return aid
	}
	cp, ok, err := row.CollectorPayload()
	if !ok || err != nil {
		return ""
	}
	for _, p := range cp.Querystring {
		if p.Name == "aid" && p.Value != nil {
			return *p.Value
		}
	}
	var body struct {
		Data []struct {
			AID string `json:"aid"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(cp.Body), &body) != nil || len(body.Data) == 0 {
		return ""
	}
	return body.Data[0].AID
}

// goldenJSON compares got, indented, with testdata/web/<name> (rewritten with -update).
func goldenJSON(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: answer is not JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join(testdataDir, name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

// objectKeys returns the keys of a JSON object in their order.
func objectKeys(t testing.TB, obj json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", obj)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// Bad rows as enrich and the collector write them, built with the badrow package.

var (
	testProcessor = badrow.Processor{Artifact: "snowplow-mini-enrich", Version: "0.1.0"}
	testFailedAt  = time.Date(2026, 11, 22, 2, 8, 7, 600_000_000, time.UTC)
)

func mustMarshal(t testing.TB, r badrow.Row) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// schemaViolation is a schema_violations row for the raw event of fixture f, with the
// given app_id.
func schemaViolation(t testing.TB, f fixture, appID string) []byte {
	t.Helper()
	raw := *f.raw
	raw.Parameters = nil
	for _, p := range f.raw.Parameters {
		if p.Name == "aid" {
			p = event.NewNVP("aid", appID)
		}
		raw.Parameters = append(raw.Parameters, p)
	}
	partial := *f.ev
	partial.Set(event.AppID, appID)
	partial.Set(event.UnstructEvent, "")
	return mustMarshal(t, &badrow.SchemaViolations{
		Processor: testProcessor,
		Timestamp: testFailedAt,
		Messages: []badrow.Message{badrow.IgluError{
			SchemaKey: "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
			Error:     json.RawMessage(`{"error":"ValidationError","dataReports":[{"message":"$.targetUrl: is missing but it is required","path":"$","keyword":"required","targets":["targetUrl"]}]}`),
		}},
		Payload: badrow.NewEnrichmentPayload(&partial, &raw),
	})
}

// trackerProtocolViolation is a tracker_protocol_violations row for a tp2 POST whose
// body is payload_data for app appID with a wrong content type.
func trackerProtocolViolation(t testing.TB, vendor, version, appID string) []byte {
	t.Helper()
	body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","aid":"` + appID + `","eid":"0b7a4e7e-2b4f-4a51-8a8a-3f3d9a4b1c2d","p":"web","tv":"js-4.0.0"}]}`
	return mustMarshal(t, &badrow.TrackerProtocolViolations{
		Processor: testProcessor,
		Timestamp: testFailedAt,
		Vendor:    vendor,
		Version:   version,
		Messages: []badrow.Message{badrow.InputData{
			Field: "contentType", Value: badrow.Str("text/plain"),
			Expectation: "expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8",
		}},
		Payload: badrow.CollectorPayload{
			Vendor: vendor, Version: version,
			Querystring: []event.NVP{event.NewNVP("stm", "1795313287509"), {Name: "flag"}},
			ContentType: "text/plain", Body: body,
			Collector: "snowplow-mini-collector-0.1.0", Encoding: "UTF-8", Hostname: "127.0.0.1",
			Timestamp: time.Date(2026, 11, 22, 2, 8, 7, 520_000_000, time.UTC), IPAddress: "127.0.0.1",
			UserAgent: "node", Headers: []string{"Host: 127.0.0.1:9090", "Content-Type: text/plain"},
			NetworkUserID: "8a3f5b0e-1c2d-4e5f-9a8b-7c6d5e4f3a2b",
		},
	})
}

func formatViolation(t testing.TB) []byte {
	t.Helper()
	return mustMarshal(t, &badrow.CollectorPayloadFormatViolation{
		Processor: testProcessor,
		Timestamp: testFailedAt,
		Loader:    badrow.LoaderThrift,
		Message:   badrow.CPFormatError{Error: "error deserializing raw event: Reached end of bytes when parsing as thrift format"},
		Payload:   []byte{0x0b, 0x00, 0x64, 0xff},
	})
}

func sizeViolation(t testing.TB) []byte {
	t.Helper()
	return mustMarshal(t, &badrow.SizeViolation{
		Processor:               badrow.Processor{Artifact: "snowplow-mini-collector", Version: "0.1.0"},
		Timestamp:               testFailedAt,
		MaximumAllowedSizeBytes: 1_000_000,
		ActualSizeBytes:         1_300_000,
		Expectation:             "oversized collector payload: Payload exceeds max size of 1000000. Actual length: 1300000",
		Payload:                 "CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, ipAddress:127.0.0.1",
	})
}
