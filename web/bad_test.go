package web

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

type badJSON struct {
	CollectorPayload *struct {
		API struct {
			Vendor  string `json:"vendor"`
			Version string `json:"version"`
		} `json:"api"`
		Querystring []string `json:"querystring"`
	} `json:"collectorPayload"`
	RawEvent *struct {
		Parameters map[string]*string `json:"parameters"`
	} `json:"rawEvent"`
	Errors []string `json:"errors"`
}

func TestBadEventsFromBadRows(t *testing.T) {
	fx := loadFixtures(t)
	enrichmentFailure := mustMarshal(t, &badrow.EnrichmentFailures{
		Processor: testProcessor,
		Timestamp: testFailedAt,
		Messages: []badrow.EnrichmentFailure{{
			Enrichment: &badrow.EnrichmentInfo{
				SchemaKey:  "iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0",
				Identifier: "currency-conversion",
			},
			Message: badrow.InputData{Field: "tr_currency", Value: badrow.Str("XYZ"), Expectation: "Unknown currency 'XYZ'"},
		}},
		Payload: badrow.NewEnrichmentPayload(fx["struct"].ev, fx["struct"].raw),
	})
	adapterFailure := mustMarshal(t, &badrow.AdapterFailures{
		Processor: testProcessor,
		Timestamp: testFailedAt,
		Vendor:    "com.acme",
		Version:   "v9",
		Messages:  []badrow.Message{badrow.InputData{Field: "vendor/version", Value: badrow.Str("com.acme/v9"), Expectation: "vendor/version combination is not supported"}},
		Payload: badrow.CollectorPayload{
			Vendor: "com.acme", Version: "v9", Querystring: nil, ContentType: "application/json", Body: "{}",
			Collector: "snowplow-mini-collector-0.1.0", Encoding: "UTF-8", Timestamp: testFailedAt,
		},
	})
	genericError := mustMarshal(t, &badrow.GenericError{
		Processor: testProcessor, Timestamp: testFailedAt, Errors: []string{"something went wrong"}, Payload: "original input",
	})
	tests := []struct {
		name         string
		row          []byte
		sentence     string
		payload, raw bool
		appID        string
	}{
		{"schema_violations", schemaViolation(t, fx["link_click"], "shop"), "Error while validating the event.", true, true, "shop"},
		{"enrichment_failures", enrichmentFailure, "Error while validating the event.", true, true, "snowplow-mini-peer"},
		{"tracker_protocol_violations", trackerProtocolViolation(t, "com.snowplowanalytics.snowplow", "tp2", "shop"), "Error while extracting event(s) from collector payload and validating it/them.", true, false, "shop"},
		{"adapter_failures", adapterFailure, "Error while extracting event(s) from collector payload and validating it/them.", true, false, ""},
		{"collector_payload_format_violation", formatViolation(t), "Can't deserialize Thrift bytes.", false, false, ""},
		{"size_violation", sizeViolation(t), "Collector payload exceeds the maximum size.", false, false, ""},
		{"generic_error", genericError, "Error while processing the event.", false, false, ""},
		{"not_a_bad_row", []byte("\x00garbage\n"), "Record on the bad stream is not a bad row.", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			ts.addBad(t, tt.row)
			res := ts.do(t, http.MethodGet, "/micro/bad", "")
			goldenJSON(t, "bad_"+tt.name+".golden.json", res.body)

			var raw []json.RawMessage
			if err := json.Unmarshal(res.body, &raw); err != nil || len(raw) != 1 {
				t.Fatalf("GET /micro/bad = %s, want one event", res.body)
			}
			if diff := cmp.Diff([]string{"collectorPayload", "rawEvent", "errors"}, objectKeys(t, raw[0])); diff != "" {
				t.Errorf("BadEvent keys (-want +got):\n%s", diff)
			}
			var got badJSON
			if err := json.Unmarshal(raw[0], &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Errors) != 2 || got.Errors[0] != tt.sentence {
				t.Fatalf("errors = %q, want [%q, <bad row>]", got.Errors, tt.sentence)
			}
			if tt.name != "not_a_bad_row" && got.Errors[1] != string(tt.row) {
				t.Errorf("errors[1] = %s, want the compact bad row %s", got.Errors[1], tt.row)
			}
			if (got.CollectorPayload != nil) != tt.payload || (got.RawEvent != nil) != tt.raw {
				t.Errorf("collectorPayload set = %t, rawEvent set = %t; want %t, %t",
					got.CollectorPayload != nil, got.RawEvent != nil, tt.payload, tt.raw)
			}
			if tt.appID != "" {
				var scoped []badJSON
				ts.doJSON(t, http.MethodGet, "/micro/bad?app_id="+tt.appID, "", &scoped)
				if len(scoped) != 1 {
					t.Errorf("GET /micro/bad?app_id=%s returned %d events, want 1", tt.appID, len(scoped))
				}
			}
		})
	}
}

