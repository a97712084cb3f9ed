package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// goodEvent as the Micro API answers it, for assertions.
type goodJSON struct {
	RawEvent struct {
		API struct {
			Vendor  string `json:"vendor"`
			Version string `json:"version"`
		} `json:"api"`
		Parameters map[string]*string `json:"parameters"`
	} `json:"rawEvent"`
	EventType  *string        `json:"eventType"`
	Schema     *string        `json:"schema"`
	Contexts   []string       `json:"contexts"`
	Event      map[string]any `json:"event"`
	Incomplete bool           `json:"incomplete"`
}

func eventIDs(events []goodJSON) []string {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i], _ = e.Event["event_id"].(string)
	}
	return ids
}

func TestGoodEventsShape(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	for _, name := range []string{"page_view", "struct", "link_click"} {
		ts.ObserveGood(fx[name].raw, fx[name].ev)
	}
	res := ts.do(t, http.MethodGet, "/micro/good", "")
	if res.status != http.StatusOK {
		t.Fatalf("GET /micro/good = %d %s, want 200", res.status, res.body)
	}
	goldenJSON(t, "good.golden.json", res.body)

	var raw []json.RawMessage
	if err := json.Unmarshal(res.body, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw) != 3 {
		t.Fatalf("GET /micro/good returned %d events, want 3", len(raw))
	}
	// Micro's GoodEvent and RawEvent keys, in Micro's order.
	if diff := cmp.Diff([]string{"rawEvent", "eventType", "schema", "contexts", "event", "incomplete"}, objectKeys(t, raw[0])); diff != "" {
		t.Errorf("GoodEvent keys (-want +got):\n%s", diff)
	}
	var first struct {
		RawEvent json.RawMessage `json:"rawEvent"`
		Event    json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(raw[0], &first); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"api", "parameters", "contentType", "source", "context"}, objectKeys(t, first.RawEvent)); diff != "" {
		t.Errorf("RawEvent keys (-want +got):\n%s", diff)
	}
	// Exactly the 131 fields are the keys of event (null when empty), in field order,
	// as the Scala analytics SDK writes them for Micro.
	keys := objectKeys(t, first.Event)
	var want []string
	for f := event.Field(0); f < event.NumFields; f++ {
		want = append(want, f.Name())
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("event keys (-want +got):\n%s", diff)
	}

	// What test suites read, newest first: the link click sent last comes first.
	var got []struct {
		goodJSON
		Event struct {
			EventID       string `json:"event_id"`
			AppID         string `json:"app_id"`
			UserID        *string
			UnstructEvent struct {
				Schema string `json:"schema"`
				Data   struct {
					Schema string         `json:"schema"`
					Data   map[string]any `json:"data"`
				} `json:"data"`
			} `json:"unstruct_event"`
			Contexts struct {
				Schema string `json:"schema"`
				Data   []struct {
					Schema string `json:"schema"`
				} `json:"data"`
			} `json:"contexts"`
			DerivedContexts map[string]any `json:"derived_contexts"`
			UserFP          any            `json:"user_fingerprint"`
		} `json:"event"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	lc := got[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"eventType", *lc.EventType, "unstruct"},
		{"schema", *lc.Schema, "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"},
		{"contexts", lc.Contexts, []string{
			"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
			"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
		}},
		{"incomplete", lc.Incomplete, false},
		{"rawEvent.api", lc.RawEvent.API.Vendor + "/" + lc.RawEvent.API.Version, "com.snowplowanalytics.snowplow/tp2"},
		{"rawEvent.parameters.e", *lc.RawEvent.Parameters["e"], "ue"},
		{"rawEvent.parameters.aid", *lc.RawEvent.Parameters["aid"], "snowplow-mini-peer"},
		{"event.event_id", lc.Event.EventID, "de07c9f6-7ebf-45f6-9e28-b1eca3b33f96"},
		{"event.unstruct_event.data.schema", lc.Event.UnstructEvent.Data.Schema, "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"},
		{"event.unstruct_event.data.data.elementId", lc.Event.UnstructEvent.Data.Data["elementId"], "buy-button"},
		{"event.contexts.data[0].schema", lc.Event.Contexts.Data[0].Schema, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"},
		{"event.unstruct_event.schema", lc.Event.UnstructEvent.Schema, "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"},
		{"event.contexts.schema", lc.Event.Contexts.Schema, "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"},
		{"page_view event.unstruct_event", got[2].Event.UnstructEvent.Schema, ""},
		{"event.user_fingerprint", lc.Event.UserFP, nil},
		{"page_view schema", *got[2].Schema, "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"},
		{"page_view contexts", got[2].Contexts, []string{}},
		{"struct eventType", *got[1].EventType, "struct"},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.what, diff)
		}
	}
}

func TestObserveGoodWithoutRawEvent(t *testing.T) {
	fx := loadFixtures(t)["page_view"]
	ts := newTestServer(t, nil)
	ts.ObserveGood(nil, fx.ev)
	var got []map[string]json.RawMessage
	ts.doJSON(t, http.MethodGet, "/micro/good", "", &got)
	if string(got[0]["rawEvent"]) != "null" {
		t.Errorf("rawEvent = %s, want null", got[0]["rawEvent"])
	}
}

// observeMix stores, oldest first: page views, link clicks and struct events of apps a
// and b, and returns their event ids in the order stored.
func observeMix(t *testing.T, ts *testServer) []string {
	t.Helper()
	fx := loadFixtures(t)
	var ids []string
	for i := range 6 {
		app := "a"
		if i%2 == 1 {
			app = "b"
		}
		for _, name := range []string{"page_view", "link_click", "struct"} {
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", len(ids))
			v := fx[name].variant(map[event.Field]string{event.EventID: id, event.AppID: app})
			ts.ObserveGood(v.raw, v.ev)
			ids = append(ids, id)
		}
	}
	return ids
}

func TestGoodFilters(t *testing.T) {
	ts := newTestServer(t, nil)
	ids := observeMix(t, ts) // 18 events: i*3 + {0 page_view, 1 link_click, 2 struct}, app a for even i
	pick := func(idx ...int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, ids[i])
		}
		return out
	}
	tests := []struct {
		name   string
		method string
		target string
		body   string
		want   []string
	}{
		{"all newest first", "GET", "/micro/good", "", pick(17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"negative limit answers nothing", "POST", "/micro/good", `{"limit":-1}`, nil},
		{"empty JSON object", "POST", "/micro/good", "{}", pick(17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"event_type", "POST", "/micro/good", `{"event_type":"page_view"}`, pick(15, 12, 9, 6, 3, 0)},
		{"event_type is the enriched name, not e", "POST", "/micro/good", `{"event_type":"pv"}`, nil},
		{"schema", "POST", "/micro/good", `{"schema":"iglu:com.google.analytics/event/jsonschema/1-0-0"}`, pick(17, 14, 11, 8, 5, 2)},
		{"contexts all present", "POST", "/micro/good", `{"contexts":["iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]}`, pick(16, 13, 10, 7, 4, 1)},
		{"contexts one missing", "POST", "/micro/good", `{"contexts":["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","iglu:com.acme/other/jsonschema/1-0-0"]}`, nil},
		{"derived contexts do not count", "POST", "/micro/good", `{"contexts":["iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"]}`, nil},
		{"limit", "POST", "/micro/good", `{"limit":4}`, pick(17, 16, 15, 14)},
		{"limit zero", "POST", "/micro/good", `{"limit":0}`, nil},
		{"filters ANDed with limit", "POST", "/micro/good", `{"event_type":"unstruct","schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","limit":2}`, pick(16, 13)},
		{"nulls are no filter", "POST", "/micro/good", `{"event_type":null,"schema":null,"contexts":null,"limit":null,"app_id":null}`, pick(17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"unknown keys ignored", "POST", "/micro/good", `{"event_type":"struct","whatever":[1]}`, pick(17, 14, 11, 8, 5, 2)},
		{"app_id body", "POST", "/micro/good", `{"app_id":"b","event_type":"struct"}`, pick(17, 11, 5)},
		{"app_id query", "GET", "/micro/good?app_id=a&limit=2", "", pick(14, 13)},
		{"query filters on GET", "GET", "/micro/good?event_type=unstruct&contexts=iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0&app_id=b", "", pick(16, 10, 4)},
		{"body over query", "POST", "/micro/good?app_id=a", `{"app_id":"b","limit":1}`, pick(17)},
		{"unknown app", "GET", "/micro/good?app_id=c", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []goodJSON
			ts.doJSON(t, tt.method, tt.target, tt.body, &got)
			if diff := cmp.Diff(tt.want, eventIDs(got), cmpNilEmpty); diff != "" {
				t.Errorf("%s %s %s: event ids (-want +got):\n%s", tt.method, tt.target, tt.body, diff)
			}
		})
	}
}

// cmpNilEmpty treats a nil and an empty slice alike.
var cmpNilEmpty = cmp.FilterValues(func(a, b []string) bool { return len(a) == 0 && len(b) == 0 }, cmp.Comparer(func(a, b []string) bool { return true }))

func TestAnswersAreArraysEvenWhenEmpty(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, target := range []string{"/micro/good", "/micro/bad"} {
		res := ts.do(t, http.MethodGet, target, "")
		if string(res.body) != "[]" {
			t.Errorf("GET %s on an empty store = %s, want []", target, res.body)
		}
	}
}

func TestAllAndReset(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	observeMix(t, ts) // 9 good of app a, 9 of app b
	ts.addBad(t,
		schemaViolation(t, fx["link_click"], "a"),
		schemaViolation(t, fx["link_click"], "b"),
		trackerProtocolViolation(t, "com.snowplowanalytics.snowplow", "tp2", "a"),
		formatViolation(t), // belongs to no app
	)
	type summary struct{ Total, Good, Bad int }
	get := func(method, target, body string) summary {
		t.Helper()
		var s summary
		ts.doJSON(t, method, target, body, &s)
		return s
	}
	steps := []struct {
		name           string
		method, target string
		body           string
		want           summary
	}{
		{"all GET", "GET", "/micro/all", "", summary{22, 18, 4}},
		{"all POST", "POST", "/micro/all", "", summary{22, 18, 4}},
		{"all of app a (query)", "GET", "/micro/all?app_id=a", "", summary{11, 9, 2}},
		{"all of app b (body)", "POST", "/micro/all", `{"app_id":"b"}`, summary{10, 9, 1}},
		{"reset app a answers its empty scope", "POST", "/micro/reset", `{"app_id":"a"}`, summary{0, 0, 0}},
		{"app a is gone", "GET", "/micro/all?app_id=a", "", summary{0, 0, 0}},
		{"app b is untouched", "GET", "/micro/all?app_id=b", "", summary{10, 9, 1}},
		{"the rest is untouched", "GET", "/micro/all", "", summary{11, 9, 2}},
		{"reset with the query", "POST", "/micro/reset?app_id=b", "", summary{0, 0, 0}},
		{"only the app-less bad event is left", "GET", "/micro/all", "", summary{1, 0, 1}},
		{"global reset", "POST", "/micro/reset", "", summary{0, 0, 0}},
		{"empty", "POST", "/micro/all", "{}", summary{0, 0, 0}},
	}
	for _, st := range steps {
		if got := get(st.method, st.target, st.body); got != st.want {
			t.Errorf("%s: %s %s %s = %+v, want %+v", st.name, st.method, st.target, st.body, got, st.want)
		}
	}
	// Events stored after a reset are listed as usual.
	ts.ObserveGood(fx["struct"].raw, fx["struct"].ev)
	if got := get("GET", "/micro/all", ""); got != (summary{1, 1, 0}) {
		t.Errorf("after reset and one event: %+v, want {1 1 0}", got)
	}
}

func TestAllAnswersMicroSummaryExactly(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, target := range []string{"/micro/all", "/micro/reset"} {
		res := ts.do(t, http.MethodPost, target, "")
		if string(res.body) != `{"total":0,"good":0,"bad":0}` {
			t.Errorf("POST %s = %s, want {\"total\":0,\"good\":0,\"bad\":0}", target, res.body)
		}
	}
}

// TestBadRequests checks Micro's answers to bodies it cannot use: 400 for what is not
// JSON (or no body where one is needed), 422 for JSON of the wrong shape.
func TestBadRequests(t *testing.T) {
	ts := newTestServer(t, nil)
	tests := []struct {
		method, target, body string
		wantStatus           int
		wantMsg              string
	}{
		{"POST", "/micro/good", `{"event_type":`, 400, malformedBody},
		{"POST", "/micro/good", `not json`, 400, malformedBody},
		{"POST", "/micro/good", ``, 400, malformedBody},
		{"POST", "/micro/good", `{} {}`, 400, malformedBody},
		{"POST", "/micro/good", `{"event_type":5}`, 422, invalidBody},
		{"POST", "/micro/good", `{"limit":"3"}`, 422, "limit"},
		{"POST", "/micro/good", `{"contexts":"iglu:a/b/jsonschema/1-0-0"}`, 422, "contexts"},
		{"POST", "/micro/good", `[]`, 422, invalidBody},
		{"GET", "/micro/good?limit=ten", "", 400, `limit: "ten" is not an integer`},
		{"POST", "/micro/bad", `{"vendor":1}`, 422, "vendor"},
		{"POST", "/micro/bad", `{"limit":1.5}`, 422, "limit"},
		{"POST", "/micro/bad", ``, 400, malformedBody},
		{"POST", "/micro/all", `{"app_id":["a"]}`, 422, "app_id"},
		{"POST", "/micro/reset", `{"app_id":`, 400, malformedBody},
		{"POST", "/micro/good", `{"event_type":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, "larger than"},
		{"POST", "/micro/events", `{"page":1}`, 422, "pageSize"},
		{"POST", "/micro/events", `{"page":0,"pageSize":10}`, 422, "page"},
		{"POST", "/micro/events", `{"page":1,"pageSize":1001}`, 422, "pageSize"},
		{"POST", "/micro/events", `{"page":1,"pageSize":10,"filters":[{"column":"app_id","values":[1]}]}`, 422, invalidBody},
		{"POST", "/micro/events", `{"page":1,"pageSize":10,"timeRange":{"start":"yesterday"}}`, 422, invalidBody},
		{"POST", "/micro/events", `{"page":`, 400, malformedBody},
		{"POST", "/micro/columnStats", `{}`, 422, "columns"},
		{"POST", "/micro/timeline", `{"buckets":[{"start":"2026-01-01T00:00:00Z"}]}`, 422, "start and end"},
		{"POST", "/micro/timeline", `nope`, 400, malformedBody},
	}
	for _, tt := range tests {
		name := tt.method + " " + tt.target + " " + tt.body
		if len(name) > 80 {
			name = name[:80]
		}
		t.Run(name, func(t *testing.T) {
			res := ts.do(t, tt.method, tt.target, tt.body)
			if res.status != tt.wantStatus || !strings.Contains(string(res.body), tt.wantMsg) {
				t.Errorf("%s %s = %d %q, want %d mentioning %q", tt.method, tt.target, res.status, res.body, tt.wantStatus, tt.wantMsg)
			}
		})
	}
}

func TestUnknownMicroPaths(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, tt := range []struct{ method, target string }{
		{"GET", "/micro/events"},
		{"GET", "/micro/good/extra"},
		{"DELETE", "/micro/good"},
		{"PUT", "/micro/reset"},
		{"POST", "/micro/iglu/com.acme/x/jsonschema/1-0-0"},
		{"GET", "/micro/iglu/com.acme/x/avro/1-0-0"},
	} {
		res := ts.do(t, tt.method, tt.target, "")
		if res.status != http.StatusNotFound || !strings.HasPrefix(string(res.body), "Supported endpoints: /micro/all, /micro/good") {
			t.Errorf("%s %s = %d %q, want 404 listing the endpoints", tt.method, tt.target, res.status, res.body)
		}
	}
}

func TestCORS(t *testing.T) {
	ts := newTestServer(t, nil)
	const origin = "http://localhost:3000"

	pre := ts.do(t, http.MethodOptions, "/micro/good", "",
		"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, x-test")
	wantPre := map[string]string{
		"Access-Control-Allow-Origin":      origin,
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, POST, OPTIONS",
		"Access-Control-Allow-Headers":     "content-type, x-test",
		"Access-Control-Max-Age":           "3600",
	}
	if pre.status != http.StatusOK {
		t.Errorf("preflight = %d, want 200", pre.status)
	}
	for k, v := range wantPre {
		if got := pre.header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}

	for _, target := range []string{"/micro/good", "/micro/all", "/micro/nothing-here"} {
		res := ts.do(t, http.MethodGet, target, "", "Origin", origin)
		if got := res.header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("GET %s Access-Control-Allow-Origin = %q, want %q", target, got, origin)
		}
		if got := res.header.Get("Access-Control-Allow-Credentials"); got != "true" {
			t.Errorf("GET %s Access-Control-Allow-Credentials = %q, want true", target, got)
		}
		if got := res.header.Get("Vary"); got != "Origin" {
			t.Errorf("GET %s Vary = %q, want Origin", target, got)
		}
	}
	if res := ts.do(t, http.MethodGet, "/micro/all", ""); res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET without Origin got Access-Control-Allow-Origin %q, want none", res.header.Get("Access-Control-Allow-Origin"))
	}
}
