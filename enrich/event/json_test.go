package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// indent returns b indented for readable golden files, failing on invalid JSON.
func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestEventJSONGolden(t *testing.T) {
	e := sampleEvent()
	tests := []struct {
		golden string
		fn     func([]byte) ([]byte, error)
	}{
		{"sample.sdk.json", e.AppendJSON},
		{"sample.micro.json", e.AppendMicroJSON},
		{"sample.full.json", e.AppendFullJSON},
		{"sample.partial.json", func(b []byte) ([]byte, error) { return e.AppendPartialJSON(b), nil }},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			prefix := []byte("prefix")
			got, err := tt.fn(prefix)
			if err != nil {
				t.Fatalf("%s: %v", tt.golden, err)
			}
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("%s did not append to dst", tt.golden)
			}
			golden(t, tt.golden, indent(t, got[len(prefix):]))
		})
	}
}

// decodeOrdered returns the keys of a JSON object in order and the object.
func decodeOrdered(t *testing.T, b []byte) ([]string, map[string]any) {
	t.Helper()
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
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
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != len(keys) {
		t.Errorf("object has %d keys but %d distinct ones", len(keys), len(m))
	}
	return keys, m
}

func TestAppendJSONShape(t *testing.T) {
	b, err := sampleEvent().AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, m := decodeOrdered(t, b)
	want := map[string]any{
		"txn_id":           float64(42),
		"se_value":         12.5,
		"tr_total":         float64(1000),
		"br_cookies":       false,
		"br_features_pdf":  true,
		"collector_tstamp": "2024-03-01T12:00:00.123Z",
		"refr_dvce_tstamp": "2024-03-01T11:58:00.000Z",
		"geo_location":     "37.751,-97.822",
		"user_id":          `jane "the tester" <j@acme.com>`,
		"contexts_com_acme_product_1": []any{
			map[string]any{"sku": "a"}, map[string]any{"sku": "b"},
		},
		"contexts_org_w3_performance_timing_1":                        []any{map[string]any{"navigationStart": float64(1), "z": float64(2)}},
		"contexts_com_acme_user_agent_2":                              []any{map[string]any{"from": "derived"}},
		"contexts_com_snowplowanalytics_snowplow_ua_parser_context_1": []any{map[string]any{"useragentFamily": "Firefox"}},
		"unstruct_event_com_snowplowanalytics_snowplow_link_click_1":  map[string]any{"targetUrl": "https://a.com", "elementClasses": []any{"x"}},
	}
	for k, v := range want {
		if diff := cmp.Diff(v, m[k]); diff != "" {
			t.Errorf("AppendJSON()[%q] mismatch (-want +got):\n%s", k, diff)
		}
	}
	for _, absent := range []string{"contexts", "unstruct_event", "derived_contexts", "true_tstamp", "geo_city", "refr_device_tstamp"} {
		if _, ok := m[absent]; ok {
			t.Errorf("AppendJSON() has key %q, want it left out", absent)
		}
	}

	// The full shape has exactly the field names, in order.
	fb, err := sampleEvent().AppendFullJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, fm := decodeOrdered(t, fb)
	var names []string
	for f := Field(0); f < NumFields; f++ {
		names = append(names, f.Name())
	}
	if diff := cmp.Diff(names, keys); diff != "" {
		t.Errorf("AppendFullJSON() keys mismatch (-want +got):\n%s", diff)
	}
	if fm["true_tstamp"] != nil || fm["unstruct_event"] == nil {
		t.Errorf("AppendFullJSON() true_tstamp = %v, unstruct_event = %v", fm["true_tstamp"], fm["unstruct_event"])
	}

	// Micro: exactly the fields (no flattened keys); empty JSON columns are {}.
	var e EnrichedEvent
	e.Set(EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	mb, err := e.AppendMicroJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, mm := decodeOrdered(t, mb)
	if len(mm) != NumFields {
		t.Errorf("AppendMicroJSON(empty event) has %d keys, want %d", len(mm), NumFields)
	}
	for _, f := range []string{"contexts", "derived_contexts", "unstruct_event"} {
		if diff := cmp.Diff(map[string]any{}, mm[f]); diff != "" {
			t.Errorf("AppendMicroJSON(empty event)[%s] mismatch (-want +got):\n%s", f, diff)
		}
	}
	// A TSV contexts envelope of any version comes out in the SDK's 1-0-0 envelope.
	e.Set(Contexts, `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"x":1}}]}`)
	mb, err = e.AppendMicroJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, mm = decodeOrdered(t, mb)
	wantCtx := map[string]any{"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
		"data": []any{map[string]any{"schema": "iglu:a/b/jsonschema/1-0-0", "data": map[string]any{"x": float64(1)}}}}
	if diff := cmp.Diff(wantCtx, mm["contexts"]); diff != "" {
		t.Errorf("AppendMicroJSON(contexts)[contexts] mismatch (-want +got):\n%s", diff)
	}
	if len(mm) != NumFields {
		t.Errorf("AppendMicroJSON(with contexts) has %d keys, want %d", len(mm), NumFields)
	}
	e.Set(Contexts, "")
	sb, _ := e.AppendJSON(nil)
	if string(sb) != `{"event_id":"c6ef3124-b53a-4b13-a233-0088f79dcbcb"}` {
		t.Errorf("AppendJSON(event_id only) = %s", sb)
	}
}

func TestAppendJSONNormalisesNumbers(t *testing.T) {
	tests := []struct {
		f    Field
		in   string
		want string
	}{
		{SeValue, "12.50", "12.50"},
		{SeValue, ".5", "0.5"},
		{SeValue, "+3", "3"},
		{SeValue, "1.", "1"},
		{TxnID, "+7", "7"},
		{TxnID, "007", "7"},
		{TxnID, "-2147483648", "-2147483648"},
		{GeoLatitude, "1.0E-5", "1.0E-5"},
	}
	for _, tt := range tests {
		var e EnrichedEvent
		e.Set(tt.f, tt.in)
		b, err := e.AppendJSON(nil)
		if err != nil {
			t.Errorf("AppendJSON(%s=%q) = %v", tt.f, tt.in, err)
			continue
		}
		want := `{"` + tt.f.Name() + `":` + tt.want + `}`
		if string(b) != want {
			t.Errorf("AppendJSON(%s=%q) = %s, want %s", tt.f, tt.in, b, want)
		}
	}
}

func TestAppendJSONInvalid(t *testing.T) {
	tests := []struct {
		f  Field
		in string
	}{
		{TxnID, "x"}, {BrCookies, "yes"}, {SeValue, "Infinity"}, {EtlTstamp, "yesterday"},
		{Contexts, "{"}, {Contexts, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":[1]}`},
		{DerivedContexts, `{"schema":"x","data":[]}`}, {UnstructEvent, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":[]}`},
	}
	for _, tt := range tests {
		var e EnrichedEvent
		e.Set(tt.f, tt.in)
		for name, fn := range map[string]func([]byte) ([]byte, error){"AppendJSON": e.AppendJSON, "AppendMicroJSON": e.AppendMicroJSON} {
			_, err := fn(nil)
			var rde *RowDecodingError
			if !errors.As(err, &rde) || rde.Errors[0].Key != tt.f.Name() {
				t.Errorf("%s(%s=%q) = %v, want a RowDecodingError for %s", name, tt.f, tt.in, err, tt.f)
			}
		}
	}
}

func TestAppendPartialJSON(t *testing.T) {
	var e EnrichedEvent
	e.Set(AppID, "a\tb")
	e.Set(TxnID, "42")
	e.Set(DocWidth, "12")
	e.Set(DvceIsMobile, "1")
	e.Set(GeoLatitude, "37.5")
	e.Set(GeoLongitude, "bad")
	e.Set(SeValue, "1.50")
	e.Set(PageURLPort, "x")
	e.Set(Contexts, `{"schema":"s","data":[]}`)
	keys, m := decodeOrdered(t, e.AppendPartialJSON(nil))
	if len(keys) != NumFields || keys[0] != "app_id" || keys[121] != "refr_dvce_tstamp" {
		t.Errorf("AppendPartialJSON() keys = %d (%v…)", len(keys), keys[:2])
	}
	want := map[string]any{
		"app_id": "a\tb", "txn_id": "42", "doc_width": float64(12), "dvce_ismobile": float64(1),
		"geo_latitude": 37.5, "geo_longitude": nil, "se_value": "1.50", "page_urlport": nil,
		"contexts": `{"schema":"s","data":[]}`, "platform": nil,
	}
	for k, v := range want {
		if diff := cmp.Diff(v, m[k]); diff != "" {
			t.Errorf("AppendPartialJSON()[%q] mismatch (-want +got):\n%s", k, diff)
		}
	}
}

func TestRawEventJSON(t *testing.T) {
	r := sampleRaw()
	b := r.AppendJSON(nil)
	golden(t, "raw.badrow.json", indent(t, b))
	golden(t, "raw.micro.json", indent(t, r.AppendMicroJSON(nil)))

	var back RawEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal(RawEvent JSON) = %v", err)
	}
	if diff := cmp.Diff(r, &back); diff != "" {
		t.Errorf("RawEvent JSON round trip mismatch (-want +got):\n%s", diff)
	}

	var empty RawEvent
	want := `{"vendor":"","version":"","parameters":[],"contentType":null,"loaderName":"","encoding":"","hostname":null,"timestamp":null,"ipAddress":null,"useragent":null,"refererUri":null,"headers":[],"userId":null}`
	if got := string(empty.AppendJSON(nil)); got != want {
		t.Errorf("RawEvent{}.AppendJSON() = %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(want), &back); err != nil {
		t.Errorf("json.Unmarshal(%s) = %v", want, err)
	}
	if v, ok := r.Param("aid"); !ok || v != "shop2" {
		t.Errorf("Param(aid) = %q, %v, want shop2, true", v, ok)
	}
	if v, ok := r.Param("flag"); !ok || v != "" {
		t.Errorf("Param(flag) = %q, %v, want \"\", true", v, ok)
	}
	if _, ok := r.Param("nope"); ok {
		t.Errorf("Param(nope) found")
	}
	if err := json.Unmarshal([]byte(`{"timestamp":"yesterday"}`), &back); err == nil {
		t.Errorf("json.Unmarshal(bad timestamp) = nil, want an error")
	}
}

func TestAppendParamsObject(t *testing.T) {
	ps := []NVP{NewNVP("a", "1"), NewNVP("b", "2"), {Name: "c"}, NewNVP("a", "3")}
	want := `{"a":"3","b":"2","c":null}`
	if got := string(AppendParamsObject(nil, ps)); got != want {
		t.Errorf("AppendParamsObject(%v) = %s, want %s", ps, got, want)
	}
	if got := string(AppendParamsObject(nil, nil)); got != "{}" {
		t.Errorf("AppendParamsObject(nil) = %s, want {}", got)
	}
}
