package enrich

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// schemaDir writes schemas (Iglu URI path vendor/name/jsonschema/M-R-A -> body) into a
// temporary static-layout folder.
func schemaDir(t testing.TB, schemas map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range schemas {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func selfDescSchema(vendor, name, version, body string) string {
	return `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",` +
		`"self":{"vendor":"` + vendor + `","name":"` + name + `","format":"jsonschema","version":"` + version + `"},` + body + `}`
}

var acmeSchemas = map[string]string{
	"com.acme/button/jsonschema/1-0-0":  selfDescSchema("com.acme", "button", "1-0-0", `"type":"object","properties":{"a":{"type":"string"},"b":{"type":["string","null"]}},"additionalProperties":false`),
	"com.acme/ctx/jsonschema/1-0-0":     selfDescSchema("com.acme", "ctx", "1-0-0", `"$supersededBy":"1-0-1","type":"object","properties":{"n":{"type":"integer"}}`),
	"com.acme/ctx/jsonschema/1-0-1":     selfDescSchema("com.acme", "ctx", "1-0-1", `"type":"object","properties":{"n":{"type":"integer"},"m":{"type":"string"}}`),
	"com.acme/derived/jsonschema/1-0-0": selfDescSchema("com.acme", "derived", "1-0-0", `"type":"object","properties":{"v":{"type":"string"}},"required":["v"]`),
}

func get(path string, q url.Values) request {
	return request{Method: "GET", Path: path, RawQuery: q.Encode(), Headers: [][2]string{{"Host", "c.test"}, {"User-Agent", "curl/8.0"}}}
}

func post(path, rawQuery, ct, body string) request {
	return request{Method: "POST", Path: path, RawQuery: rawQuery, Body: body,
		Headers: [][2]string{{"Host", "c.test"}, {"User-Agent", "curl/8.0"}, {"Content-Type", ct}}}
}

// one processes a request and returns its single good event, failing on anything else.
func one(t *testing.T, e *Enricher, r request) Good {
	t.Helper()
	res := process(t, e, encodePayload(t, collectorPayload(r)))
	for _, b := range res.Bad {
		t.Errorf("bad row %s: %s", b.Type, b.JSON)
	}
	if len(res.Good) != 1 {
		t.Fatalf("got %d good events, want 1", len(res.Good))
	}
	return res.Good[0]
}

func field(g Good, name string) string {
	f, _ := event.FieldByName(name)
	return g.Event.Fields[f]
}

func TestTrackerProtocolDetails(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), nil)
	base := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}}
	with := func(kv ...string) url.Values {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	tests := []struct {
		name string
		req  request
		want map[string]string
	}{
		{"ip param beats the collector ip", get("/i", with("ip", "1.2.3.4, 5.6.7.8")), map[string]string{"user_ipaddress": "1.2.3.4"}},
		{"x-forwarded-for beats the collector ip", func() request {
			r := get("/i", base)
			r.Headers = append(r.Headers, [2]string{"X-Forwarded-For", "9.8.7.6, 1.1.1.1"})
			return r
		}(), map[string]string{"user_ipaddress": "9.8.7.6"}},
		{"tnuid beats nuid beats the cookie", get("/i", with("nuid", "n1", "tnuid", "t1")), map[string]string{"network_userid": "t1"}},
		{"nuid beats the cookie", get("/i", with("nuid", "n1")), map[string]string{"network_userid": "n1"}},
		{"page url from the referer header", func() request {
			r := get("/i", base)
			r.Headers = append(r.Headers, [2]string{"Referer", "https://ref.test:8443/p?q=1#f"})
			return r
		}(), map[string]string{"page_url": "https://ref.test:8443/p?q=1#f", "page_urlhost": "ref.test", "page_urlport": "8443", "page_urlpath": "/p", "page_urlquery": "q=1", "page_urlfragment": "f", "page_urlscheme": "https"}},
		{"url param beats the referer", func() request {
			r := get("/i", with("url", "http://a.test/x y"))
			r.Headers = append(r.Headers, [2]string{"Referer", "https://ref.test/"})
			return r
		}(), map[string]string{"page_url": "http://a.test/x%20y", "page_urlpath": "/x%20y", "page_urlport": "80"}},
		{"lenient page url", get("/i", with("url", "http://a.test/a|b?c={d}")), map[string]string{"page_url": "http://a.test/a%7Cb?c=%7Bd%7D", "page_urlquery": "c=%7Bd%7D"}},
		{"host with underscore is registry-based", get("/i", with("url", "http://my_host.test/")), map[string]string{"page_urlhost": "", "page_urlport": "80"}},
		{"cross-navigation _sp", get("/i", with("url", "http://a.test/?_sp=abc-def.1426245561368")), map[string]string{"refr_domain_userid": "abc-def", "refr_dvce_tstamp": "2015-03-13 11:19:21.368"}},
		{"legacy aliases", get("/i", with("e", "ev", "ev_ca", "c", "ev_ac", "a", "ev_va", "1E+3", "ti_na", "n")), map[string]string{"event": "struct", "se_category": "c", "se_action": "a", "se_value": "1000", "ti_name": "n", "event_vendor": "com.google.analytics", "event_name": "event"}},
		{"cv overrides the collector name", get("/i", with("cv", "custom-1")), map[string]string{"v_collector": "custom-1"}},
		{"dims and bools", get("/i", with("res", "1920x1080", "vp", "800x600", "ds", "10x20", "cookie", "1", "f_pdf", "0")), map[string]string{"dvce_screenwidth": "1920", "dvce_screenheight": "1080", "br_viewwidth": "800", "br_viewheight": "600", "doc_width": "10", "doc_height": "20", "br_cookies": "1", "br_features_pdf": "0"}},
		{"tsv-safe strings", get("/i", with("page", "a\tb\nc")), map[string]string{"page_title": "a    bc"}},
		{"null literals", get("/i", with("vid", "null", "se_va", "NULL")), map[string]string{"domain_sessionidx": "", "se_value": ""}},
		{"true tstamp wins", get("/i", with("ttm", "1000", "dtm", "2000", "stm", "3000")), map[string]string{"derived_tstamp": "1970-01-01 00:00:01.000", "true_tstamp": "1970-01-01 00:00:01.000"}},
		{"transaction", get("/i", with("e", "tr", "tr_id", "o1", "tr_tt", "12.50", "tr_cu", "EUR")), map[string]string{"event": "transaction", "tr_orderid": "o1", "tr_total": "12.50", "tr_currency": "EUR", "event_name": "transaction"}},
		{"generated event id", get("/i", base), map[string]string{"event_id": "00000000-0000-4000-8000-000000000001"}},
		{"upper-case eid", get("/i", with("eid", "C6EF3124-B53A-4B13-A233-0088F79DCBCB")), map[string]string{"event_id": "c6ef3124-b53a-4b13-a233-0088f79dcbcb"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnricher(t, e.p.resolver, nil)
			g := one(t, e, tt.req)
			for k, want := range tt.want {
				if got := field(g, k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestPOSTQueryStringMerge(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), nil)
	body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t","aid":"body"},{"e":"se","p":"web","tv":"t","se_ca":"x"}]}`
	res := process(t, e, encodePayload(t, collectorPayload(post("/com.snowplowanalytics.snowplow/tp2", "aid=qs&cv=custom", "application/json", body))))
	if len(res.Good) != 2 || len(res.Bad) != 0 {
		t.Fatalf("got %d good, %d bad, want 2, 0: %v", len(res.Good), len(res.Bad), res.Bad)
	}
	for _, g := range res.Good {
		if got := field(g, "app_id"); got != "qs" {
			t.Errorf("app_id = %q, want %q", got, "qs")
		}
		if got := field(g, "v_collector"); got != "custom" {
			t.Errorf("v_collector = %q, want %q", got, "custom")
		}
	}
	// The raw event keeps the body's order, the query-string keys merged over it.
	var names []string
	for _, p := range res.Good[0].Raw.Parameters {
		names = append(names, p.Name)
	}
	if diff := cmp.Diff([]string{"e", "p", "tv", "aid", "cv"}, names); diff != "" {
		t.Errorf("raw parameters (-want +got):\n%s", diff)
	}
}

func TestSupersededContext(t *testing.T) {
	res := testResolver(t, schemaDir(t, acmeSchemas))
	e := newTestEnricher(t, res, nil)
	co := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/ctx/jsonschema/1-0-0","data":{"n":1, "z": "\u00e9\/"}}]}`
	g := one(t, e, get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "co": {co}}))
	if got, want := field(g, "contexts"), `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/ctx/jsonschema/1-0-1","data":{"n":1,"z":"é/"}}]}`; got != want {
		t.Errorf("contexts = %s, want %s", got, want)
	}
	if got, want := field(g, "derived_contexts"), `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0","data":{"originalSchema":"iglu:com.acme/ctx/jsonschema/1-0-0","validatedWith":"1-0-1"}}]}`; got != want {
		t.Errorf("derived_contexts = %s, want %s", got, want)
	}
}

func TestIgluWebhook(t *testing.T) {
	res := testResolver(t, schemaDir(t, acmeSchemas))
	const schema = "iglu:com.acme/button/jsonschema/1-0-0"
	ue := func(data string) string {
		return `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"` + schema + `","data":` + data + `}}`
	}
	tests := []struct {
		name     string
		req      request
		platform string
		data     []string
	}{
		{"GET", get("/com.snowplowanalytics.iglu/v1", url.Values{"schema": {schema}, "a": {"1"}, "b": {""}, "aid": {"app"}}), "app", []string{`{"a":"1","b":null}`}},
		{"POST JSON object", post("/com.snowplowanalytics.iglu/v1", "schema="+url.QueryEscape(schema)+"&p=mob", "application/json", `{"a":"x"}`), "mob", []string{`{"a":"x"}`}},
		{"POST JSON array", post("/com.snowplowanalytics.iglu/v1", "schema="+url.QueryEscape(schema), "application/json", `[{"a":"1"}, {"a":"2"}]`), "app", []string{`{"a":"1"}`, `{"a":"2"}`}},
		{"POST form", post("/com.snowplowanalytics.iglu/v1", "schema="+url.QueryEscape(schema), "application/x-www-form-urlencoded", `a=x+y&b=%C3%A9`), "srv", []string{`{"a":"x y","b":"é"}`}},
		{"POST self-describing", post("/com.snowplowanalytics.iglu/v1", "", "application/json", `{"schema":"`+schema+`","data":{"a":"z"}}`), "app", []string{`{"a":"z"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnricher(t, res, nil)
			r := process(t, e, encodePayload(t, collectorPayload(tt.req)))
			for _, b := range r.Bad {
				t.Errorf("bad row %s: %s", b.Type, b.JSON)
			}
			if len(r.Good) != len(tt.data) {
				t.Fatalf("got %d good events, want %d", len(r.Good), len(tt.data))
			}
			for i, g := range r.Good {
				if got, want := field(g, "unstruct_event"), ue(tt.data[i]); got != want {
					t.Errorf("unstruct_event = %s, want %s", got, want)
				}
				if got := field(g, "v_tracker"); got != "com.snowplowanalytics.iglu-v1" {
					t.Errorf("v_tracker = %q", got)
				}
				if got := field(g, "platform"); got != tt.platform {
					t.Errorf("platform = %q, want %q", got, tt.platform)
				}
				if got := field(g, "event_name"); got != "button" {
					t.Errorf("event_name = %q, want button", got)
				}
			}
		})
	}
}

func TestRedirect(t *testing.T) {
	res := testResolver(t, sharedDir(t, "iglu-central"))
	e := newTestEnricher(t, res, nil)
	g := one(t, e, get("/r/tp2", url.Values{"u": {"https://dest.test/x?a=1"}, "aid": {"app"}}))
	want := map[string]string{
		"event": "unstruct", "v_tracker": "r-tp2", "platform": "web", "app_id": "app", "event_name": "uri_redirect",
		"unstruct_event": `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0","data":{"uri":"https://dest.test/x?a=1"}}}`,
	}
	for k, v := range want {
		if got := field(g, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// With an event, the redirect becomes the first context.
	cx := jvm.EncodeBase64URL([]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b8d2f5e-4a1c-4c7e-9a55-100000000002"}}]}`))
	g = one(t, e, get("/r/tp2", url.Values{"u": {"https://dest.test/"}, "e": {"pv"}, "p": {"mob"}, "cx": {cx}}))
	if got, want := field(g, "contexts"), `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0","data":{"uri":"https://dest.test/"}},{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b8d2f5e-4a1c-4c7e-9a55-100000000002"}}]}`; got != want {
		t.Errorf("contexts = %s\nwant %s", got, want)
	}
	if got := field(g, "platform"); got != "mob" {
		t.Errorf("platform = %q, want mob", got)
	}
}

func TestSizeViolation(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), nil)
	e.p.maxRecord = 5000
	res := process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "url": {"http://a.test/?" + strings.Repeat("x", 4000)}}))))
	if len(res.Good) != 0 || len(res.Bad) != 1 || res.Bad[0].Type != "size_violation" {
		t.Fatalf("got %d good and %v, want one size_violation", len(res.Good), res.Bad)
	}
	if !strings.Contains(string(res.Bad[0].JSON), "event passed enrichment but then exceeded the maximum allowed size 5000 bytes") {
		t.Errorf("size_violation = %s", res.Bad[0].JSON)
	}
	// A bad row too big becomes a size_violation too.
	res = process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "dtm": {"x"}, "url": {"http://a.test/?" + strings.Repeat("x", 4000)}}))))
	if len(res.Bad) != 1 || res.Bad[0].Type != "size_violation" || !strings.Contains(string(res.Bad[0].JSON), "event failed enrichment, but resulting bad row exceeds allowed size 5000") {
		t.Fatalf("got %v, want one size_violation for the bad row", res.Bad)
	}
	if len(res.Bad[0].JSON) > 5000 {
		t.Errorf("size_violation of %d bytes does not fit", len(res.Bad[0].JSON))
	}
}

