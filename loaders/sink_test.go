package loaders

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Errorf("%s = %q, not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %q: %v", want, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

func TestSinkLoadsEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		const n = 40
		evs := make([]*event.EnrichedEvent, n)
		for i := range evs {
			evs[i] = testEvent(i, "shop")
			put(t, p.enriched, evs[i].MarshalTSV())
		}
		// A context that is both in contexts and derived_contexts shares its column.
		shared := testEvent(n, "shared")
		shared.Fields[event.DerivedContexts] = event.MarshalContexts([]event.SelfDescribing{
			{Schema: webPageSchema, Data: []byte(`{"id":"derived"}`)},
			{Schema: "iglu:org.w3/PerformanceTiming/jsonschema/1-0-0", Data: []byte(`{"navigationStart":1}`)},
		})
		put(t, p.enriched, shared.MarshalTSV())

		s := startSink(t, cfg, dir, p)
		poll.Until(t, "all events loaded", 20*time.Second, func() bool { return s.count(t, "").Good == n+1 })

		events := s.Table("events")
		col := func(name, eventID string) string {
			t.Helper()
			got := queryStrings(t, s.Sink, "SELECT "+name+" FROM "+events+" WHERE event_id = "+ph(s.Sink, 1), eventID)
			if len(got) != 1 {
				t.Fatalf("%d rows with event_id %s, want 1", len(got), eventID)
			}
			return got[0]
		}
		for i, ev := range evs {
			id := ev.Fields[event.EventID]
			ctx, _ := event.ParseContexts(ev.Fields[event.Contexts])
			jsonEqual(t, "web_page column", col("contexts_com_snowplowanalytics_snowplow_web_page_1", id), "["+string(ctx[0].Data)+"]")
			derived, _ := event.ParseContexts(ev.Fields[event.DerivedContexts])
			jsonEqual(t, "ua_parser_context column", col("contexts_com_snowplowanalytics_snowplow_ua_parser_context_1", id), "["+string(derived[0].Data)+"]")
			if i%2 == 0 {
				jsonEqual(t, "client_session column", col("contexts_com_snowplowanalytics_snowplow_client_session_1", id), "["+string(ctx[1].Data)+"]")
				if got := col("unstruct_event_com_snowplowanalytics_snowplow_link_click_1", id); got != "<null>" {
					t.Errorf("link_click column of a page view = %s, want NULL", got)
				}
			} else {
				ue, _, _ := event.ParseUnstruct(ev.Fields[event.UnstructEvent])
				jsonEqual(t, "link_click column", col("unstruct_event_com_snowplowanalytics_snowplow_link_click_1", id), string(ue.Data))
			}
			if got, want := col("contexts", id), ev.Fields[event.Contexts]; got != want {
				t.Errorf("contexts column = %s, want %s", got, want)
			}
		}
		id := shared.Fields[event.EventID]
		jsonEqual(t, "shared web_page column", col("contexts_com_snowplowanalytics_snowplow_web_page_1", id),
			`[{"id":"5cea9899-10df-4ccf-bf66-00000000000a"},{"id":"derived"}]`)
		jsonEqual(t, "PerformanceTiming column", col("contexts_org_w3_performance_timing_1", id), `[{"navigationStart":1}]`)

		// Recent gives back the events as they were, newest first.
		got, err := s.Recent(context.Background(), Query{AppID: "shop", Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("Recent returned %d events, want 5", len(got))
		}
		byID := make(map[string]*event.EnrichedEvent)
		for _, ev := range evs {
			byID[ev.Fields[event.EventID]] = ev
		}
		for i, se := range got {
			want := byID[se.Event.Fields[event.EventID]]
			if want == nil {
				t.Fatalf("Recent returned unknown event %s", se.Event.Fields[event.EventID])
			}
			if diff := cmp.Diff(want.Fields, se.Event.Fields); diff != "" {
				t.Errorf("Recent event %d fields (-want +got):\n%s", i, diff)
			}
			wantJSON, _ := want.AppendJSON(nil)
			jsonEqual(t, "Recent JSON", string(se.JSON), string(wantJSON))
			if i > 0 && se.ID >= got[i-1].ID {
				t.Errorf("Recent IDs %d then %d, want newest first", got[i-1].ID, se.ID)
			}
			if time.Since(se.LoadTstamp) > time.Hour || time.Until(se.LoadTstamp) > time.Minute {
				t.Errorf("LoadTstamp = %v, want about now", se.LoadTstamp)
			}
		}
		newer, err := s.Recent(context.Background(), Query{AppID: "shop", AfterID: got[1].ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(newer) != 1 || newer[0].ID != got[0].ID {
			t.Errorf("Recent(AfterID %d) = %d events, want the newest one", got[1].ID, len(newer))
		}
		if c := s.count(t, "shared"); c != (Counts{Good: 1}) {
			t.Errorf("Count(shared) = %+v, want 1 good", c)
		}
	})
}

// TestSinkExactlyOnce kills the sink in the middle of a load and starts another on the
// same database: every record is stored exactly once. The streams' own checkpointers
// are made to forget everything, so only the database's checkpoints can prevent
// duplicates.
func TestSinkExactlyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		const n = 3000
		results := put(t, p.enriched, testTSV(n, "once")...)
		cfg.ReadBatchSize = 50
		cfg.MaxTransactionRows = 120
		deps := func() Deps {
			in := p.inputs()
			for name, i := range in {
				in[name] = Input{Stream: i.Stream, Checkpointer: forgetful{}}
			}
			return Deps{Streams: in, DataDir: dir, Logger: testLogger(t)}
		}

		first := startSinkWith(t, cfg, deps())
		poll.Until(t, "a third of the events loaded", 20*time.Second, func() bool { return first.count(t, "").Good >= n/3 })
		first.cancel() // a hard stop, in the middle of the load
		first.wait(t)
		loaded := first.count(t, "").Good
		if loaded == n {
			t.Logf("the first sink loaded everything before it was stopped")
		}

		second := startSinkWith(t, cfg, deps())
		second.shutdown(t)
		if c := second.count(t, ""); c.Good != n {
			t.Fatalf("after the restart Count = %d, want %d (first run loaded %d)", c.Good, n, loaded)
		}
		ids := queryStrings(t, second.Sink, "SELECT event_id FROM "+second.Table("events"))
		seen := make(map[string]int)
		for _, id := range ids {
			seen[id]++
		}
		for i := 0; i < n; i++ {
			id := testEvent(i, "once").Fields[event.EventID]
			if seen[id] != 1 {
				t.Errorf("event %d (%s) stored %d times, want once", i, id, seen[id])
			}
		}
		// The stored checkpoints are the last record of each shard.
		last := make(map[string]string)
		for _, r := range results {
			if streams.CompareSequenceNumbers(r.SequenceNumber, last[r.ShardID]) > 0 || last[r.ShardID] == "" {
				last[r.ShardID] = r.SequenceNumber
			}
		}
		cps, err := second.store.checkpoints(context.Background(), cfg.Group, streams.Enriched)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(last, cps); diff != "" {
			t.Errorf("stored checkpoints (-want +got):\n%s", diff)
		}
	})
}

