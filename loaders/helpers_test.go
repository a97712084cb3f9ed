package loaders

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// integration reports whether tests that need a real service must fail rather than
// skip when it is absent.
func integration() bool { return os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" }

// skipOrFail skips the test, or fails it under SNOWPLOW_MINI_INTEGRATION=1.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if integration() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// testLogger logs to the test at Warn and above (Debug with -v would flood).
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newStream returns an in-memory stream that keeps what groups have not read.
func newStream(t testing.TB, name string, shards int, groups ...string) *streams.Memory {
	t.Helper()
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = name
	cfg.Shards = shards
	cfg.ConsumerGroups = groups
	m, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// pipeline is the four streams of a pipeline, in memory.
type pipeline struct {
	raw, enriched, bad1, bad2 *streams.Memory
}

func newPipeline(t testing.TB, groups ...string) *pipeline {
	return &pipeline{
		raw:      newStream(t, streams.Raw, 2, groups...),
		enriched: newStream(t, streams.Enriched, 2, groups...),
		bad1:     newStream(t, streams.Bad1, 1, groups...),
		bad2:     newStream(t, streams.Bad2, 1, groups...),
	}
}

func (p *pipeline) inputs() map[string]Input {
	m := make(map[string]Input)
	for _, s := range []*streams.Memory{p.raw, p.enriched, p.bad1, p.bad2} {
		m[s.Name()] = Input{Stream: s, Checkpointer: s}
	}
	return m
}

// put writes records to s, each with its own partition key.
func put(t testing.TB, s streams.Stream, records ...[]byte) []streams.PutResult {
	t.Helper()
	var out []streams.PutResult
	for len(records) > 0 {
		n := min(len(records), streams.MaxRecordsPerPut)
		entries := make([]streams.Entry, n)
		for i := range entries {
			entries[i] = streams.Entry{PartitionKey: randomHex(8), Data: records[i]}
		}
		res, err := s.Put(context.Background(), entries)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		out = append(out, res...)
		records = records[n:]
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// The events below are modelled on what enrich writes for the JavaScript tracker: a page
// view with the web_page and client_session contexts and the ua_parser derived context,
// and a link click (self-describing event) with web_page and a custom context.

const (
	webPageSchema       = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
	clientSessionSchema = "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2"
	uaParserSchema      = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
	linkClickSchema     = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
)

// testEvent returns a realistic enriched event, number i of a series; odd numbers are
// link clicks, even ones page views.
func testEvent(i int, appID string) *event.EnrichedEvent {
	e := new(event.EnrichedEvent)
	set := func(f event.Field, v string) { e.Fields[f] = v }
	eid := fmt.Sprintf("c6ef3124-b53a-4b13-a233-%012x", i)
	pageID := fmt.Sprintf("5cea9899-10df-4ccf-bf66-%012x", i/4)
	duid := fmt.Sprintf("36746fd2-8441-4ea2-8ad0-%012x", i%97)
	sid := fmt.Sprintf("6d15a4fb-9623-4ba1-b876-%012x", i%97)
	set(event.AppID, appID)
	set(event.Platform, "web")
	set(event.EtlTstamp, "2024-03-01 12:00:01.000")
	set(event.CollectorTstamp, "2024-03-01 12:00:00.123")
	set(event.DvceCreatedTstamp, "2024-03-01 11:59:59.900")
	set(event.EventID, eid)
	set(event.NameTracker, "sp")
	set(event.VTracker, "js-3.23.0")
	set(event.VCollector, "snowplow-mini-collector-0.1.0")
	set(event.VEtl, "snowplow-mini-enrich-0.1.0")
	set(event.UserIPAddress, "203.0.113.7")
	set(event.DomainUserID, duid)
	set(event.DomainSessionIdx, fmt.Sprint(1+i%5))
	set(event.NetworkUserID, "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11")
	set(event.PageURL, "https://shop.acme.com/products/shoes?utm_source=news&utm_medium=email#reviews")
	set(event.PageTitle, "Running shoes – ACME")
	set(event.PageReferrer, "https://www.google.com/search?q=running+shoes")
	set(event.PageURLScheme, "https")
	set(event.PageURLHost, "shop.acme.com")
	set(event.PageURLPort, "443")
	set(event.PageURLPath, "/products/shoes")
	set(event.PageURLQuery, "utm_source=news&utm_medium=email")
	set(event.PageURLFragment, "reviews")
	set(event.RefrURLScheme, "https")
	set(event.RefrURLHost, "www.google.com")
	set(event.RefrURLPort, "443")
	set(event.RefrURLPath, "/search")
	set(event.RefrURLQuery, "q=running+shoes")
	set(event.RefrMedium, "search")
	set(event.RefrSource, "Google")
	set(event.RefrTerm, "running shoes")
	set(event.MktMedium, "email")
	set(event.MktSource, "news")
	set(event.UserAgent, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
	set(event.BrLang, "en-GB")
	set(event.BrCookies, "1")
	set(event.BrColorDepth, "24")
	set(event.BrViewWidth, "1440")
	set(event.BrViewHeight, "789")
	set(event.OSTimezone, "Europe/London")
	set(event.DvceScreenWidth, "2560")
	set(event.DvceScreenHeight, "1440")
	set(event.DocCharset, "UTF-8")
	set(event.DocWidth, "1440")
	set(event.DocHeight, "5210")
	set(event.DvceSentTstamp, "2024-03-01 11:59:59.950")
	set(event.DomainSessionID, sid)
	set(event.DerivedTstamp, "2024-03-01 12:00:00.073")
	set(event.EventFingerprint, fmt.Sprintf("%032x", i))
	webPage := event.SelfDescribing{Schema: webPageSchema, Data: []byte(`{"id":"` + pageID + `"}`)}
	session := event.SelfDescribing{Schema: clientSessionSchema, Data: []byte(`{"userId":"` + duid + `","sessionId":"` + sid +
		`","sessionIndex":3,"eventIndex":` + fmt.Sprint(i%50) + `,"previousSessionId":null,"storageMechanism":"COOKIE_1","firstEventId":"` +
		eid + `","firstEventTimestamp":"2024-03-01T11:50:00.000Z"}`)}
	set(event.DerivedContexts, event.MarshalContexts([]event.SelfDescribing{{Schema: uaParserSchema, Data: []byte(
		`{"useragentFamily":"Chrome","useragentMajor":"124","useragentMinor":"0","useragentPatch":"0","useragentVersion":"Chrome 124.0.0","osFamily":"Mac OS X","osMajor":"10","osMinor":"15","osPatch":"7","osPatchMinor":null,"osVersion":"Mac OS X 10.15.7","deviceFamily":"Mac"}`)}}))
	set(event.EventVendor, "com.snowplowanalytics.snowplow")
	set(event.EventFormat, "jsonschema")
	if i%2 == 0 {
		set(event.Event, "page_view")
		set(event.EventName, "page_view")
		set(event.EventVersion, "1-0-0")
		set(event.Contexts, event.MarshalContexts([]event.SelfDescribing{webPage, session}))
	} else {
		set(event.Event, "unstruct")
		set(event.EventName, "link_click")
		set(event.EventVersion, "1-0-1")
		set(event.Contexts, event.MarshalContexts([]event.SelfDescribing{webPage}))
		set(event.UnstructEvent, event.MarshalUnstruct(event.SelfDescribing{Schema: linkClickSchema,
			Data: []byte(`{"targetUrl":"https://shop.acme.com/products/shoes/trail-` + fmt.Sprint(i) + `","elementId":"buy","elementClasses":["btn","primary"]}`)}))
	}
	return e
}

// testEntities returns the entities of ev's JSON fields, read back from the fields: what
// enrich hands its observer with an event it wrote so.
func testEntities(tb testing.TB, ev *event.EnrichedEvent) *event.Entities {
	tb.Helper()
	var ents event.Entities
	for _, f := range []struct {
		field event.Field
		into  *[]event.SelfDescribing
	}{{event.Contexts, &ents.Contexts}, {event.DerivedContexts, &ents.Derived}} {
		if v := ev.Fields[f.field]; v != "" {
			var env struct{ Data []event.SelfDescribing }
			if err := json.Unmarshal([]byte(v), &env); err != nil {
				tb.Fatalf("%s: %v", f.field.Name(), err)
			}
			*f.into = env.Data
		}
	}
	if v := ev.Fields[event.UnstructEvent]; v != "" {
		var env struct{ Data event.SelfDescribing }
		if err := json.Unmarshal([]byte(v), &env); err != nil {
			tb.Fatalf("unstruct_event: %v", err)
		}
		ents.Unstruct = &env.Data
	}
	return &ents
}

// testTSV returns n realistic enriched TSV records.
func testTSV(n int, appID string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = testEvent(i, appID).MarshalTSV()
	}
	return out
}

// postgresURL returns the test database URL, skipping (or failing) when it is not
// reachable.
func postgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SNOWPLOW_MINI_TEST_POSTGRES")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		skipOrFail(t, "PostgreSQL not reachable at %s (%v); set SNOWPLOW_MINI_TEST_POSTGRES to a server to run this test", RedactURL(u), err)
	}
	_ = conn.Close(ctx)
	return u
}

// postgresSchema returns a fresh schema name and drops the schema when the test ends.
func postgresSchema(t testing.TB, connURL string) string {
	t.Helper()
	schema := "loaders_test_" + randomHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, connURL)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return schema
}

// backend is a database a sink test runs against.
type backend struct {
	name string
	// config returns a sink config for a fresh database, and the data directory.
	config func(t *testing.T) (SinkConfig, string)
}

// backends are SQLite (always) and PostgreSQL (when reachable).
func backends() []backend {
	return []backend{
		{name: "sqlite", config: func(t *testing.T) (SinkConfig, string) {
			cfg := DefaultSinkConfig()
			return cfg, t.TempDir()
		}},
		{name: "postgres", config: func(t *testing.T) (SinkConfig, string) {
			u := postgresURL(t)
			cfg := DefaultSinkConfig()
			cfg.URL = u
			cfg.Schema = postgresSchema(t, u)
			return cfg, t.TempDir()
		}},
	}
}

// forEachBackend runs f against every backend.
func forEachBackend(t *testing.T, f func(t *testing.T, cfg SinkConfig, dataDir string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			cfg, dir := b.config(t)
			f(t, cfg, dir)
		})
	}
}

