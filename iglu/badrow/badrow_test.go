package badrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	failedAt    = time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC)
	enrichProc  = Processor{Artifact: "snowplow-mini-enrich", Version: "0.1.0"}
	loaderProc  = Processor{Artifact: "snowplow-mini-loader", Version: "0.1.0"}
	collectProc = Processor{Artifact: "snowplow-mini-collector", Version: "0.1.0"}
)

// sampleCollectorPayload is the bad-row payload of a request to /com.acme/v9?a=1&b.
func sampleCollectorPayload() CollectorPayload {
	return CollectorPayload{
		Vendor:        "com.acme",
		Version:       "v9",
		Querystring:   []event.NVP{event.NewNVP("a", "1"), {Name: "b"}},
		IPAddress:     "1.2.3.4",
		Timestamp:     time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		Encoding:      "UTF-8",
		Collector:     "snowplow-mini-collector-0.1.0",
		UserAgent:     "curl/8.0",
		Body:          "{}",
		Headers:       []string{"Host: collector.acme.com", "Content-Type: application/json"},
		ContentType:   "application/json",
		Hostname:      "collector.acme.com",
		NetworkUserID: "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
	}
}

func sampleEnriched() *event.EnrichedEvent {
	var e event.EnrichedEvent
	e.Set(event.AppID, "shop")
	e.Set(event.Platform, "web")
	e.Set(event.EtlTstamp, "2024-03-01 12:00:01.000")
	e.Set(event.CollectorTstamp, "2024-03-01 12:00:00.000")
	e.Set(event.Event, "unstruct")
	e.Set(event.EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	e.Set(event.TxnID, "17")
	e.Set(event.VCollector, "snowplow-mini-collector-0.1.0")
	e.Set(event.VEtl, "snowplow-mini-enrich-0.1.0")
	e.Set(event.DomainSessionIdx, "2")
	e.Set(event.GeoLatitude, "37.751")
	e.Set(event.SeValue, "1.50")
	e.Set(event.BrCookies, "1")
	e.Set(event.DocWidth, "900")
	e.Set(event.Contexts, `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"5cea9899-10df-4ccf-bf66-8c36f4a4bba2"}}]}`)
	e.Set(event.UnstructEvent, `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button_press/jsonschema/1-0-0","data":{"id":1}}}`)
	return &e
}

func sampleRaw() *event.RawEvent {
	return &event.RawEvent{
		Vendor:      "com.snowplowanalytics.snowplow",
		Version:     "tp2",
		Parameters:  []event.NVP{event.NewNVP("e", "ue"), event.NewNVP("ue_pr", `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button_press/jsonschema/1-0-0","data":{"id":1}}}`), {Name: "novalue"}},
		ContentType: "application/json",
		LoaderName:  "snowplow-mini-collector-0.1.0",
		Encoding:    "UTF-8",
		Hostname:    "c.acme.com",
		Timestamp:   time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		IPAddress:   "1.2.3.4",
		UserAgent:   "Mozilla/5.0",
		Headers:     []string{},
		UserID:      "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
	}
}

var validationError = json.RawMessage(`{"error":"ValidationError","dataReports":[{"message":"$.id: integer found, string expected","path":"$.id","keyword":"type","targets":["integer","string"]}]}`)

var resolutionError = json.RawMessage(`{"error":"ResolutionError","lookupHistory":[{"repository":"Iglu Central","errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2024-03-01T12:00:01.000Z"}]}`)

// sampleRows returns one bad row of every type (two for some), keyed by golden file name.
func sampleRows(t testing.TB) map[string]Row {
	t.Helper()
	cp := sampleCollectorPayload()
	tpPayload := CollectorPayload{
		Vendor: "com.snowplowanalytics.snowplow", Version: "tp2",
		Timestamp: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), Encoding: "UTF-8",
		Collector: "snowplow-mini-collector-0.1.0", Body: "{…}", ContentType: "text/plain", Hostname: "c.acme.com", IPAddress: "1.2.3.4",
	}
	full, err := sampleEnriched().AppendFullJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	ep := NewEnrichmentPayload(sampleEnriched(), sampleRaw())
	tsv := string(sampleEnriched().AppendTSV(nil))
	return map[string]Row{
		"size_violation": &SizeViolation{
			Processor: collectProc, Timestamp: failedAt, MaximumAllowedSizeBytes: 1048576, ActualSizeBytes: 1300000,
			Expectation: "oversized collector payload: Payload exceeds max size of 1048576. Actual length: 1300000",
			Payload:     TruncatePayload("CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, ipAddress:1.2.3.4)", 300),
		},
		"collector_payload_format_violation": &CollectorPayloadFormatViolation{
			Processor: enrichProc, Timestamp: failedAt, Loader: LoaderThrift,
			Message: CPFormatError{Error: "error deserializing raw event: Reached end of bytes when parsing as thrift format"},
			Payload: []byte{0x0b, 0x00, 0x64, 0xff},
		},
		"collector_payload_format_violation_input": &CollectorPayloadFormatViolation{
			Processor: enrichProc, Timestamp: failedAt, Loader: LoaderThrift,
			Message: CPFormatInputData{PayloadField: "path", Value: Str("/x"), Expectation: "path must have the form /vendor/version"},
			Payload: []byte("raw"),
		},
		"adapter_failures": &AdapterFailures{
			Processor: enrichProc, Timestamp: failedAt, Vendor: "com.acme", Version: "v9",
			Messages: []Message{
				InputData{Field: "vendor/version", Value: Str("com.acme/v9"), Expectation: "vendor/version combination is not supported"},
				NotJSON{Field: "body", Value: nil, Error: "unexpected end of input"},
				NotIglu{JSON: json.RawMessage(`{"x": 1}`), Error: InvalidIgluURI},
				SchemaMapping{Actual: Str("order.paid"), ExpectedMapping: []MappingEntry{{"order.created", "iglu:com.acme/order_created/jsonschema/1-0-0"}}, Expectation: "no schema for event type"},
			},
			Payload: cp,
		},
		"tracker_protocol_violations": &TrackerProtocolViolations{
			Processor: enrichProc, Timestamp: failedAt, Vendor: "com.snowplowanalytics.snowplow", Version: "tp2",
			Messages: []Message{
				InputData{Field: "contentType", Value: Str("text/plain"), Expectation: "expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8"},
				CriterionMismatch{SchemaKey: "iglu:com.acme/x/jsonschema/1-0-0", SchemaCriterion: "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-*-*"},
				IgluError{SchemaKey: "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", Error: validationError},
			},
			Payload: tpPayload,
		},
		"schema_violations": &SchemaViolations{
			Processor: enrichProc, Timestamp: failedAt,
			Messages: []Message{
				IgluError{SchemaKey: "iglu:com.acme/button_press/jsonschema/1-0-0", Error: validationError},
				IgluError{SchemaKey: "iglu:com.acme/missing/jsonschema/1-0-0", Error: resolutionError},
				IgluError{SchemaKey: "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0", Error: json.RawMessage(`{"error":"ValidationError","dataReports":[{"message":"Not in the expected format: ms since epoch","path":"dtm","keyword":"atomic_field_parse_error","targets":[]}]}`)},
				NotJSON{Field: "ue_pr", Value: Str("{"), Error: "unexpected end of input"},
				NotIglu{JSON: json.RawMessage(`{"data":{}}`), Error: InvalidSchema},
			},
			Payload: ep,
		},
		"enrichment_failures": &EnrichmentFailures{
			Processor: enrichProc, Timestamp: failedAt,
			Messages: []EnrichmentFailure{
				{Enrichment: &EnrichmentInfo{SchemaKey: "iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0", Identifier: "currency-conversion"},
					Message: InputData{Field: "tr_currency", Value: Str("XYZ"), Expectation: "Unknown currency 'XYZ'"}},
				{Enrichment: nil, Message: EnrichmentError{Error: "v_collector should be set"}},
				{Enrichment: &EnrichmentInfo{SchemaKey: "iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-0", Identifier: "api-request"},
					Message: IgluError{SchemaKey: "iglu:com.acme/out/jsonschema/1-0-0", Error: validationError}},
			},
			Payload: ep,
		},
		"loader_parsing_error": &LoaderParsingError{
			Processor: loaderProc, Error: &event.FieldNumberMismatch{FieldCount: 130},
			Payload: "shop\tweb",
		},
		"loader_parsing_error_row_decoding": &LoaderParsingError{
			Processor: loaderProc,
			Error: &event.RowDecodingError{Errors: []event.InvalidValue{
				{Key: "txn_id", Value: "x", Message: "Cannot parse key txn_id with value x into integer"}}},
			Payload: tsv,
		},
		"loader_iglu_error": &LoaderIgluError{
			Processor: loaderProc,
			Errors:    []Message{IgluError{SchemaKey: "iglu:com.acme/x/jsonschema/1-0-0", Error: resolutionError}},
			Payload:   full,
		},
		"loader_runtime_error": &LoaderRuntimeError{
			Processor: loaderProc, Error: `ERROR: relation "atomic.events" does not exist`, Payload: full,
		},
		"generic_error": &GenericError{
			Processor: Processor{Artifact: "snowplow-mini", Version: "0.1.0"}, Timestamp: failedAt,
			Errors: []string{"something went wrong"}, Payload: "<original input>",
		},
	}
}

