package main

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// The test API over the event store, on SQLite and on PostgreSQL: every route and
// filter against the semantics of ../shared/spec/micro-api.md, and a restart.

// apiData is what sendAPIData sent, and when.
type apiData struct {
	t0, t1, t2 time.Time
}

// sendAPIData sends, before t1: three page views of app a (titles Alpha, beta, Gamma,
// the last with cookies on) and a link click of app a that fails validation; after t1:
// two structured events of app b and a page view of app b that enrich rejects.
func sendAPIData(t *testing.T, s *server) apiData {
	t.Helper()
	get := func(q url.Values) {
		t.Helper()
		q.Set("p", "web")
		q.Set("tv", "api-test")
		resp, err := http.Get(s.base + "/i?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /i?%s = %d", q.Encode(), resp.StatusCode)
		}
	}
	var d apiData
	d.t0 = time.Now().UTC().Add(-time.Second)
	get(url.Values{"e": {"pv"}, "aid": {"a"}, "page": {"Alpha"}, "url": {"https://shop.example/alpha"}})
	get(url.Values{"e": {"pv"}, "aid": {"a"}, "page": {"beta"}, "url": {"https://shop.example/beta"}})
	get(url.Values{"e": {"pv"}, "aid": {"a"}, "page": {"Gamma"}, "url": {"https://shop.example/gamma"}, "cookie": {"1"}})
	get(url.Values{"e": {"ue"}, "aid": {"a"}, "ue_pr": {`{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"elementId":"x"}}}`}})
	time.Sleep(20 * time.Millisecond)
	d.t1 = time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	get(url.Values{"e": {"se"}, "aid": {"b"}, "se_ca": {"cat1"}, "se_ac": {"click"}})
	get(url.Values{"e": {"se"}, "aid": {"b"}, "se_ca": {"Cat2"}, "se_ac": {"view"}})
	get(url.Values{"e": {"pv"}, "aid": {"b"}, "dtm": {"notatimestamp"}})
	d.t2 = time.Now().UTC().Add(time.Second)
	var w struct{ Complete bool }
	s.getJSON(t, "/micro/wait?count=5&timeout=20s", &w)
	if !w.Complete {
		t.Fatal("5 good events did not arrive")
	}
	s.getJSON(t, "/micro/wait?type=bad&count=2&timeout=20s", &w)
	if !w.Complete {
		t.Fatal("2 bad events did not arrive")
	}
	return d
}

// call sends a request and returns the status and the (decompressed) body.
func call(t *testing.T, s *server, method, path, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// Without DisableCompression the transport would decompress on its own.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func callJSON(t *testing.T, s *server, method, path, body string, v any) {
	t.Helper()
	code, _, data := call(t, s, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s %s = %d %s", method, path, body, code, data)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, data)
	}
}

type eventsPage struct {
	Events     []map[string]any `json:"events"`
	TotalPages int              `json:"totalPages"`
	TotalItems int              `json:"totalItems"`
}

func (p eventsPage) column(name string) []string {
	var out []string
	for _, e := range p.Events {
		v, ok := e[name]
		if !ok {
			out = append(out, "<none>")
			continue
		}
		out = append(out, fmt.Sprint(v))
	}
	return out
}

