package enrichments

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

func TestMD2(t *testing.T) {
	// RFC 1319 test suite.
	for in, want := range map[string]string{
		"":               "8350e5a3e24c153df2275c9f80692773",
		"abc":            "da853b0d3f88d99b30283a69e6ded6bb",
		"message digest": "ab4f496bfb2a530b219ff33031fe06b0",
		"12345678901234567890123456789012345678901234567890123456789012345678901234567890": "d5976f79d83d3a0dc9806c3c66f3efd8",
	} {
		h := newMD2()
		h.Write([]byte(in))
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("MD2(%q) = %s, want %s", in, got, want)
		}
	}
}

const piiConf = `{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1","data":{
	"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"pii_enrichment_config","enabled":true,"emitEvent":true,%ANON%
	"parameters":{"pii":[
		{"pojo":{"field":"user_id"}},
		{"pojo":{"field":"user_ipaddress"}},
		{"pojo":{"field":"user_fingerprint"}},
		{"json":{"field":"contexts","schemaCriterion":"iglu:com.acme/user/jsonschema/1-*-*","jsonPath":"$.email"}},
		{"json":{"field":"unstruct_event","schemaCriterion":"iglu:com.acme/signup/jsonschema/1-0-*","jsonPath":"$.ids[*]"}}
	],"strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"pepper"}}}}}`

func TestPII(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pii.json", strings.ReplaceAll(piiConf, "%ANON%", ""))
	now := time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC)
	s, err := Load(t.Context(), dir, Deps{Now: func() time.Time { return now }, NewEventID: func() string { return "11111111-2222-4333-8444-555555555555" }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := fields(t, "app_id", "shop", "event_id", "c6ef3124-b53a-4b13-a233-0088f79dcbcb", "user_id", "alice", "user_ipaddress", "1.2.3.4",
		"collector_tstamp", "2024-03-01 12:00:00.000", "etl_tstamp", "2024-03-01 12:00:01.000", "v_collector", "c", "v_etl", "e",
		"contexts", `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/user/jsonschema/1-0-2","data":{"email":"jane@example.com","age":3}},{"schema":"iglu:com.acme/other/jsonschema/1-0-0","data":{"email":"keep@example.com"}}]}`,
		"unstruct_event", `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/signup/jsonschema/1-0-0","data":{"ids":["evt-a",7]}}}`,
	)
	r := run(t, s, ev, nil)
	want := map[string]string{
		"user_id":        "ce463bda1f16f7677143cb3f780c961ffd9d5c1546de788e0047e17e4d6adc45",
		"user_ipaddress": "712ac23c0601eaca14fcbc55d4b56f2139ec9be0bca908c0176693deb8fb58c3",
		"contexts":       `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/user/jsonschema/1-0-2","data":{"email":"40aa4a80cec372d7c5b41b925681300ecd75d1cea4d4c11a0c1a09cbdf4a162c","age":3}},{"schema":"iglu:com.acme/other/jsonschema/1-0-0","data":{"email":"keep@example.com"}}]}`,
		"unstruct_event": `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/signup/jsonschema/1-0-0","data":{"ids":["2c1741358e2db03bfed065d349658cbd99d3b7ed96d4fb894a06c1fe684f5b53",7]}}}`,
	}
	if diff := cmp.Diff(want, get(ev, "user_id", "user_ipaddress", "user_fingerprint", "contexts", "unstruct_event")); diff != "" {
		t.Errorf("pii mismatch (-want +got):\n%s", diff)
	}
	if len(r.Extra) != 1 {
		t.Fatalf("pii side events = %d, want 1", len(r.Extra))
	}
	side := r.Extra[0]
	wantSide := map[string]string{
		"app_id": "shop", "platform": "srv", "event": "pii_transformation", "event_id": "11111111-2222-4333-8444-555555555555",
		"collector_tstamp": "2024-03-01 12:00:00.000", "etl_tstamp": "2024-03-01 12:00:01.000", "v_collector": "c", "v_etl": "e",
		"derived_tstamp": "2024-03-01 12:00:01.000", "true_tstamp": "2024-03-01 12:00:01.000",
		"event_vendor": "com.snowplowanalytics.snowplow", "event_name": "pii_transformation", "event_format": "jsonschema", "event_version": "1-0-0",
		"contexts": `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0","data":{"parentEventId":"c6ef3124-b53a-4b13-a233-0088f79dcbcb"}}]}`,
		"unstruct_event": `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0","data":{"pii":{"pojo":[` +
			`{"fieldName":"user_id","originalValue":"alice","modifiedValue":"ce463bda1f16f7677143cb3f780c961ffd9d5c1546de788e0047e17e4d6adc45"},` +
			`{"fieldName":"user_ipaddress","originalValue":"1.2.3.4","modifiedValue":"712ac23c0601eaca14fcbc55d4b56f2139ec9be0bca908c0176693deb8fb58c3"}],"json":[` +
			`{"fieldName":"contexts","originalValue":"jane@example.com","modifiedValue":"40aa4a80cec372d7c5b41b925681300ecd75d1cea4d4c11a0c1a09cbdf4a162c","jsonPath":"$.email","schema":"iglu:com.acme/user/jsonschema/1-0-2"},` +
			`{"fieldName":"unstruct_event","originalValue":"evt-a","modifiedValue":"2c1741358e2db03bfed065d349658cbd99d3b7ed96d4fb894a06c1fe684f5b53","jsonPath":"$.ids[*]","schema":"iglu:com.acme/signup/jsonschema/1-0-0"}]},` +
			`"strategy":{"pseudonymize":{"hashFunction":"SHA-256"}}}}}`,
	}
	var names []string
	for i := range event.NumFields {
		names = append(names, event.Field(i).Name())
	}
	if diff := cmp.Diff(wantSide, get(side, names...)); diff != "" {
		t.Errorf("pii side event mismatch (-want +got):\n%s", diff)
	}

	// Nothing to pseudonymise: no side event.
	if r := run(t, s, fields(t), nil); len(r.Extra) != 0 {
		t.Errorf("side events for an empty event = %d, want 0", len(r.Extra))
	}
}

func TestPIIAnonymousOnly(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pii.json", strings.ReplaceAll(piiConf, "%ANON%", `"anonymousOnly":true,`))
	s, err := Load(t.Context(), dir, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := fields(t, "user_id", "alice")
	run(t, s, ev, &rawInput{headers: []string{"Host: x"}})
	if got := ev.Fields[12]; got != "alice" {
		t.Errorf("user_id without SP-Anonymous = %q, want it kept", got)
	}
	run(t, s, ev, &rawInput{headers: []string{"sp-anonymous: *"}})
	if got := ev.Fields[12]; got != "ce463bda1f16f7677143cb3f780c961ffd9d5c1546de788e0047e17e4d6adc45" {
		t.Errorf("user_id with SP-Anonymous = %q, want it hashed", got)
	}
}

func TestPIIConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "pii.json", `{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0","data":{"vendor":"v","name":"pii_enrichment_config","enabled":true,"emitEvent":false,
		"parameters":{"pii":[{"pojo":{"field":"page_url"}},{"json":{"field":"contexts","schemaCriterion":"acme","jsonPath":"email"}},{}],"strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":""}}}}}`)
	_, err := Load(t.Context(), dir, Deps{})
	wantErrs(t, err, `parameters.pii[0].pojo.field: "page_url" is not one of`, "parameters.pii[1].json.schemaCriterion", "parameters.pii[1].json.jsonPath", "parameters.pii[2]: want exactly one of pojo and json")
}