func sortedNames(rows map[string]Row) []string {
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestGolden(t *testing.T) {
	rows := sampleRows(t)
	for _, name := range sortedNames(rows) {
		t.Run(name, func(t *testing.T) {
			r := rows[name]
			got, err := r.Marshal()
			if err != nil {
				t.Fatalf("Marshal() = %v", err)
			}
			if !json.Valid(got) || bytes.ContainsAny(got, "\n") {
				t.Fatalf("Marshal() = %s is not one line of valid JSON", got)
			}
			if !bytes.HasPrefix(got, []byte(`{"schema":"`+r.SchemaURI()+`","data":{"processor":{"artifact":`)) {
				t.Errorf("Marshal() = %s does not start with the schema and processor", got)
			}
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if string(got) != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("Marshal() differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// compileSchema compiles a badrows schema of Iglu Central from ../shared.
func compileSchema(t *testing.T, shared, uri string) *jsonschema.Schema {
	t.Helper()
	rest := strings.TrimPrefix(uri, "iglu:")
	path := filepath.Join(append([]string{shared, "iglu-central", "schemas"}, strings.Split(rest, "/")...)...)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The self-describing meta-schema is not reachable offline; Iglu schemas are draft 4.
	delete(doc, "$schema")
	delete(doc, "self")
	b, _ := json.Marshal(doc)
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("mem://"+rest, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("mem://" + rest)
	if err != nil {
		t.Fatalf("compiling %s: %v", uri, err)
	}
	return s
}

func TestGoldenMatchesSchemas(t *testing.T) {
	shared := sharedDir(t)
	rows := sampleRows(t)
	for _, name := range sortedNames(rows) {
		t.Run(name, func(t *testing.T) {
			r := rows[name]
			b, err := r.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			var sdj struct {
				Schema string `json:"schema"`
				Data   any    `json:"data"`
			}
			if err := json.Unmarshal(b, &sdj); err != nil {
				t.Fatal(err)
			}
			s := compileSchema(t, shared, sdj.Schema)
			if err := s.Validate(sdj.Data); err != nil {
				t.Errorf("%s does not validate against %s: %#v", name, sdj.Schema, err)
			}
		})
	}
	// The validator does reject a wrong shape: txn_id is a string in PartiallyEnrichedEvent.
	b, err := rows["schema_violations"].Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var sv struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &sv); err != nil {
		t.Fatal(err)
	}
	sv.Data["payload"].(map[string]any)["enriched"].(map[string]any)["txn_id"] = 17
	if err := compileSchema(t, shared, SchemaViolationsSchema).Validate(sv.Data); err == nil {
		t.Errorf("schema_violations with an integer txn_id validates, want an error")
	}

	// The enriched payloads must fill exactly the keys the schemas know.
	enriched := func(b []byte, uri string) {
		t.Helper()
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := compileSchema(t, shared, uri).Validate(map[string]any{
			"processor": map[string]any{"artifact": "a", "version": "1.0.0"},
			"failure":   "f",
			"payload":   v,
		}); err != nil {
			t.Errorf("payload does not validate against %s: %#v", uri, err)
		}
	}
	var empty event.EnrichedEvent
	empty.Set(event.CollectorTstamp, "2024-03-01 12:00:00.000")
	empty.Set(event.EventID, "c6ef3124-b53a-4b13-a233-0088f79dcbcb")
	empty.Set(event.VCollector, "c")
	empty.Set(event.VEtl, "e")
	if b, err = empty.AppendFullJSON(nil); err != nil {
		t.Fatal(err)
	}
	enriched(b, LoaderRuntimeErrorSchema)
}

func sharedDir(t testing.TB) string {
	t.Helper()
	return sharedtest.Path(t, "", "it holds the Iglu Central schemas this test checks against")
}

func TestParseRoundTrip(t *testing.T) {
	rows := sampleRows(t)
	for _, name := range sortedNames(rows) {
		r := rows[name]
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		br, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", name, err)
		}
		if br.Schema != r.SchemaURI() || br.Name() != strings.TrimSuffix(strings.TrimSuffix(name, "_input"), "_row_decoding") {
			t.Errorf("Parse(%s) schema %q, name %q", name, br.Schema, br.Name())
		}
		back, err := br.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, b) {
			t.Errorf("Parse(%s).Marshal() = %s, want %s", name, back, b)
		}
	}
}

func TestParsePayloadHelpers(t *testing.T) {
	rows := sampleRows(t)
	marshal := func(name string) *BadRow {
		b, err := rows[name].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		br, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return br
	}
	for _, name := range []string{"schema_violations", "enrichment_failures"} {
		br := marshal(name)
		raw, ok, err := br.RawEvent()
		if err != nil || !ok {
			t.Fatalf("%s RawEvent() = %v, %v", name, ok, err)
		}
		if diff := cmp.Diff(sampleRaw(), raw); diff != "" {
			t.Errorf("%s RawEvent() mismatch (-want +got):\n%s", name, diff)
		}
		enr, ok := br.Enriched()
		if !ok || !bytes.Equal(enr, sampleEnriched().AppendPartialJSON(nil)) {
			t.Errorf("%s Enriched() = %s, %v", name, enr, ok)
		}
		if _, ok, _ := br.CollectorPayload(); ok {
			t.Errorf("%s CollectorPayload() found one", name)
		}
	}
	for _, name := range []string{"adapter_failures", "tracker_protocol_violations"} {
		br := marshal(name)
		cp, ok, err := br.CollectorPayload()
		if err != nil || !ok {
			t.Fatalf("%s CollectorPayload() = %v, %v", name, ok, err)
		}
		want := rows[name]
		var wantCP CollectorPayload
		switch r := want.(type) {
		case *AdapterFailures:
			wantCP = r.Payload
		case *TrackerProtocolViolations:
			wantCP = r.Payload
		}
		if diff := cmp.Diff(&wantCP, cp, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s CollectorPayload() mismatch (-want +got):\n%s", name, diff)
		}
		if _, ok, _ := br.RawEvent(); ok {
			t.Errorf("%s RawEvent() found one", name)
		}
	}
	for _, name := range []string{"size_violation", "generic_error", "loader_runtime_error", "loader_parsing_error"} {
		br := marshal(name)
		if _, ok, err := br.RawEvent(); ok || err != nil {
			t.Errorf("%s RawEvent() = %v, %v, want false, nil", name, ok, err)
		}
		if _, ok, err := br.CollectorPayload(); ok || err != nil {
			t.Errorf("%s CollectorPayload() = %v, %v, want false, nil", name, ok, err)
		}
	}
}

func TestCollectorPayloadMicroJSON(t *testing.T) {
	cp := sampleCollectorPayload()
	got := string(cp.AppendMicroJSON(nil))
	want := `{"api":{"vendor":"com.acme","version":"v9"},"querystring":["a=1","b=null"],` +
		`"contentType":"application/json","body":"{}","source":{"name":"snowplow-mini-collector-0.1.0","encoding":"UTF-8","hostname":"collector.acme.com"},` +
		`"context":{"timestamp":"2024-03-01T12:00:00.000Z","ipAddress":"1.2.3.4","useragent":"curl/8.0","refererUri":null,` +
		`"headers":["Host: collector.acme.com","Content-Type: application/json"],"userId":"7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11"}}`
	if got != want {
		t.Errorf("AppendMicroJSON() = %s\nwant %s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []string{
		``, `[]`, `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"failure":1,"payload":2}}`,
		`{"data":{}}`, `{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0"}`,
		`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0","data":{"payload":"x"}}`,
		`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0","data":{"failure":"x"}}`,
	}
	for _, in := range tests {
		if br, err := Parse([]byte(in)); !errors.Is(err, ErrNotBadRow) {
			t.Errorf("Parse(%q) = %v, %v, want ErrNotBadRow", in, br, err)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := map[string]Row{
		"nil message":      &CollectorPayloadFormatViolation{},
		"no errors":        &GenericError{},
		"nil parsing err":  &LoaderParsingError{},
		"bad iglu error":   &SchemaViolations{Messages: []Message{IgluError{SchemaKey: "k", Error: json.RawMessage(`{`)}}},
		"nil adapter msg":  &AdapterFailures{Messages: []Message{nil}},
		"bad payload JSON": &LoaderRuntimeError{Payload: json.RawMessage(`{"a":`)},
		"nil enrichment":   &EnrichmentFailures{Messages: []EnrichmentFailure{{}}},
	}
	for name, r := range tests {
		if b, err := r.Marshal(); err == nil {
			t.Errorf("%s: Marshal() = %s, nil, want an error", name, b)
		}
	}
}

func TestTruncatePayload(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"abcdef", 30, "abc"},
		{"abc", 300, "abc"},
		{"aé", 20, "a"},
		{"x", 0, ""},
	}
	for _, tt := range tests {
		if got := TruncatePayload(tt.in, tt.max); got != tt.want {
			t.Errorf("TruncatePayload(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestRawJSONIsCompacted(t *testing.T) {
	r := &LoaderIgluError{
		Processor: loaderProc,
		Errors:    []Message{IgluError{SchemaKey: "k", Error: json.RawMessage("{ \"error\" : \"ResolutionError\" }")}},
		Payload:   json.RawMessage("{ \"app_id\" : \"a b\" }"),
	}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"schema":"` + LoaderIgluErrorSchema + `","data":{"processor":{"artifact":"snowplow-mini-loader","version":"0.1.0"},"failure":[{"schemaKey":"k","error":{"error":"ResolutionError"}}],"payload":{"app_id":"a b"}}}`
	if string(b) != want {
		t.Errorf("Marshal() = %s, want %s", b, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, r := range sampleRows(f) {
		b, err := r.Marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/x/jsonschema/1-0-0","data":{"failure":null,"payload":{"raw":{"timestamp":1}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		br, err := Parse(data)
		if err != nil {
			return
		}
		b, err := br.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed bad row = %v", err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v", data, err)
		}
		if b2, _ := again.Marshal(); !bytes.Equal(b, b2) {
			t.Fatalf("Marshal is not stable: %s vs %s", b, b2)
		}
		br.RawEvent()
		br.CollectorPayload()
		br.Enriched()
	})
}