func testMicroAPI(t *testing.T, s *server) {
	d := sendAPIData(t, s)
	events := func(body string) eventsPage {
		t.Helper()
		var p eventsPage
		callJSON(t, s, "POST", "/micro/events", body, &p)
		return p
	}

	t.Run("all", func(t *testing.T) {
		var sum summary
		callJSON(t, s, "GET", "/micro/all", "", &sum)
		if sum != (summary{Total: 7, Good: 5, Bad: 2}) {
			t.Errorf("/micro/all = %+v", sum)
		}
		callJSON(t, s, "POST", "/micro/all", `{"app_id":"a"}`, &sum)
		if sum != (summary{Total: 4, Good: 3, Bad: 1}) {
			t.Errorf("/micro/all app a = %+v", sum)
		}
	})

	t.Run("good", func(t *testing.T) {
		var good []microEvent
		callJSON(t, s, "GET", "/micro/good", "", &good)
		// Newest first is load order, the order of /micro/events without sorting.
		var ids, titles []string
		for _, g := range good {
			ids = append(ids, fmt.Sprint(g.Event["event_id"]))
			titles = append(titles, fmt.Sprint(g.Event["page_title"], "/", g.Event["se_category"]))
			if g.Event["page_title"] == "Gamma" {
				if p := g.RawEvent.Parameters; p["page"] != "Gamma" || p["cookie"] != "1" {
					t.Errorf("rawEvent.parameters = %v", p)
				}
			}
		}
		slices.Sort(titles)
		want := []string{"<nil>/Cat2", "<nil>/cat1", "Alpha/<nil>", "Gamma/<nil>", "beta/<nil>"}
		if diff := cmp.Diff(want, titles); diff != "" {
			t.Errorf("/micro/good (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(events(`{"page":1,"pageSize":10,"validEvents":true}`).column("event_id"), ids); diff != "" {
			t.Errorf("/micro/good order vs /micro/events order (-events +good):\n%s", diff)
		}
		if len(good[0].Event) != 131 {
			t.Errorf("event has %d keys, want the 131 fields", len(good[0].Event))
		}
		for _, tt := range []struct {
			body string
			want int
		}{
			{`{"event_type":"struct"}`, 2},
			{`{"event_type":"se"}`, 0},
			{`{"schema":"iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"}`, 3},
			{`{"schema":"iglu:com.google.analytics/event/jsonschema/1-0-0","app_id":"b"}`, 2},
			{`{"limit":1}`, 1},
			{`{"limit":-1}`, 0},
			{`{"app_id":"a","contexts":["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]}`, 0},
		} {
			var got []microEvent
			callJSON(t, s, "POST", "/micro/good", tt.body, &got)
			if len(got) != tt.want {
				t.Errorf("POST /micro/good %s = %d events, want %d", tt.body, len(got), tt.want)
			}
		}
		if code, _, _ := call(t, s, "POST", "/micro/good", ""); code != http.StatusBadRequest {
			t.Errorf("POST /micro/good without a body = %d, want 400", code)
		}
		if code, _, _ := call(t, s, "POST", "/micro/good", `{"event_type":5}`); code != http.StatusUnprocessableEntity {
			t.Errorf(`POST /micro/good {"event_type":5} = %d, want 422`, code)
		}
	})

	t.Run("bad", func(t *testing.T) {
		var bad []struct {
			CollectorPayload *struct {
				Querystring []string `json:"querystring"`
			} `json:"collectorPayload"`
			Errors []string `json:"errors"`
		}
		callJSON(t, s, "GET", "/micro/bad", "", &bad)
		if len(bad) != 2 || !strings.Contains(bad[0].Errors[1]+bad[1].Errors[1], "link_click") {
			t.Fatalf("/micro/bad = %+v, want 2, one of them the link click", bad)
		}
		callJSON(t, s, "POST", "/micro/bad", `{"app_id":"a","limit":5}`, &bad)
		if len(bad) != 1 {
			t.Errorf("/micro/bad app a = %d, want 1", len(bad))
		}
	})

	t.Run("events paging", func(t *testing.T) {
		p := events(`{"page":1,"pageSize":2}`)
		if p.TotalItems != 7 || p.TotalPages != 4 || len(p.Events) != 2 {
			t.Errorf("page 1 of 2 = %d events, %d items, %d pages", len(p.Events), p.TotalItems, p.TotalPages)
		}
		if p := events(`{"page":4,"pageSize":2}`); len(p.Events) != 1 {
			t.Errorf("page 4 of 2 = %d events, want 1", len(p.Events))
		}
		if p := events(`{"page":9,"pageSize":2}`); len(p.Events) != 0 || p.TotalItems != 7 {
			t.Errorf("page past the end = %d events, %d items", len(p.Events), p.TotalItems)
		}
		if p := events(`{"page":1,"pageSize":10,"validEvents":false,"filters":[{"column":"app_id","values":["nobody"]}]}`); p.TotalPages != 1 || p.TotalItems != 0 {
			t.Errorf("empty answer: %d pages, %d items, want 1 and 0", p.TotalPages, p.TotalItems)
		}
		// Pages of one together are the whole list, in the same order.
		all := events(`{"page":1,"pageSize":100}`).column("event_id")
		var paged []string
		for i := 1; i <= 7; i++ {
			paged = append(paged, events(fmt.Sprintf(`{"page":%d,"pageSize":1}`, i)).column("event_id")...)
		}
		if diff := cmp.Diff(all, paged); diff != "" {
			t.Errorf("pages of 1 vs one page (-one +paged):\n%s", diff)
		}
	})

	t.Run("events valid and failed", func(t *testing.T) {
		if p := events(`{"page":1,"pageSize":10,"validEvents":true}`); p.TotalItems != 5 {
			t.Errorf("validEvents true = %d", p.TotalItems)
		}
		p := events(`{"page":1,"pageSize":10,"validEvents":false}`)
		if p.TotalItems != 2 {
			t.Fatalf("validEvents false = %d", p.TotalItems)
		}
		for _, e := range p.Events {
			f, ok := e["contexts_com_snowplowanalytics_snowplow_failure_1"].([]any)
			if !ok || len(f) != 1 {
				t.Errorf("failed event without its failure entity: %v", e)
			}
		}
		names := p.column("event_name")
		i := slices.Index(names, "link_click")
		if i < 0 || p.Events[i]["app_id"] != "a" || p.Events[i]["event_id"] == nil {
			t.Errorf("failed events %v, want the link click of app a", p.Events)
		}
	})

	t.Run("events filters", func(t *testing.T) {
		for _, tt := range []struct {
			filters string
			want    int
		}{
			{`[{"column":"app_id","values":["A"]}]`, 4},
			{`[{"column":"app_id","values":["a","b"]}]`, 7},
			{`[{"column":"app_id","values":["",""]}]`, 7},
			{`[{"column":"page_title","values":["alpha","GAMMA"]}]`, 2},
			{`[{"column":"page_title","values":["alpha"]},{"column":"app_id","values":["b"]}]`, 0},
			{`[{"column":"br_cookies","values":["true"]}]`, 1},
			{`[{"column":"event","values":["struct"]}]`, 2},
			{`[{"column":"event","values":["unstruct"]}]`, 1},
			{`[{"column":"contexts_com_snowplowanalytics_snowplow_ua_parser_context_1","values":["x"]}]`, 7},
			{`[{"column":"unstruct_event_com_snowplowanalytics_snowplow_link_click_1.targetUrl","values":["x"]}]`, 7},
			{`[{"column":"no_such_column","values":["x"]}]`, 0},
		} {
			if p := events(`{"page":1,"pageSize":10,"filters":` + tt.filters + `}`); p.TotalItems != tt.want || len(p.Events) != tt.want {
				t.Errorf("filters %s = %d items, %d events; want %d", tt.filters, p.TotalItems, len(p.Events), tt.want)
			}
		}
	})

	t.Run("events sorting", func(t *testing.T) {
		asc := events(`{"page":1,"pageSize":10,"validEvents":true,"sorting":{"column":"page_title","desc":false}}`).column("page_title")
		if diff := cmp.Diff([]string{"Alpha", "Gamma", "beta", "<none>", "<none>"}, asc); diff != "" {
			t.Errorf("ascending (-want +got):\n%s", diff)
		}
		desc := events(`{"page":1,"pageSize":10,"validEvents":true,"sorting":{"column":"page_title","desc":true}}`).column("page_title")
		if diff := cmp.Diff([]string{"<none>", "<none>", "beta", "Gamma", "Alpha"}, desc); diff != "" {
			t.Errorf("descending (-want +got):\n%s", diff)
		}
		// Valid and failed events sort together.
		mixed := events(`{"page":1,"pageSize":10,"sorting":{"column":"app_id","desc":true}}`).column("app_id")
		if diff := cmp.Diff([]string{"b", "b", "b", "a", "a", "a", "a"}, mixed); diff != "" {
			t.Errorf("app_id descending over valid and failed (-want +got):\n%s", diff)
		}
		// Sorting on a complex column is ignored: newest first.
		def := events(`{"page":1,"pageSize":10,"validEvents":true}`).column("event_id")
		ign := events(`{"page":1,"pageSize":10,"validEvents":true,"sorting":{"column":"contexts_com_snowplowanalytics_snowplow_ua_parser_context_1","desc":false}}`).column("event_id")
		if diff := cmp.Diff(def, ign); diff != "" {
			t.Errorf("sorting on a context column changed the order (-want +got):\n%s", diff)
		}
	})

	t.Run("events time range", func(t *testing.T) {
		ts := func(tm time.Time) string { return tm.Format(time.RFC3339Nano) }
		for _, tt := range []struct {
			timeRange string
			want      int
		}{
			{`{"start":"` + ts(d.t0) + `","end":"` + ts(d.t2) + `"}`, 7},
			{`{"end":"` + ts(d.t1) + `"}`, 4},
			{`{"start":"` + ts(d.t1) + `"}`, 3},
			{`{"start":"` + ts(d.t2) + `"}`, 0},
		} {
			if p := events(`{"page":1,"pageSize":10,"timeRange":` + tt.timeRange + `}`); p.TotalItems != tt.want {
				t.Errorf("timeRange %s = %d, want %d", tt.timeRange, p.TotalItems, tt.want)
			}
		}
	})

	t.Run("columns", func(t *testing.T) {
		var cols []string
		callJSON(t, s, "GET", "/micro/columns", "", &cols)
		if !slices.IsSorted(cols) {
			t.Errorf("/micro/columns is not sorted: %q", cols)
		}
		for _, want := range []string{"app_id", "page_title", "se_category", "br_cookies",
			"contexts_com_snowplowanalytics_snowplow_ua_parser_context_1",
			"contexts_com_snowplowanalytics_snowplow_ua_parser_context_1.useragentFamily",
			"contexts_com_snowplowanalytics_snowplow_failure_1.failureType"} {
			if !slices.Contains(cols, want) {
				t.Errorf("/micro/columns lacks %q", want)
			}
		}
		if slices.Contains(cols, "tr_total") {
			t.Error("/micro/columns lists tr_total, which no event has")
		}
	})

	t.Run("columnStats", func(t *testing.T) {
		var got map[string]struct {
			Sortable   bool      `json:"sortable"`
			Filterable bool      `json:"filterable"`
			Values     *[]string `json:"values"`
		}
		callJSON(t, s, "POST", "/micro/columnStats", `{"columns":["app_id","collector_tstamp","contexts_com_snowplowanalytics_snowplow_ua_parser_context_1","event"]}`, &got)
		if a := got["app_id"]; !a.Sortable || !a.Filterable || a.Values == nil || !slices.Equal(*a.Values, []string{"a", "b"}) {
			t.Errorf("app_id stats = %+v", a)
		}
		if c := got["collector_tstamp"]; !c.Sortable || c.Filterable || c.Values != nil {
			t.Errorf("collector_tstamp stats = %+v", c)
		}
		if c := got["contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"]; c.Sortable || c.Filterable || c.Values != nil {
			t.Errorf("context column stats = %+v", c)
		}
		if e := got["event"]; e.Values == nil || !slices.Equal(*e.Values, []string{"page_view", "struct", "unstruct"}) {
			t.Errorf("event values = %v", e.Values)
		}
	})

	t.Run("timeline", func(t *testing.T) {
		body := fmt.Sprintf(`{"buckets":[{"start":%q,"end":%q},{"start":%q,"end":%q},{"start":%q,"end":%q}]}`,
			d.t0.Format(time.RFC3339Nano), d.t1.Format(time.RFC3339Nano),
			d.t1.Format(time.RFC3339Nano), d.t2.Format(time.RFC3339Nano),
			d.t2.Format(time.RFC3339Nano), d.t2.Add(time.Hour).Format(time.RFC3339Nano))
		var got struct {
			Points []struct {
				ValidEvents  int `json:"validEvents"`
				FailedEvents int `json:"failedEvents"`
			} `json:"points"`
		}
		callJSON(t, s, "POST", "/micro/timeline", body, &got)
		var counts [][2]int
		for _, p := range got.Points {
			counts = append(counts, [2]int{p.ValidEvents, p.FailedEvents})
		}
		if diff := cmp.Diff([][2]int{{3, 1}, {2, 1}, {0, 0}}, counts); diff != "" {
			t.Errorf("timeline [valid, failed] per bucket (-want +got):\n%s", diff)
		}
	})

	t.Run("gzip and auth-config", func(t *testing.T) {
		code, h, body := call(t, s, "GET", "/micro/good", "", "Accept-Encoding", "gzip, deflate")
		if code != 200 || h.Get("Content-Encoding") != "gzip" || !json.Valid(body) {
			t.Errorf("GET /micro/good with gzip = %d, Content-Encoding %q", code, h.Get("Content-Encoding"))
		}
		code, h, _ = call(t, s, "GET", "/micro/all", "")
		if code != 200 || h.Get("Content-Encoding") != "" {
			t.Errorf("GET /micro/all without Accept-Encoding: Content-Encoding %q", h.Get("Content-Encoding"))
		}
		code, _, body = call(t, s, "GET", "/micro/auth-config", "")
		if code != 200 || !bytes.Contains(body, []byte("false")) {
			t.Errorf("GET /micro/auth-config = %d %s", code, body)
		}
	})
}

func testMicroReset(t *testing.T, s *server) {
	var sum summary
	callJSON(t, s, "POST", "/micro/reset", `{"app_id":"b"}`, &sum)
	if sum != (summary{Total: 0, Good: 0, Bad: 0}) {
		t.Errorf("reset of app b answers %+v, want app b's summary after it: zero", sum)
	}
	callJSON(t, s, "GET", "/micro/all", "", &sum)
	if sum != (summary{Total: 4, Good: 3, Bad: 1}) {
		t.Errorf("/micro/all after resetting app b = %+v", sum)
	}
	callJSON(t, s, "POST", "/micro/reset", "", &sum)
	if sum != (summary{}) {
		t.Errorf("reset = %+v, want zeros", sum)
	}
	var p eventsPage
	callJSON(t, s, "POST", "/micro/events", `{"page":1,"pageSize":10}`, &p)
	if p.TotalItems != 0 {
		t.Errorf("/micro/events after reset = %d items", p.TotalItems)
	}
}

func TestMicroAPISQLite(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, nil)
	testMicroAPI(t, s)

	// A restart on the same data dir answers the same.
	answers := func() []string {
		var out []string
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/micro/all", ""}, {"GET", "/micro/good", ""}, {"GET", "/micro/bad", ""},
			{"POST", "/micro/events", `{"page":1,"pageSize":100}`}, {"GET", "/micro/columns", ""},
		} {
			_, _, body := call(t, s, r.method, r.path, r.body)
			out = append(out, string(body))
		}
		return out
	}
	before := answers()
	s.stop(t)
	s = startServe(t, dir, nil)
	if diff := cmp.Diff(before, answers()); diff != "" {
		t.Errorf("answers after a restart (-before +after):\n%s", diff)
	}
	testMicroReset(t, s)
}

