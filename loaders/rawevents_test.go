package loaders

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// testRaw returns the raw request of event number i: a browser-like request whose
// shape varies with i (a base64 cx, repeated and nil parameters, bytes JSON escapes,
// invalid UTF-8, no timestamp).
func testRaw(i int) *event.RawEvent {
	cx := "eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0wIiwiZGF0YSI6W119"
	r := &event.RawEvent{
		Vendor: "com.snowplowanalytics.snowplow", Version: "tp2",
		Parameters: []event.NVP{
			event.NewNVP("e", "pv"), event.NewNVP("aid", "shop"), event.NewNVP("cx", cx),
			event.NewNVP("url", fmt.Sprintf("https://shop.example.com/p/%d?q=\"a\"\n", i)),
		},
		ContentType: "application/json; charset=utf-8", LoaderName: "snowplow-mini-collector-0.1.0",
		Encoding: "UTF-8", Hostname: "collector.example.com",
		Timestamp: time.Date(2026, 12, 6, 4, 11, 32, i*1e6+123, time.UTC),
		IPAddress: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", RefererURI: "https://shop.example.com/",
		Headers: []string{
			"Host: collector.example.com", "Cookie: sp=" + fmt.Sprint(i), "Referer: https://shop.example.com/",
			"User-Agent: Mozilla/5.0 (X11; Linux x86_64)", "X-Custom: \x00\xff", "application/json; charset=utf-8",
		},
		UserID: fmt.Sprint(i),
	}
	switch i % 4 {
	case 1:
		r.Parameters = append(r.Parameters, event.NVP{Name: "nil"}, event.NewNVP("e", "pp"))
	case 2:
		r.Parameters = append(r.Parameters, event.NewNVP("page", "caf\xe9 \u2028 \x01"))
	case 3:
		r.Timestamp = time.Time{}
		r.Headers = nil
	}
	return r
}

// TestSinkStoresRawEvents checks that Events gives back Micro's rawEvent JSON of what
// ObserveGood was given, byte for byte, whatever form the store keeps: requests unlike
// their events (testRaw), the tracker's requests of browser events, whose compact form
// refers to the row for most of its bytes, and such a request whose event has a TAB in
// a field it repeats (the TSV, and the row, hold spaces instead).
func TestSinkStoresRawEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, cfg SinkConfig, dir string) {
		p := newPipeline(t)
		s := startSink(t, cfg, dir, p)
		const n = 12
		want := make(map[string][]byte)
		small := make(map[string]int) // the most bytes a compact value may take
		for i := range n {
			ev, raw := testEvent(i, "shop"), testRaw(i)
			switch i % 3 {
			case 1:
				raw = trackerRaw(ev)
				small[ev.Fields[event.EventID]] = len(raw.CompactString()) / 2
			case 2:
				ev.Fields[event.PageTitle] += "\tsale"
				raw = trackerRaw(ev)
			}
			if i < n-1 { // the last event comes without its request
				s.ObserveGood(raw, ev, ev.MarshalTSV(), testEntities(t, ev))
				want[ev.Fields[event.EventID]] = raw.AppendMicroJSON(nil)
			}
			put(t, p.enriched, ev.MarshalTSV())
		}
		poll.Until(t, "all events loaded", 20*time.Second, func() bool { return s.count(t, "").Good == n })
		got, err := s.Recent(context.Background(), Query{Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("Recent returned %d events, want %d", len(got), n)
		}
		for _, se := range got {
			id := se.Event.Fields[event.EventID]
			if w := want[id]; !bytes.Equal(se.RawEvent, w) {
				t.Errorf("event %s: RawEvent =\n%s\nwant\n%s", id, se.RawEvent, w)
			}
		}
		// What the column holds: the compact form in SQLite, the JSON in PostgreSQL.
		prefix := queryStrings(t, s.Sink, "SELECT substr(raw_event, 1, 1) FROM "+s.Table("events")+" WHERE raw_event IS NOT NULL")
		wantPrefix := "{"
		if s.Dialect() == "sqlite" {
			wantPrefix = string(rune(event.CompactRawMarker))
		}
		if len(prefix) != n-1 || strings.Count(strings.Join(prefix, ""), wantPrefix) != n-1 {
			t.Errorf("raw_event values start with %q, want %d starting with %q", prefix, n-1, wantPrefix)
		}
		if s.Dialect() == "sqlite" {
			for id, most := range small {
				got := queryStrings(t, s.Sink, "SELECT length(CAST(raw_event AS BLOB)) FROM events WHERE event_id = ?", id)
				if len(got) != 1 {
					t.Fatalf("event %s: %d rows", id, len(got))
				}
				if size, _ := strconv.Atoi(got[0]); size > most {
					t.Errorf("event %s: raw_event of %d bytes, want at most %d", id, size, most)
				}
			}
		}
	})
}