// forgetful is a Checkpointer that stores nothing.
type forgetful struct{}

func (forgetful) Checkpoint(context.Context, string, string, string) error { return nil }
func (forgetful) Checkpoints(context.Context, string) (map[string]string, error) {
	return map[string]string{}, nil
}

func TestSinkTellsTheStream(t *testing.T) {
	p := newPipeline(t, "loader")
	res := put(t, p.enriched, testTSV(10, "cp")...)
	s := startSink(t, DefaultSinkConfig(), t.TempDir(), p)
	s.shutdown(t)
	cps, err := p.enriched.Checkpoints(context.Background(), "loader")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if streams.CompareSequenceNumbers(cps[r.ShardID], r.SequenceNumber) < 0 {
			t.Errorf("stream checkpoint of %s = %s, want at least %s", r.ShardID, cps[r.ShardID], r.SequenceNumber)
		}
	}
}

func TestSinkKeepsDuplicateEventIDs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		line := testEvent(1, "dup").MarshalTSV()
		put(t, p.enriched, line, line)
		s := startSink(t, cfg, dir, p)
		s.shutdown(t)
		if c := s.count(t, "dup"); c.Good != 2 {
			t.Errorf("Count(dup) = %d, want 2: events are kept by stream position, not by event_id", c.Good)
		}
	})
}

// badRowsOf returns the parsed bad rows stored by the sink, oldest first.
func badRowsOf(t *testing.T, s *runningSink) []StoredBadRow {
	t.Helper()
	rows, err := s.RecentBad(context.Background(), Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rows)
	return rows
}

func TestSinkBadRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		good := testEvent(1, "shop")
		fieldCount := strings.Join(strings.Split(string(good.MarshalTSV()), "\t")[:130], "\t")
		badInt := testEvent(2, "shop")
		badInt.Fields[event.TxnID] = "12x"
		put(t, p.enriched, []byte("not an enriched event"), []byte(fieldCount), badInt.MarshalTSV(), good.MarshalTSV())

		sv := &badrow.SchemaViolations{
			Processor: badrow.Processor{Artifact: "snowplow-mini-enrich", Version: "0.1.0"},
			Timestamp: time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC),
			Messages:  []badrow.Message{badrow.NotJSON{Field: "ue_pr", Value: badrow.Str("{"), Error: "unexpected end of JSON input"}},
			Payload: badrow.NewEnrichmentPayload(testEvent(3, "shop"), &event.RawEvent{
				Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", Encoding: "UTF-8",
				Parameters: []event.NVP{event.NewNVP("e", "ue"), event.NewNVP("aid", "shop"), event.NewNVP("ue_pr", "{")},
			}),
		}
		svJSON, err := sv.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		put(t, p.bad1, svJSON, []byte("this is not a bad row"))

		s := startSink(t, cfg, dir, p)
		s.shutdown(t)
		if c := s.count(t, ""); c != (Counts{Good: 1, Bad: 5}) {
			t.Fatalf("Count = %+v, want 1 good and 5 bad", c)
		}
		var got []string
		for _, b := range badRowsOf(t, s) {
			got = append(got, b.Stream+" "+b.Type+" "+b.AppID)
			if b.Type == "" {
				if string(b.Data) != "this is not a bad row" {
					t.Errorf("stored record %q, want it as it was", b.Data)
				}
				continue
			}
			br, err := badrow.Parse(b.Data)
			if err != nil {
				t.Errorf("stored bad row does not parse: %v", err)
				continue
			}
			if b.Stream == streams.Bad2 && br.Processor != (badrow.Processor{Artifact: "snowplow-mini-loader", Version: "0.1.0"}) {
				t.Errorf("processor = %+v, want snowplow-mini-loader 0.1.0", br.Processor)
			}
		}
		slices.Sort(got)
		want := []string{
			"bad-1  ",
			"bad-1 schema_violations shop",
			"bad-2 loader_parsing_error ",
			"bad-2 loader_parsing_error shop",
			"bad-2 loader_parsing_error shop",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("bad rows (-want +got):\n%s", diff)
		}
		// The records were on two shards: compare the failures in a canonical order.
		canonical := func(ss []string) []string {
			var out []string
			for _, s := range ss {
				var v any
				if err := json.Unmarshal([]byte(s), &v); err != nil {
					t.Fatalf("failure %q: %v", s, err)
				}
				b, _ := json.Marshal(v)
				out = append(out, string(b))
			}
			slices.Sort(out)
			return out
		}
		failures := queryStrings(t, s.Sink, "SELECT failure FROM "+s.Table("bad_rows")+" WHERE type = 'loader_parsing_error'")
		wantFailures := []string{`{"type":"NotTSV"}`, `{"type":"FieldNumberMismatch","fieldCount":130}`,
			`{"type":"RowDecodingError","errors":[{"type":"InvalidValue","key":"txn_id","value":"12x","message":"Cannot parse key txn_id with value 12x into integer"}]}`}
		if diff := cmp.Diff(canonical(wantFailures), canonical(failures)); diff != "" {
			t.Errorf("loader_parsing_error failures (-want +got):\n%s", diff)
		}
	})
}