// fakeEnrichments returns a fixed result.
type fakeEnrichments struct {
	res enrichments.Result
	err error
	fn  func(ev *event.EnrichedEvent)
}

func (f *fakeEnrichments) Apply(_ context.Context, ev *event.EnrichedEvent, _ *event.RawEvent, _ []event.SelfDescribing, _ *event.SelfDescribing) (enrichments.Result, error) {
	if f.fn != nil {
		f.fn(ev)
	}
	return f.res, f.err
}

func TestEnrichmentsOutcome(t *testing.T) {
	res := testResolver(t, schemaDir(t, acmeSchemas))
	good := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}}
	badTs := url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "dtm": {"x"}}
	sd := func(schema, data string) event.SelfDescribing {
		return event.SelfDescribing{Schema: schema, Data: []byte(data)}
	}
	extra := &event.EnrichedEvent{}
	extra.Fields[event.EventID] = "00000000-0000-4000-8000-00000000abcd"
	// A side event has what every good event has (the PII enrichment's does).
	extra.Fields[event.CollectorTstamp] = "2026-11-22 02:08:00.000"
	extra.Fields[event.VCollector] = "c"
	extra.Fields[event.VEtl] = "e"
	tests := []struct {
		name      string
		fake      *fakeEnrichments
		q         url.Values
		wantGood  int
		wantBad   []string
		wantInBad string
		derived   string
	}{
		{"failure", &fakeEnrichments{res: enrichments.Result{Failures: []enrichments.Failure{{SchemaKey: "iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0", Identifier: "currency-conversion", Message: enrichments.InputData{Field: "tr_currency", Value: strPtr("XYZ"), Expectation: "Unknown currency 'XYZ'"}}}}},
			good, 0, []string{"enrichment_failures"}, `"identifier":"currency-conversion"`, ""},
		{"input violations win", &fakeEnrichments{res: enrichments.Result{Failures: []enrichments.Failure{{Message: enrichments.Simple{Error: "boom"}}}}},
			badTs, 0, []string{"schema_violations"}, `"path":"dtm"`, ""},
		{"drop", &fakeEnrichments{res: enrichments.Result{Drop: true}}, good, 0, nil, "", ""},
		{"valid derived", &fakeEnrichments{res: enrichments.Result{Derived: []event.SelfDescribing{sd("iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"1"}`)}}},
			good, 1, nil, "", `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":"1"}}]}`},
		{"invalid derived", &fakeEnrichments{res: enrichments.Result{Derived: []event.SelfDescribing{sd("iglu:com.acme/derived/jsonschema/1-0-0", `{}`)}}},
			good, 0, []string{"schema_violations"}, `"keyword":"required"`, ""},
		{"field made too long", &fakeEnrichments{fn: func(ev *event.EnrichedEvent) { ev.Fields[event.GeoCountry] = "XYZ" }},
			good, 0, []string{"schema_violations"}, `"path":"geo_country","keyword":"atomic_field_length_exceeded"`, ""},
		{"side event", &fakeEnrichments{res: enrichments.Result{Extra: []*event.EnrichedEvent{extra}}}, good, 2, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnricher(t, res, func(_ *Config, d *Deps) { d.Enrichments = tt.fake })
			r := process(t, e, encodePayload(t, collectorPayload(get("/i", tt.q))))
			var types []string
			for _, b := range r.Bad {
				types = append(types, b.Type)
				if !strings.Contains(string(b.JSON), tt.wantInBad) {
					t.Errorf("bad row lacks %s: %s", tt.wantInBad, b.JSON)
				}
			}
			if diff := cmp.Diff(tt.wantBad, types); diff != "" {
				t.Errorf("bad rows (-want +got):\n%s", diff)
			}
			if len(r.Good) != tt.wantGood {
				t.Fatalf("good = %d, want %d", len(r.Good), tt.wantGood)
			}
			if tt.derived != "" {
				if got := field(r.Good[0], "derived_contexts"); got != tt.derived {
					t.Errorf("derived_contexts = %s, want %s", got, tt.derived)
				}
			}
		})
	}

	e := newTestEnricher(t, res, func(_ *Config, d *Deps) { d.Enrichments = &fakeEnrichments{err: context.Canceled} })
	if _, err := e.Process(context.Background(), encodePayload(t, collectorPayload(get("/i", good)))); !errors.Is(err, context.Canceled) {
		t.Errorf("Process error = %v, want context.Canceled", err)
	}
}

func TestPartitionKey(t *testing.T) {
	res := testResolver(t)
	e := newTestEnricher(t, res, func(c *Config, _ *Deps) { c.PartitionKey = "user_id" })
	g := one(t, e, get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "uid": {"u-1"}}))
	if g.PartitionKey != "u-1" {
		t.Errorf("partition key = %q, want u-1", g.PartitionKey)
	}
	g = one(t, e, get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}}))
	if g.PartitionKey == "" || g.PartitionKey == field(g, "user_id") {
		t.Errorf("partition key = %q, want a random key", g.PartitionKey)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("DefaultConfig().Validate() = %v", err)
	}
	c := Config{Workers: -1, BatchSize: 0, PartitionKey: "contexts", MaxJSONDepth: 0, AtomicFieldsLimits: map[string]int{"app_id": 0, "nope": 3}}
	err := c.Validate()
	for _, want := range []string{"enrich.workers:", "enrich.batchSize:", "enrich.partitionKey:", "enrich.maxJsonDepth:", "enrich.atomicFieldsLimits.app_id:", "enrich.atomicFieldsLimits.nope:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
	if _, err := New(DefaultConfig(), Deps{}); err == nil || !strings.Contains(err.Error(), "resolver") || !strings.Contains(err.Error(), "version") {
		t.Errorf("New without deps = %v, want resolver and version errors", err)
	}
}