// TestSQLiteReadsJSONRawEvents opens a file whose raw_event column holds Micro's JSON, as
// files written before the compact form do, beside compact values and a damaged one.
func TestSQLiteReadsJSONRawEvents(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultSinkConfig()
	p := newPipeline(t)
	s := startSink(t, cfg, dir, p)
	const n = 4
	evs := make([]*event.EnrichedEvent, n)
	for i := range evs {
		evs[i] = testEvent(i, "shop")
		s.ObserveGood(testRaw(i), evs[i], nil, testEntities(t, evs[i]))
		put(t, p.enriched, evs[i].MarshalTSV())
	}
	poll.Until(t, "all events loaded", 20*time.Second, func() bool { return s.count(t, "").Good == n })
	s.shutdown(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Event 0 gets the JSON of another request, event 1 a compact value that does not
	// decode; events 2 and 3 keep their compact values.
	legacy := testRaw(7).AppendMicroJSON(nil)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	for id, v := range map[string]any{evs[0].Fields[event.EventID]: string(legacy), evs[1].Fields[event.EventID]: []byte{event.CompactRawMarker, 0xff}} {
		if _, err := db.Exec("UPDATE events SET raw_event = ? WHERE event_id = ?", v, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = startSink(t, cfg, dir, newPipeline(t))
	got, err := s.Recent(context.Background(), Query{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{
		evs[0].Fields[event.EventID]: legacy,
		evs[1].Fields[event.EventID]: nil,
		evs[2].Fields[event.EventID]: testRaw(2).AppendMicroJSON(nil),
		evs[3].Fields[event.EventID]: testRaw(3).AppendMicroJSON(nil),
	}
	if len(got) != n {
		t.Fatalf("Recent returned %d events, want %d", len(got), n)
	}
	for _, se := range got {
		id := se.Event.Fields[event.EventID]
		if w := want[id]; !bytes.Equal(se.RawEvent, w) {
			t.Errorf("event %s: RawEvent =\n%q\nwant\n%q", id, se.RawEvent, w)
		}
	}
}

// TestObserveGoodCopiesEventID checks that the pending raw events do not keep the event
// id enrich hands over, a part of the whole decoded collector payload: the ring keeps
// ids long after their events are loaded, and with them tens of kilobytes each.
func TestObserveGoodCopiesEventID(t *testing.T) {
	s := &Sink{raws: newPendingRaw(nil)}
	payload := strings.Repeat("x", 1<<10) + "c6ef3124-b53a-4b13-a233-000000000001"
	ev := testEvent(1, "shop")
	ev.Fields[event.EventID] = payload[1<<10:]
	s.ObserveGood(testRaw(1), ev, nil, nil)
	start := uintptr(unsafe.Pointer(unsafe.StringData(payload)))
	within := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		return p >= start && p < start+uintptr(len(payload))
	}
	for id := range s.raws.byID {
		if within(id) {
			t.Errorf("pending entry %q refers to enrich's payload", id)
		}
	}
	if id := s.raws.ring[s.raws.head]; id != ev.Fields[event.EventID] || within(id) {
		t.Errorf("ring slot %q: want a copy of %q", id, ev.Fields[event.EventID])
	}
}

// trackerRaw returns the request the JavaScript tracker sent for the browser event ev,
// as the collector and the tp2 adapter make it: the parameters that enrich copies into
// fields as they are (cx and ue_px in base64, the contexts envelope at 1-0-0 as the
// tracker writes it) and the headers of a cross-site POST.
func trackerRaw(ev *event.EnrichedEvent) *event.RawEvent {
	f := &ev.Fields
	var params []event.NVP
	add := func(name, v string) {
		if v != "" {
			params = append(params, event.NewNVP(name, v))
		}
	}
	e := map[string]string{"page_view": "pv", "page_ping": "pp", "struct": "se", "unstruct": "ue", "transaction": "tr"}[f[event.Event]]
	add("e", e)
	add("url", f[event.PageURL])
	add("page", f[event.PageTitle])
	add("refr", f[event.PageReferrer])
	add("eid", f[event.EventID])
	add("tv", f[event.VTracker])
	add("tna", f[event.NameTracker])
	add("aid", f[event.AppID])
	add("p", f[event.Platform])
	add("cookie", f[event.BrCookies])
	add("cs", f[event.DocCharset])
	add("lang", f[event.BrLang])
	add("res", f[event.DvceScreenWidth]+"x"+f[event.DvceScreenHeight])
	add("cd", f[event.BrColorDepth])
	add("tz", f[event.OSTimezone])
	add("dtm", "1796530292736")
	add("vp", f[event.BrViewWidth]+"x"+f[event.BrViewHeight])
	add("ds", f[event.DocWidth]+"x"+f[event.DocHeight])
	add("vid", f[event.DomainSessionIdx])
	add("sid", f[event.DomainSessionID])
	add("duid", f[event.DomainUserID])
	if u := f[event.UnstructEvent]; u != "" {
		add("ue_px", base64.RawURLEncoding.EncodeToString([]byte(u)))
	}
	if c := f[event.Contexts]; c != "" {
		add("cx", base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(c, "/contexts/jsonschema/1-0-1", "/contexts/jsonschema/1-0-0", 1))))
	}
	add("stm", "1796530302236")
	const origin = "https://shop.example.com"
	return &event.RawEvent{
		Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", Parameters: params,
		ContentType: "application/json; charset=utf-8", LoaderName: "snowplow-mini-collector-0.1.0", Encoding: "UTF-8",
		Hostname: "collector.example.com", Timestamp: time.Date(2026, 12, 6, 4, 11, 32, 736e6, time.UTC),
		IPAddress: f[event.UserIPAddress], UserAgent: f[event.UserAgent], RefererURI: origin + "/", UserID: f[event.NetworkUserID],
		Headers: []string{
			"Host: collector.example.com", "Accept: */*", "Accept-Encoding: gzip, deflate, br, zstd",
			"Accept-Language: en-GB,en;q=0.9", "Content-Length: 19512", "Content-Type: application/json; charset=UTF-8",
			"Cookie: sp=" + f[event.NetworkUserID], "Origin: " + origin, "Referer: " + origin + "/", "Sec-Fetch-Dest: empty",
			"Sec-Fetch-Mode: cors", "Sec-Fetch-Site: cross-site", "User-Agent: " + f[event.UserAgent], "application/json; charset=utf-8",
		},
	}
}

// BenchmarkSQLiteWriteRawEvent measures what the raw_event value costs the SQLite
// writer: 1,000-row transactions of browser events (testdata/browser-enriched.tsv.gz)
// with no raw_event, Micro's JSON of the tracker's request (trackerRaw), its compact
// form, and the compact form that refers to the row (what the sink stores). It reports
// the raw_event bytes and the database's bytes per event.
func BenchmarkSQLiteWriteRawEvent(b *testing.B) {
	var lines [][]byte
	for _, r := range browserRecords(b, streams.Enriched, 1000) {
		lines = append(lines, r.Data)
	}
	for _, tt := range []struct {
		name  string
		value func(*event.RawEvent, *event.EnrichedEvent) string
	}{
		{"none", nil},
		{"json", func(r *event.RawEvent, _ *event.EnrichedEvent) string { return string(r.AppendMicroJSON(nil)) }},
		{"compact", func(r *event.RawEvent, _ *event.EnrichedEvent) string { return r.CompactString() }},
		{"compact-row", func(r *event.RawEvent, row *event.EnrichedEvent) string { return r.CompactRowString(row) }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			st := openBenchSQLite(b)
			bytes := 0
			batch := testBatch(b, st, lines, func(row *eventRow) {
				if tt.value != nil {
					// raw_event follows the values of convert.
					v := tt.value(trackerRaw(row.ev), row.ev)
					bytes += len(v)
					row.values[len(row.values)-1] = v
				}
			})
			benchWrite(b, st, batch)
			b.ReportMetric(float64(bytes)/float64(len(batch.events)), "raw-bytes/event")
			var size int64
			if err := st.r.QueryRow("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&size); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(size)/float64(b.N*len(batch.events)), "db-bytes/event")
		})
	}
}