// rejectAppID makes the database refuse events of one app_id, as a constraint would.
func rejectAppID(t *testing.T, s *runningSink, appID string) {
	t.Helper()
	ctx := context.Background()
	if s.Dialect() == "sqlite" {
		st := s.store.(*sqliteStore)
		_, err := st.w.ExecContext(ctx, `CREATE TRIGGER reject BEFORE INSERT ON events WHEN NEW.app_id = '`+appID+`'
BEGIN SELECT RAISE(ABORT, 'app `+appID+` is refused'); END`)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	pool, err := s.store.(*postgresStore).getPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	schema := s.store.(*postgresStore).schema
	for _, q := range []string{
		`CREATE FUNCTION ` + schema + `.reject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF NEW.app_id = '` + appID + `' THEN RAISE EXCEPTION 'app ` + appID + ` is refused' USING ERRCODE = '23514'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER reject BEFORE INSERT ON ` + s.Table("events") + ` FOR EACH ROW EXECUTE FUNCTION ` + schema + `.reject()`,
	} {
		if _, err := pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSinkRuntimeErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		cfg.ReadBatchSize = 1000
		s := startSink(t, cfg, dir, p)
		rejectAppID(t, s, "refused")
		var lines [][]byte
		for i := 0; i < 30; i++ {
			app := "shop"
			if i%10 == 3 {
				app = "refused"
			}
			lines = append(lines, testEvent(i, app).MarshalTSV())
		}
		put(t, p.enriched, lines...)
		poll.Until(t, "27 events and 3 bad rows", 20*time.Second, func() bool { return s.count(t, "") == Counts{Good: 27, Bad: 3} })
		for _, b := range badRowsOf(t, s) {
			br, err := badrow.Parse(b.Data)
			if err != nil {
				t.Fatal(err)
			}
			if b.Type != "loader_runtime_error" || b.AppID != "refused" {
				t.Errorf("bad row type %s app_id %q, want loader_runtime_error of refused", b.Type, b.AppID)
			}
			var msg string
			if err := json.Unmarshal(br.Failure, &msg); err != nil || !strings.Contains(msg, "app refused is refused") {
				t.Errorf("failure = %s, want the database's message", br.Failure)
			}
			var payload map[string]any
			if err := json.Unmarshal(br.Payload, &payload); err != nil || payload["app_id"] != "refused" || len(payload) != event.NumFields {
				t.Errorf("payload has %d keys, app_id %v; want the %d fields of the event", len(payload), payload["app_id"], event.NumFields)
			}
		}
	})
}