func TestBadEventQueryStringIsMicros(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.addBad(t, trackerProtocolViolation(t, "com.snowplowanalytics.snowplow", "tp2", "shop"))
	var got []badJSON
	ts.doJSON(t, http.MethodGet, "/micro/bad", "", &got)
	// Micro writes Java NameValuePairs as name=value; a missing value prints as null.
	if diff := cmp.Diff([]string{"stm=1795313287509", "flag=null"}, got[0].CollectorPayload.Querystring); diff != "" {
		t.Errorf("querystring (-want +got):\n%s", diff)
	}
}

func TestBadFilters(t *testing.T) {
	fx := loadFixtures(t)
	ts := newTestServer(t, nil)
	ts.addBad(t,
		trackerProtocolViolation(t, "com.snowplowanalytics.snowplow", "tp2", "a"), // 0
		formatViolation(t), // 1: no payload
		trackerProtocolViolation(t, "com.acme", "v1", "b"), // 2
		schemaViolation(t, fx["link_click"], "a"),          // 3: tp2 payload rebuilt from the raw event
		trackerProtocolViolation(t, "com.acme", "v2", "a"), // 4
	)
	// Each bad event is told apart by its position: the errors[1] texts differ.
	var all []badJSON
	ts.doJSON(t, http.MethodGet, "/micro/bad", "", &all)
	index := map[string]int{}
	for i, b := range all {
		index[b.Errors[1]] = 4 - i // newest first
	}
	tests := []struct {
		method, target, body string
		want                 []int
	}{
		{"GET", "/micro/bad", "", []int{4, 3, 2, 1, 0}},
		{"POST", "/micro/bad", `{}`, []int{4, 3, 2, 1, 0}},
		{"POST", "/micro/bad", `{"vendor":"com.acme"}`, []int{4, 2, 1}},
		{"POST", "/micro/bad", `{"vendor":"com.acme","version":"v1"}`, []int{2, 1}},
		{"POST", "/micro/bad", `{"vendor":"com.snowplowanalytics.snowplow","version":"tp2"}`, []int{3, 1, 0}},
		{"POST", "/micro/bad", `{"version":"nope"}`, []int{1}},
		{"POST", "/micro/bad", `{"limit":2}`, []int{4, 3}},
		{"POST", "/micro/bad", `{"app_id":"a","limit":2}`, []int{4, 3}},
		{"GET", "/micro/bad?app_id=a&vendor=com.snowplowanalytics.snowplow", "", []int{3, 0}},
		{"GET", "/micro/bad?app_id=b", "", []int{2}},
	}
	for _, tt := range tests {
		var got []badJSON
		ts.doJSON(t, tt.method, tt.target, tt.body, &got)
		var pos []int
		for _, b := range got {
			pos = append(pos, index[b.Errors[1]])
		}
		if diff := cmp.Diff(tt.want, pos); diff != "" {
			t.Errorf("%s %s %s (-want +got):\n%s", tt.method, tt.target, tt.body, diff)
		}
	}
}

func FuzzNewBadEvent(f *testing.F) {
	fx := loadFixtures(f)
	for _, seed := range [][]byte{
		schemaViolation(f, fx["link_click"], "shop"),
		trackerProtocolViolation(f, "com.acme", "v1", "a"),
		formatViolation(f),
		sizeViolation(f),
		[]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1","data":{"failure":{},"payload":{"raw":{"vendor":1}}}}`),
		[]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0","data":{"failure":{},"payload":{"vendor":"v","collector":"c","body":"{\"data\":[{\"aid\":null}]}"}}}`),
		[]byte(`not json`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, record []byte) {
		b := newBadEvent(record, nil)
		if !json.Valid(b.json) {
			t.Fatalf("newBadEvent(%q) rendered invalid JSON %s", record, b.json)
		}
		var got badJSON
		if err := json.Unmarshal(b.json, &got); err != nil || len(got.Errors) != 2 {
			t.Fatalf("newBadEvent(%q) = %s, want a BadEvent with two errors", record, b.json)
		}
	})
}