func TestAtomicFieldsLimits(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), func(c *Config, _ *Deps) { c.AtomicFieldsLimits = map[string]int{"app_id": 3} })
	r := process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "aid": {"abcd"}}))))
	if len(r.Bad) != 1 || !strings.Contains(string(r.Bad[0].JSON), "Field is longer than maximum allowed size 3") {
		t.Fatalf("got %v, want an atomic length violation", r.Bad)
	}
	e = newTestEnricher(t, testResolver(t), func(c *Config, _ *Deps) { c.AtomicFieldsLimits = map[string]int{"app_id": 3}; c.AcceptInvalid = true })
	one(t, e, get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "aid": {"abcd"}}))
}

// The production collaborators satisfy the interfaces enrich consumes.
var (
	_ Resolver     = (*iglu.Resolver)(nil)
	_ schemaLookup = (*iglu.Resolver)(nil) // else verdicts are never remembered
	_ Enrichments  = (*enrichments.Set)(nil)
)

// TestPagesOfABatch checks that each event of a record gets its own page and referrer
// URL parts when several events share URLs (each URL is read once per record) and one
// URL cannot be read.
func TestPagesOfABatch(t *testing.T) {
	e := newTestEnricher(t, testResolver(t), nil)
	ev := func(url, refr string) string {
		return `{"e":"pv","p":"web","tv":"t","url":"` + url + `","refr":"` + refr + `"}`
	}
	body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` +
		ev("https://a.test/one?x=1", "https://r.test/") + "," + ev("https://a.test/two#f", "https://a.test/one?x=1") + "," +
		ev("https://a.test/one?x=1", "https://r.test/") + "," + ev("http://[x/", "https://r.test/") + "," +
		ev("https://a.test/two#f", "https://r.test/") + `]}`
	res := process(t, e, encodePayload(t, collectorPayload(post("/com.snowplowanalytics.snowplow/tp2", "", "application/json", body))))
	var got []string
	for _, g := range res.Good {
		got = append(got, strings.Join([]string{field(g, "page_urlhost"), field(g, "page_urlport"), field(g, "page_urlpath"), field(g, "page_urlquery"), field(g, "page_urlfragment"), field(g, "refr_urlhost"), field(g, "refr_urlpath"), field(g, "refr_urlquery")}, " "))
	}
	want := []string{
		"a.test 443 /one x=1  r.test / ",
		"a.test 443 /two  f a.test /one x=1",
		"a.test 443 /one x=1  r.test / ",
		"a.test 443 /two  f r.test / ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("page and referrer parts (-want +got):\n%s", diff)
	}
	if len(res.Bad) != 1 || !strings.Contains(string(res.Bad[0].JSON), `could not be parsed`) {
		t.Errorf("bad rows %v, want one enrichment failure for the URL that cannot be read", res.Bad)
	}
}

// TestValidateDerivedOnce holds the record's memory of valid derived contexts to
// validateDerived: a context differing from a remembered one in its schema or a byte of
// its data is validated again.
func TestValidateDerivedOnce(t *testing.T) {
	p := newTestEnricher(t, testResolver(t, schemaDir(t, acmeSchemas)), nil).p
	ctx := context.Background()
	var memo inputMemo
	for _, c := range []struct{ schema, data string }{
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"1"}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"1"}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":1}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"2"}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"w":"1"}`},
		{"iglu:com.acme/button/jsonschema/1-0-0", `{"v":"1"}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"3"}`},
		{"iglu:com.acme/derived/jsonschema/1-0-0", `{"v":"1"}`},
	} {
		d := event.SelfDescribing{Schema: c.schema, Data: []byte(c.data)}
		got, err := p.validateDerivedOnce(ctx, &memo, d)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := p.validateDerived(ctx, d)
		if (got == nil) != (want == nil) {
			t.Errorf("validateDerivedOnce(%s %s) = %v, validateDerived says %v", c.schema, c.data, got, want)
		}
	}
}
