package enrichments

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// conf returns a self-describing enrichment configuration.
func conf(vendor, name, version, params string) string {
	return `{"schema":"iglu:` + vendor + `/` + name + `/jsonschema/` + version + `","data":{"vendor":"` + vendor +
		`","name":"` + name + `","enabled":true,"parameters":` + params + `}}`
}

const (
	sp  = "com.snowplowanalytics.snowplow"
	spe = "com.snowplowanalytics.snowplow.enrichments"
)

// newSet builds a Set from configuration JSONs, each as its own file in a temp dir.
func newSet(t testing.TB, configs ...string) *Set {
	t.Helper()
	dir := t.TempDir()
	for i, c := range configs {
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".json"), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Load(t.Context(), dir, Deps{AssetsDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fields makes an event from field name/value pairs.
func fields(t testing.TB, kv ...string) *event.EnrichedEvent {
	t.Helper()
	ev := &event.EnrichedEvent{}
	for i := 0; i < len(kv); i += 2 {
		f, ok := event.FieldByName(kv[i])
		if !ok {
			t.Fatalf("no field %q", kv[i])
		}
		ev.Fields[f] = kv[i+1]
	}
	return ev
}

func run(t testing.TB, s *Set, ev *event.EnrichedEvent, in *rawInput) Result {
	t.Helper()
	if in == nil {
		in = &rawInput{encoding: "UTF-8"}
	}
	res, err := s.apply(context.Background(), ev, in)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

// get returns the named fields of ev as a map (only non-empty ones).
func get(ev *event.EnrichedEvent, names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		f, _ := event.FieldByName(n)
		if v := ev.Fields[f]; v != "" {
			m[n] = v
		}
	}
	return m
}

func derivedJSON(t testing.TB, r Result) []string {
	t.Helper()
	var out []string
	for _, d := range r.Derived {
		if !json.Valid(d.Data) {
			t.Errorf("derived context %s: invalid JSON %s", d.Schema, d.Data)
		}
		out = append(out, string(d.AppendJSON(nil)))
	}
	return out
}

func failuresJSON(t testing.TB, r Result) []string {
	t.Helper()
	var out []string
	for _, f := range r.Failures {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr []string // substrings, all required
	}{
		{"unknown schema", `{"schema":"iglu:com.acme/whatever/jsonschema/1-0-0","data":{}}`,
			[]string{"a.json", "iglu:com.acme/whatever/jsonschema/1-0-0", "unknown enrichment configuration schema"}},
		{"wrong model", conf(sp, "referer_parser", "1-0-0", `{"internalDomains":[]}`),
			[]string{"unsupported version of referer_parser: want 2-x-x"}},
		{"not supported", conf(sp, "user_agent_utils_config", "1-0-0", `{}`),
			[]string{"deprecated"}},
		{"not json", `{"schema":`, []string{"a.json", "not a self-describing JSON"}},
		{"all problems at once", conf(sp, "campaign_attribution", "1-0-1", `{"mapping":"dynamic","fields":{"mktMedium":"utm_medium","mktSource":[],"mktTerm":[],"mktContent":[],"extra":1}}`),
			[]string{
				`parameters.mapping: "dynamic" is not one of static, script`,
				`parameters.fields: missing required key "mktCampaign"`,
				`parameters.fields: unknown key "extra"`,
				`parameters.fields.mktMedium: want an array, got a string`,
			}},
		{"bad hash", conf(sp, "event_fingerprint_config", "1-0-1", `{"hashAlgorithm":"CRC32","excludeParameters":[]}`),
			[]string{`parameters.hashAlgorithm: "CRC32" is not one of MD5, SHA1, SHA256, SHA384, SHA512`}},
		{"unknown envelope key", `{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0","data":{"vendor":"x","name":"ua_parser_config","enabled":true,"parameters":{},"colour":"red"}}`,
			[]string{`data: unknown key "colour"`}},
		{"missing asset", conf(sp, "ua_parser_config", "1-0-1", `{"uri":"file:///nonexistent","database":"regexes.yaml"}`),
			[]string{"parameters.database", "nonexistent"}},
		{"unsupported scheme", conf(sp, "ua_parser_config", "1-0-1", `{"uri":"s3://bucket/dir","database":"regexes.yaml"}`),
			[]string{`scheme "s3" is not supported`}},
		{"duplicate", `{"schema":"iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0","data":[` +
			conf(sp, "ua_parser_config", "1-0-0", `{}`) + `,` + conf(sp, "ua_parser_config", "1-0-1", `{}`) + `]}`,
			[]string{"already configured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "a.json"), []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Load(t.Context(), dir, Deps{})
			if err == nil {
				s.Close()
				t.Fatalf("Load(%s) = nil error, want %q", tt.file, tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%s) = %v, want it to contain %q", tt.name, err, w)
				}
			}
		})
	}
}

func TestLoadListAndDisabled(t *testing.T) {
	list := `{"schema":"iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0","data":[` +
		conf(sp, "ua_parser_config", "1-0-0", `{}`) + `,` +
		strings.Replace(conf(sp, "campaign_attribution", "1-0-1", `{}`), `"enabled":true`, `"enabled":false`, 1) + `,` +
		conf(sp, "event_fingerprint_config", "1-0-1", `{"hashAlgorithm":"MD5","excludeParameters":[]}`) + `]}`
	s := newSet(t, list)
	var got []string
	for _, in := range s.Enabled() {
		got = append(got, in.Name)
	}
	// Run order is Snowplow's, not the file's.
	want := []string{"ua_parser_config", "event_fingerprint_config"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Enabled() mismatch (-want +got):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Defaults(t.Context(), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	for _, in := range s.Enabled() {
		got = append(got, in.Name)
	}
	want := []string{"ua_parser_config", "referer_parser", "campaign_attribution", "event_fingerprint_config"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Defaults().Enabled() mismatch (-want +got):\n%s", diff)
	}
	s2, err := Defaults(t.Context(), Deps{}, "ua_parser_config", "referer_parser")
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if n := len(s2.Enabled()); n != 2 {
		t.Errorf("Defaults(off 2) has %d enrichments, want 2", n)
	}
	if _, err := Defaults(t.Context(), Deps{}, "anon_ip"); err == nil {
		t.Errorf("Defaults(off anon_ip) = nil error, want an error")
	}
	// The shipped files load as they are.
	dir := t.TempDir()
	for name, data := range DefaultConfigs() {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s3, err := Load(t.Context(), dir, Deps{})
	if err != nil {
		t.Fatalf("Load(DefaultConfigs()) = %v", err)
	}
	defer s3.Close()
	if n := len(s3.Enabled()); n != 4 {
		t.Errorf("Load(DefaultConfigs()) has %d enrichments, want 4", n)
	}
}

func TestFailureJSON(t *testing.T) {
	v := "XYZ"
	tests := []struct {
		f    Failure
		want string
	}{
		{Failure{SchemaKey: "iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0", Identifier: "currency-conversion",
			Message: InputData{Field: "tr_currency", Value: &v, Expectation: "Unknown currency 'XYZ'"}},
			`{"enrichment":{"schemaKey":"iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0","identifier":"currency-conversion"},"message":{"field":"tr_currency","value":"XYZ","expectation":"Unknown currency 'XYZ'"}}`},
		{Failure{Message: Simple{Error: `bad "uri"`}}, `{"enrichment":null,"message":{"error":"bad \"uri\""}}`},
		{Failure{SchemaKey: "k", Identifier: "i", Message: InputData{Field: "geo_latitude", Expectation: "missing"}},
			`{"enrichment":{"schemaKey":"k","identifier":"i"},"message":{"field":"geo_latitude","value":null,"expectation":"missing"}}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal(%+v) = %s, want %s", tt.f, b, tt.want)
		}
		b, err = json.Marshal(tt.f.BadRow())
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("Marshal(%+v.BadRow()) = %s, want %s", tt.f, b, tt.want)
		}
	}
}

func TestApplyRawEvent(t *testing.T) {
	s := newSet(t, conf(sp, "event_fingerprint_config", "1-0-1", `{"hashAlgorithm":"MD5","excludeParameters":["eid"]}`))
	raw := &event.RawEvent{Parameters: []event.NVP{
		event.NewNVP("url", "http://a.com/"), event.NewNVP("e", "pv"), event.NewNVP("p", "web"),
		event.NewNVP("aid", "shop"), event.NewNVP("eid", "x"), {Name: "tv"},
	}}
	ev := &event.EnrichedEvent{}
	if _, err := s.Apply(context.Background(), ev, raw, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := ev.Fields[event.EventFingerprint], "d7ef448959c9d32740628b6c9004a882"; got != want {
		t.Errorf("Apply: event_fingerprint = %q, want %q", got, want)
	}
}

func writeFile(t testing.TB, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantErrs checks that err mentions every one of subs.
func wantErrs(t testing.TB, err error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", subs)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error = %v, want it to contain %q", err, s)
		}
	}
}