func TestMicroAPIPostgres(t *testing.T) {
	cfgFile := postgresSink(t, "micro_api", nil).cfgFile
	s := startServe(t, t.TempDir(), nil, "--config", cfgFile)
	testMicroAPI(t, s)
	testMicroReset(t, s)
}

// TestMicroBrowserRawEvents sends what the browser tracker sends (internal/browserload)
// and checks that /micro/good gives each event's request back as sent: its parameters,
// cx and ue_px among them, exactly, and the headers, address and user agent. The event
// store keeps those requests referring to the rows' fields (contexts, page_url…), which
// the file's size shows.
func TestMicroBrowserRawEvents(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, nil)
	const requests = 3
	var gen browserload.Generator
	sent := map[string]map[string]string{} // parameters by eid
	headers := map[string][]string{}       // by eid
	for n := range uint64(requests) {
		body := gen.Body(n)
		var payload struct {
			Data []map[string]string `json:"data"`
		}
		if err := json.Unmarshal(body, &payload); err != nil {
			t.Fatal(err)
		}
		var hs []string
		req, err := http.NewRequest(http.MethodPost, s.base+browserload.Path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range browserload.Headers(n) {
			req.Header.Set(h[0], h[1])
			hs = append(hs, h[0]+": "+h[1])
		}
		for _, p := range payload.Data {
			sent[p["eid"]], headers[p["eid"]] = p, hs
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", n, resp.StatusCode)
		}
	}
	poll.UntilState(t, "every browser event in /micro/all", 20*time.Second, func() (bool, string) {
		var sum summary
		s.getJSON(t, "/micro/all", &sum)
		return sum.Good == len(sent) || sum.Bad > 0, fmt.Sprintf("%+v, want good=%d", sum, len(sent))
	})
	var good []struct {
		RawEvent struct {
			Parameters map[string]string `json:"parameters"`
			Context    struct {
				IPAddress string   `json:"ipAddress"`
				UserAgent string   `json:"useragent"`
				Headers   []string `json:"headers"`
				UserID    string   `json:"userId"`
			} `json:"context"`
		} `json:"rawEvent"`
	}
	s.getJSON(t, "/micro/good", &good)
	if len(good) != len(sent) {
		t.Fatalf("/micro/good has %d events, want %d", len(good), len(sent))
	}
	for _, g := range good {
		eid := g.RawEvent.Parameters["eid"]
		if diff := cmp.Diff(sent[eid], g.RawEvent.Parameters); diff != "" {
			t.Errorf("event %s: rawEvent.parameters (-sent +got):\n%s", eid, diff)
		}
		for _, h := range headers[eid] {
			if !slices.Contains(g.RawEvent.Context.Headers, h) {
				t.Errorf("event %s: rawEvent.context.headers = %q, want %q among them", eid, g.RawEvent.Context.Headers, h)
			}
		}
		if c := g.RawEvent.Context; c.IPAddress != "127.0.0.1" || !strings.HasPrefix(c.UserAgent, "Mozilla/5.0 (") || len(c.UserID) != 36 {
			t.Errorf("event %s: rawEvent.context ipAddress %q, useragent %q, userId %q", eid, c.IPAddress, c.UserAgent, c.UserID)
		}
	}
	s.stop(t)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "events.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// On its own, the compact form of these requests is 1.9 KB.
	if avg := countRows(t, db, "SELECT CAST(avg(length(CAST(raw_event AS BLOB))) AS INTEGER) FROM events"); avg > 700 {
		t.Errorf("raw_event values of %d bytes on average, want at most 700", avg)
	}
}