// TestConvertMemo checks that a batch's value memo changes nothing: each event converts
// to the values (or the error) it converts to alone, whatever came before it, and a
// refused value is refused again.
func TestConvertMemo(t *testing.T) {
	sq, err := newSQLiteStore(filepath.Join(t.TempDir(), "events.db"), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.close()
	pg, err := newPostgresStore("postgres://nobody@127.0.0.1:1/none", "atomic", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.close()
	long := testEvent(3, "memo")
	long.Fields[event.UserFingerprint] = strings.Repeat("f", 51) // refused by PostgreSQL only
	other := testEvent(4, "other")
	other.Fields[event.PageURLPort] = "8080"
	other.Fields[event.SeValue] = "2.5"
	other.Fields[event.BrCookies] = "0"
	events := []*event.EnrichedEvent{testEvent(1, "memo"), testEvent(2, "memo"), long, long, other, testEvent(1, "memo")}
	for _, st := range []store{sq, pg} {
		t.Run(st.dialect(), func(t *testing.T) {
			memo := new(valueMemo)
			for i, ev := range events {
				want, wantErr := st.convert(nil, ev, nil, nil)
				got, err := st.convert(nil, ev, nil, memo)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Fatalf("event %d: convert with memo error = %v, want %v", i, err, wantErr)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("event %d: convert with memo (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestPostgresRefusesLongValues(t *testing.T) {
	u := postgresURL(t)
	cfg := DefaultSinkConfig()
	cfg.URL = u
	cfg.Schema = postgresSchema(t, u)
	p := newPipeline(t)
	long := testEvent(1, "long")
	long.Fields[event.UserFingerprint] = strings.Repeat("f", 51) // 128 in the atomic schema, 50 in the Postgres loader
	put(t, p.enriched, long.MarshalTSV(), testEvent(2, "long").MarshalTSV())
	s := startSink(t, cfg, t.TempDir(), p)
	s.shutdown(t)
	if c := s.count(t, "long"); c != (Counts{Good: 1, Bad: 1}) {
		t.Fatalf("Count = %+v, want 1 good, 1 bad", c)
	}
	br, err := badrow.Parse(badRowsOf(t, s)[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	var msg string
	_ = json.Unmarshal(br.Failure, &msg)
	if want := "value too long for type character varying(50) (column user_fingerprint)"; msg != want {
		t.Errorf("failure = %q, want %q", msg, want)
	}
}

func TestSinkAddsColumnsAndRemembersThem(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		s := startSink(t, cfg, dir, p)
		put(t, p.enriched, testEvent(0, "cols").MarshalTSV())
		poll.Until(t, "first event", 20*time.Second, func() bool { return s.count(t, "").Good == 1 })
		if s.store.hasColumn("unstruct_event_com_snowplowanalytics_snowplow_link_click_1") {
			t.Fatal("link_click column exists before any link click")
		}
		put(t, p.enriched, testEvent(1, "cols").MarshalTSV())
		poll.Until(t, "second event", 20*time.Second, func() bool { return s.count(t, "").Good == 2 })
		s.shutdown(t)

		// Another process added a column meanwhile; a new sink learns both from the table.
		other, err := NewSink(cfg, Deps{Streams: p.inputs(), DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		ctx := context.Background()
		if err := other.store.open(ctx); err != nil {
			t.Fatal(err)
		}
		if err := other.store.addColumns(ctx, []string{"contexts_com_acme_other_1"}); err != nil {
			t.Fatal(err)
		}

		again := startSink(t, cfg, dir, p)
		for _, c := range []string{"unstruct_event_com_snowplowanalytics_snowplow_link_click_1", "contexts_com_acme_other_1"} {
			if !again.store.hasColumn(c) {
				t.Errorf("restarted sink does not know column %s", c)
			}
		}
		// Adding a column that exists is not an error (two sinks racing).
		if err := again.store.addColumns(ctx, []string{"contexts_com_acme_other_1"}); err != nil {
			t.Errorf("adding an existing column: %v", err)
		}
		if err := other.store.addColumns(ctx, []string{"contexts_com_acme_other_1"}); err != nil {
			t.Errorf("adding a column another sink added: %v", err)
		}
	})
}

func TestSinkRetention(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		cfg.Retention.MaxRows = 25
		cfg.Retention.BatchSize = 7
		cfg.Retention.Interval = Duration(time.Hour) // pruned by hand below
		s := startSink(t, cfg, dir, p)
		put(t, p.enriched, testTSV(60, "keep")...)
		poll.Until(t, "60 events", 20*time.Second, func() bool { return s.count(t, "").Good == 60 })
		s.prune(context.Background(), cfg.Retention, nil)
		if c := s.count(t, ""); c.Good != 25 {
			t.Fatalf("after pruning to 25 rows Count = %d", c.Good)
		}
		evs, err := s.Recent(context.Background(), Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 25 || s.count(t, "keep").Good != 25 {
			t.Fatalf("%d events left, want 25", len(evs))
		}
		minID := evs[len(evs)-1].ID
		maxID := evs[0].ID
		if maxID-minID != 24 {
			t.Errorf("kept ids %d..%d, want the newest 25", minID, maxID)
		}

		// Rows loaded more than MaxAge ago go.
		byAge := cfg.Retention
		byAge.MaxRows = 0
		byAge.MaxAge = Duration(time.Hour)
		old := time.Now().Add(-2 * time.Hour).UTC()
		var oldValue any = old
		if s.Dialect() == "sqlite" {
			oldValue = old.Format(sqliteTimeLayout)
		}
		execWrite(t, s, "UPDATE "+s.Table("events")+" SET load_tstamp = "+ph(s.Sink, 1)+" WHERE id < "+ph(s.Sink, 2), oldValue, minID+10)
		s.prune(context.Background(), byAge, nil)
		if c := s.count(t, ""); c.Good != 15 {
			t.Errorf("after pruning by age Count = %d, want 15", c.Good)
		}
	})
}

// execWrite runs a statement on the sink's database with a writing connection.
func execWrite(t *testing.T, s *runningSink, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch st := s.store.(type) {
	case *sqliteStore:
		_, err = st.w.ExecContext(ctx, query, args...)
	case *postgresStore:
		p, perr := st.getPool(ctx)
		if perr != nil {
			t.Fatal(perr)
		}
		_, err = p.Exec(ctx, query, args...)
	}
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func TestSinkReset(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		put(t, p.enriched, testTSV(5, "a")...)
		put(t, p.enriched, testTSV(3, "b")...)
		put(t, p.enriched, []byte("b\tbroken"))
		s := startSink(t, cfg, dir, p)
		s.shutdown(t)
		if c := s.count(t, "b"); c != (Counts{Good: 3, Bad: 1}) {
			t.Fatalf("Count(b) = %+v, want 3 good 1 bad", c)
		}
		ctx := context.Background()
		got, err := s.Reset(ctx, "b")
		if err != nil {
			t.Fatal(err)
		}
		if got != (Counts{Good: 3, Bad: 1}) {
			t.Errorf("Reset(b) = %+v, want 3 good 1 bad", got)
		}
		if c := s.count(t, ""); c != (Counts{Good: 5}) {
			t.Errorf("after Reset(b) Count = %+v, want 5 good", c)
		}
		if got, err = s.Reset(ctx, ""); err != nil || got != (Counts{Good: 5}) {
			t.Errorf("Reset() = %+v, %v; want 5 good", got, err)
		}
		if c := s.count(t, ""); c != (Counts{}) {
			t.Errorf("after Reset() Count = %+v, want none", c)
		}
	})
}

// TestSinkWaitsForTheDatabase starts the sink before its database can be opened: it
// retries, then loads.
func TestSinkWaitsForTheDatabase(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "db")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil { // a file where the folder must go
		t.Fatal(err)
	}
	cfg := DefaultSinkConfig()
	cfg.URL = "sqlite:" + filepath.Join(blocker, "events.db")
	p := newPipeline(t)
	put(t, p.enriched, testTSV(3, "late")...)
	s, err := NewSink(cfg, Deps{Streams: p.inputs(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	select {
	case <-s.Ready():
		t.Fatal("ready without a database")
	case <-time.After(300 * time.Millisecond):
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	<-s.Ready()
	poll.Until(t, "3 events", 20*time.Second, func() bool { c, err := s.Count(ctx, ""); return err == nil && c.Good == 3 })
	cancel()
	if err := <-errc; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

func TestNewSinkErrors(t *testing.T) {
	p := newPipeline(t)
	cases := []struct {
		name string
		cfg  func(*SinkConfig)
		deps func(*Deps)
		want string
	}{
		{"bad url", func(c *SinkConfig) { c.URL = "mysql://x" }, nil, "loaders.sink.url"},
		{"no data dir", nil, func(d *Deps) { d.DataDir = "" }, "needs a data directory"},
		{"missing stream", func(c *SinkConfig) { c.BadStreams = []string{"bad-9"} }, nil, `loaders.sink.badStreams[0]: no stream "bad-9"`},
		{"bad postgres url", func(c *SinkConfig) { c.URL = "postgres://x:y@h:notaport/db" }, nil, "loaders.sink.url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultSinkConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			deps := Deps{Streams: p.inputs(), DataDir: t.TempDir()}
			if tc.deps != nil {
				tc.deps(&deps)
			}
			s, err := NewSink(cfg, deps)
			if err == nil {
				s.Close()
				t.Fatalf("NewSink = nil error, want one containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSink error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestPostgresAtomicColumns checks the events table against the Postgres loader's DDL in
// the spec.
func TestPostgresAtomicColumns(t *testing.T) {
	ddl := specDDL(t)
	u := postgresURL(t)
	cfg := DefaultSinkConfig()
	cfg.URL = u
	cfg.Schema = postgresSchema(t, u)
	s := startSink(t, cfg, t.TempDir(), newPipeline(t))
	ctx := context.Background()
	pool, err := s.store.(*postgresStore).getPool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT column_name, format_type(atttypid, atttypmod), attnotnull
FROM information_schema.columns c JOIN pg_attribute a ON a.attrelid = (quote_ident(c.table_schema)||'.'||quote_ident(c.table_name))::regclass AND a.attname = c.column_name
WHERE table_schema = $1 AND table_name = 'events' ORDER BY ordinal_position`, cfg.Schema)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var name, typ string
	var notNull bool
	if _, err := pgx.ForEachRow(rows, []any{&name, &typ, &notNull}, func() error {
		s := name + " " + typ
		if notNull {
			s += " not null"
		}
		got = append(got, s)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"id bigint not null"}, ddl...)
	want = append(want, "contexts json", "derived_contexts json", "unstruct_event json", "raw_event text", "load_tstamp timestamp without time zone not null")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns of events (-want +got):\n%s", diff)
	}
}

// specDDL reads the atomic.events DDL of the spec, in format_type's spelling.
func specDDL(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, filepath.Join("spec", "postgres-loader.md"), "the Postgres loader's DDL the columns are checked against"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "CREATE TABLE atomic.events"):
			in = true
			continue
		case strings.HasPrefix(line, ")"):
			in = false
		}
		if !in || line == "" {
			continue
		}
		fields := strings.Fields(strings.TrimSuffix(line, ","))
		name, typ := fields[0], strings.ToLower(strings.Join(fields[1:], " "))
		notNull := strings.HasSuffix(typ, " not null")
		typ = strings.TrimSuffix(typ, " not null")
		r := strings.NewReplacer("varchar", "character varying", "char(", "character(", "timestamp", "timestamp without time zone")
		typ = r.Replace(typ)
		s := name + " " + typ
		if notNull {
			s += " not null"
		}
		out = append(out, s)
	}
	if len(out) != 128 {
		t.Fatalf("read %d columns from the spec, want 128", len(out))
	}
	return out
}

// TestSinkLoadsEnrichGoldens loads the enriched events that enrich's golden tests
// produce from real tracker requests, and reads each back with the same Analytics-SDK
// JSON.
func TestSinkLoadsEnrichGoldens(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(sharedtest.Root(t), "testdata", "enrich", "*.tsv"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no enriched goldens in testdata/enrich (%v)", err)
	}
	var lines [][]byte
	want := make(map[string]string) // event_id -> SDK JSON
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			ev, err := event.ParseTSV([]byte(line))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			js, err := ev.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, []byte(line))
			want[ev.Fields[event.EventID]] = string(js)
		}
	}
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		put(t, p.enriched, lines...)
		s := startSink(t, cfg, dir, p)
		s.shutdown(t)
		got, err := s.Recent(context.Background(), Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(lines) {
			t.Fatalf("Recent returned %d events, want %d", len(got), len(lines))
		}
		for _, se := range got {
			id := se.Event.Fields[event.EventID]
			jsonEqual(t, "event "+id, string(se.JSON), want[id])
		}
	})
}

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/loaders")

// TestTableLayoutGolden keeps the tables the sink creates in testdata/loaders, for
// people to read and for changes to be seen in review.
func TestTableLayoutGolden(t *testing.T) {
	sq, err := newSQLiteStore(filepath.Join(t.TempDir(), "events.db"), testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer sq.close()
	pg, err := newPostgresStore("postgres://localhost/db", "atomic", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.close()
	for name, ddl := range map[string][]string{"sqlite.sql": sq.ddl(), "postgres.sql": pg.ddl()} {
		got := []byte(strings.Join(ddl, ";\n\n") + ";\n")
		path := filepath.Join(sharedtest.Root(t), "testdata", "loaders", name)
		if *updateGolden {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -run TestTableLayoutGolden -update)", err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

// TestSinkRetriesWrites drops the events table under a running sink: writing fails,
// is retried, the table is created again and nothing put afterwards is lost.
func TestSinkRetriesWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		reg := prometheus.NewRegistry()
		s := startSinkWith(t, cfg, Deps{Streams: p.inputs(), DataDir: dir, Logger: testLogger(t), Registerer: reg})
		put(t, p.enriched, testTSV(3, "before")...)
		poll.Until(t, "3 events", 20*time.Second, func() bool { return s.count(t, "").Good == 3 })
		execWrite(t, s, "DROP TABLE "+s.Table("events"))
		put(t, p.enriched, testTSV(4, "after")...)
		poll.Until(t, "4 events after the drop", 20*time.Second, func() bool {
			c, err := s.Count(context.Background(), "after")
			return err == nil && c.Good == 4
		})
		s.shutdown(t)
		if got := metricValue(t, reg, "snowplow_mini_sink_write_errors_total"); got < 1 {
			t.Errorf("write errors = %v, want at least 1", got)
		}
		if got := metricValue(t, reg, "snowplow_mini_sink_rows_loaded_total"); got != 7 {
			t.Errorf("rows loaded = %v, want 7", got)
		}
	})
}

// metricValue sums the samples of a counter family.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func TestSinkLifecycle(t *testing.T) {
	p := newPipeline(t)
	s, err := NewSink(DefaultSinkConfig(), Deps{Streams: p.inputs(), DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Shutdown before Run: Run then drains what is there and returns.
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown before Run = %v", err)
	}
	put(t, p.enriched, testTSV(2, "life")...)
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if c, err := s.Count(context.Background(), ""); err != nil || c.Good != 2 {
		t.Errorf("Count = %+v, %v; want 2 good", c, err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("second Run = nil, want an error")
	}
	// Two sinks cannot share a registry.
	reg := prometheus.NewRegistry()
	a, err := NewSink(DefaultSinkConfig(), Deps{Streams: p.inputs(), DataDir: t.TempDir(), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if b, err := NewSink(DefaultSinkConfig(), Deps{Streams: p.inputs(), DataDir: t.TempDir(), Registerer: reg}); err == nil {
		b.Close()
		t.Error("second NewSink on the same registry = nil error, want a registration error")
	}
}

// TestPostgresStoresBadRowsItCannotParse stores a bad row whose failure JSONB refuses
// (\u0000) in plain-text form, rather than looping on it.
func TestPostgresStoresBadRowsItCannotParse(t *testing.T) {
	u := postgresURL(t)
	cfg := DefaultSinkConfig()
	cfg.URL = u
	cfg.Schema = postgresSchema(t, u)
	p := newPipeline(t)
	row := `{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0","data":{"processor":{"artifact":"x","version":"1.0.0"},"failure":{"timestamp":"2024-03-01T12:00:00.000Z","errors":["nul \u0000 here"]},"payload":"p"}}`
	put(t, p.bad1, []byte(row), []byte("bad\x00bytes \xff"))
	s := startSink(t, cfg, t.TempDir(), p)
	s.shutdown(t)
	got := badRowsOf(t, s)
	if len(got) != 2 {
		t.Fatalf("%d bad rows stored, want 2", len(got))
	}
	var datas []string
	for _, b := range got {
		datas = append(datas, string(b.Data))
	}
	slices.Sort(datas)
	want := []string{`bad\u0000bytes ` + "\uFFFD", row}
	slices.Sort(want)
	if diff := cmp.Diff(want, datas); diff != "" {
		t.Errorf("stored data (-want +got):\n%s", diff)
	}
	types := queryStrings(t, s.Sink, "SELECT type FROM "+s.Table("bad_rows")+" WHERE failure IS NULL")
	slices.Sort(types)
	if !slices.Equal(types, []string{"<null>", "generic_error"}) {
		t.Errorf("types of rows stored without failure = %q, want the generic_error and the non-bad-row", types)
	}
}

// flakyPut fails chosen Put calls of a stream.
type flakyPut struct {
	streams.Stream
	mu    sync.Mutex
	calls int
	fail  map[int]bool // call number (from 1) -> fail
}

func (f *flakyPut) Put(ctx context.Context, entries []streams.Entry) ([]streams.PutResult, error) {
	f.mu.Lock()
	f.calls++
	fail := f.fail[f.calls]
	f.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("put refused: %w", streams.ErrFull)
	}
	return f.Stream.Put(ctx, entries)
}

// TestSinkPutsBadRowsOnce makes the second Put of a batch's bad rows fail: the batch is
// handled again, and every bad row still reaches bad-2 exactly once.
func TestSinkPutsBadRowsOnce(t *testing.T) {
	enriched := newStream(t, streams.Enriched, 1)
	bad1 := newStream(t, streams.Bad1, 1)
	bad2 := newStream(t, streams.Bad2, 1)
	out := &flakyPut{Stream: bad2, fail: map[int]bool{2: true}}
	in := map[string]Input{
		streams.Enriched: {Stream: enriched, Checkpointer: enriched},
		streams.Bad1:     {Stream: bad1, Checkpointer: bad1},
		streams.Bad2:     {Stream: out, Checkpointer: bad2},
	}
	const n = 700 // two Puts: 500 and 200
	var lines [][]byte
	for i := 0; i < n; i++ {
		lines = append(lines, []byte(fmt.Sprintf("not an event %d", i)))
	}
	put(t, enriched, lines...)
	s := startSinkWith(t, DefaultSinkConfig(), Deps{Streams: in, DataDir: t.TempDir(), Logger: testLogger(t)})
	s.shutdown(t)
	if c := s.count(t, ""); c.Bad != n {
		t.Errorf("%d bad rows stored, want %d", c.Bad, n)
	}
	out.mu.Lock()
	calls := out.calls
	out.mu.Unlock()
	if calls != 3 {
		t.Errorf("%d Puts, want 3 (500, a failure, 200)", calls)
	}
}