// runningSink is a sink running in the background.
type runningSink struct {
	*Sink
	cancel context.CancelFunc
	errc   chan error
}

// startSink creates and runs a sink over p; the test ends it.
func startSink(t testing.TB, cfg SinkConfig, dataDir string, p *pipeline) *runningSink {
	t.Helper()
	return startSinkWith(t, cfg, Deps{Streams: p.inputs(), DataDir: dataDir, Logger: testLogger(t)})
}

func startSinkWith(t testing.TB, cfg SinkConfig, deps Deps) *runningSink {
	t.Helper()
	s, err := NewSink(cfg, deps)
	if err != nil {
		t.Fatalf("NewSink: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningSink{Sink: s, cancel: cancel, errc: make(chan error, 1)}
	go func() { rs.errc <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		rs.wait(t)
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	select {
	case <-s.Ready():
	case err := <-rs.errc:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("sink not ready")
	}
	return rs
}

// wait waits for Run to return and checks it returned nil.
func (rs *runningSink) wait(t testing.TB) {
	t.Helper()
	if rs.errc == nil {
		return
	}
	select {
	case err := <-rs.errc:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		rs.errc = nil
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
}

// shutdown drains the sink and waits for Run.
func (rs *runningSink) shutdown(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rs.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	rs.wait(t)
}

// count returns the sink's counts.
func (rs *runningSink) count(t testing.TB, appID string) Counts {
	t.Helper()
	c, err := rs.Count(context.Background(), appID)
	if err != nil {
		t.Fatalf("Count(%q): %v", appID, err)
	}
	return c
}

// queryStrings runs a query returning one text column on the sink's read handle.
func queryStrings(t testing.TB, s *Sink, query string, args ...any) []string {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v *string
		if err := rows.Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if v == nil {
			out = append(out, "<null>")
		} else {
			out = append(out, *v)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// ph returns the n-th placeholder of the sink's dialect.
func ph(s *Sink, n int) string {
	if s.Dialect() == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// Recent returns stored events, newest first, with their Analytics-SDK JSON, copied
// out of the read callback for the tests.
func (s *Sink) Recent(ctx context.Context, q Query) ([]StoredEvent, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []StoredEvent
	var ferr error
	err := s.Events(ctx, EventQuery{AppID: q.AppID, AfterID: q.AfterID, Limit: q.Limit}, func(se *StoredEvent) bool {
		ev := *se.Event
		js, err := ev.AppendJSON(nil)
		if err != nil {
			ferr = fmt.Errorf("event %d: %w", se.ID, err)
			return false
		}
		out = append(out, StoredEvent{ID: se.ID, LoadTstamp: se.LoadTstamp, Event: &ev, JSON: js, RawEvent: slices.Clone(se.RawEvent)})
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}

// RecentBad returns stored bad rows, newest first.
func (s *Sink) RecentBad(ctx context.Context, q Query) ([]StoredBadRow, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var out []StoredBadRow
	err := s.BadRows(ctx, q, func(b *StoredBadRow) bool {
		c := *b
		c.Data = slices.Clone(b.Data)
		out = append(out, c)
		return true
	})
	return out, err
}

// testBatch returns the events of lines as one transaction's batch of st, with the
// columns of their types added to st. each, when not nil, is called with every row
// before it joins the batch.
func testBatch(tb testing.TB, st *sqliteStore, lines [][]byte, each func(*eventRow)) *txBatch {
	tb.Helper()
	s := &Sink{store: st, raws: newPendingRaw(nil)}
	b := &txBatch{loadTstamp: time.Date(2026, 12, 6, 8, 0, 0, 123e6, time.UTC)}
	seen := map[string]bool{}
	for _, line := range lines {
		row, bad := s.prepareEvent(&streams.Record{Data: line}, nil)
		if bad != nil {
			tb.Fatalf("bad row: %s", bad.data)
		}
		if each != nil {
			each(row)
		}
		b.events = append(b.events, row)
		for _, w := range row.wide {
			if !seen[w.name] {
				seen[w.name] = true
				b.wide = append(b.wide, w.name)
			}
		}
	}
	if err := st.addColumns(context.Background(), b.wide); err != nil {
		tb.Fatal(err)
	}
	return b
}
