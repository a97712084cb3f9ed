package iglu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testClock is a settable clock for the resolver.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// writeSchemas writes files (path relative to the folder → content) into a new folder.
func writeSchemas(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// offlineConfig is a configuration with no HTTP repository.
func offlineConfig(dirs ...string) ResolverConfig {
	cfg := DefaultConfig()
	cfg.Repositories = nil
	cfg.SchemaDirs = dirs
	return cfg
}

func newTestResolver(t testing.TB, cfg ResolverConfig, clock *testClock) *Resolver {
	t.Helper()
	deps := ResolverDeps{}
	if clock != nil {
		deps.Now = clock.Now
	}
	r, err := NewResolver(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func selfDesc(vendor, name, version, body string) string {
	return `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"` + vendor + `","name":"` + name +
		`","format":"jsonschema","version":"` + version + `"},` + body + `}`
}

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := DecodeJSON([]byte(s), 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustKey(t testing.TB, s string) SchemaKey {
	t.Helper()
	k, err := ParseSchemaKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const reportSchema = `"type":"object","additionalProperties":false,
 "required":["id","kind"],
 "properties":{
  "id":{"type":"string","maxLength":5,"pattern":"^[a-z]+$"},
  "kind":{"enum":["a","b",1,null]},
  "count":{"type":"integer","minimum":0,"maximum":10},
  "ratio":{"type":["number","null"],"multipleOf":0.5},
  "tags":{"type":"array","minItems":1,"maxItems":2,"uniqueItems":true,"items":{"type":"string","minLength":2}},
  "when":{"type":"string","format":"date-time"},
  "ip":{"type":"string","format":"ipv4"},
  "nested":{"type":"object","properties":{"deep":{"type":"boolean"}},"required":["deep"]},
  "odd key":{"type":"string"},
  "pair":{"type":"array","items":[{"type":"string"}],"additionalItems":false},
  "one":{"oneOf":[{"type":"number","multipleOf":5},{"type":"number","multipleOf":3}]},
  "any":{"anyOf":[{"type":"string"},{"type":"number"}]},
  "dep":{"type":"string"},
  "ref":{"$ref":"#/definitions/short"},
  "remote":{"$ref":"http://example.invalid/schemas/other.json#/definitions/x"}
 },
 "dependencies":{"dep":["count"]},
 "definitions":{"short":{"type":"string","maxLength":2}}`

func TestValidateReports(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/report/jsonschema/1-0-0": selfDesc("com.acme", "report", "1-0-0", reportSchema),
	})
	r := newTestResolver(t, offlineConfig(dir), nil)
	key := mustKey(t, "iglu:com.acme/report/jsonschema/1-0-0")

	type rep struct {
		Message, Path, Keyword string
		Targets                []string
	}
	tests := []struct {
		name     string
		instance string
		want     []rep
	}{
		{name: "valid", instance: `{"id":"abc","kind":1,"count":10,"ratio":1.5,"tags":["xy"],"when":"2024-03-01T12:00:00Z","ip":"1.2.3.4","nested":{"deep":true},"odd key":"x","pair":["a"],"one":10,"any":"s","dep":"x","ref":"ab","remote":{"anything":[1]}}`},
		{name: "type", instance: `{"id":5,"kind":"a"}`, want: []rep{{"$.id: integer found, string expected", "$.id", "type", []string{"integer", "string"}}}},
		{name: "type union", instance: `{"id":"a","kind":"a","ratio":"x"}`, want: []rep{{"$.ratio: string found, but [number, null] is required", "$.ratio", "type", []string{"string", "[number, null]"}}}},
		{name: "integer is strict", instance: `{"id":"a","kind":"a","count":1.0}`, want: []rep{{"$.count: number found, integer expected", "$.count", "type", []string{"number", "integer"}}}},
		{name: "integer exponent", instance: `{"id":"a","kind":"a","count":1e1}`, want: []rep{{"$.count: number found, integer expected", "$.count", "type", []string{"number", "integer"}}}},
		{name: "stringly integer", instance: `{"id":"a","kind":"a","count":"5"}`, want: []rep{{"$.count: string found, integer expected", "$.count", "type", []string{"string", "integer"}}}},
		{name: "required", instance: `{}`, want: []rep{
			{"$.id: is missing but it is required", "$", "required", []string{"id"}},
			{"$.kind: is missing but it is required", "$", "required", []string{"kind"}},
		}},
		{name: "additional properties", instance: `{"id":"a","kind":"a","zz":1,"b c":2}`, want: []rep{
			{"$.zz: is not defined in the schema and the schema does not allow additional properties", "$", "additionalProperties", []string{"zz"}},
			{"$['b c']: is not defined in the schema and the schema does not allow additional properties", "$", "additionalProperties", []string{"b c"}},
		}},
		{name: "maxLength and pattern", instance: `{"id":"ABCDEF","kind":"a"}`, want: []rep{
			{"$.id: does not match the regex pattern ^[a-z]+$", "$.id", "pattern", []string{"^[a-z]+$"}},
			{"$.id: may only be 5 characters long", "$.id", "maxLength", []string{"5"}},
		}},
		{name: "enum", instance: `{"id":"a","kind":"c"}`, want: []rep{{"$.kind: does not have a value in the enumeration [a, b, 1, null]", "$.kind", "enum", []string{"[a, b, 1, null]"}}}},
		{name: "bounds", instance: `{"id":"a","kind":"a","count":11}`, want: []rep{{"$.count: must have a maximum value of 10", "$.count", "maximum", []string{"10"}}}},
		{name: "minimum", instance: `{"id":"a","kind":"a","count":-1}`, want: []rep{{"$.count: must have a minimum value of 0", "$.count", "minimum", []string{"0"}}}},
		{name: "multipleOf", instance: `{"id":"a","kind":"a","ratio":0.3}`, want: []rep{{"$.ratio: must be multiple of 0.5", "$.ratio", "multipleOf", []string{"0.5"}}}},
		{name: "arrays", instance: `{"id":"a","kind":"a","tags":["a","xy","xy"]}`, want: []rep{
			{"$.tags: the items in the array must be unique", "$.tags", "uniqueItems", []string{}},
			{"$.tags: there must be a maximum of 2 items in the array", "$.tags", "maxItems", []string{"2"}},
			{"$.tags[0]: must be at least 2 characters long", "$.tags[0]", "minLength", []string{"2"}},
		}},
		{name: "minItems", instance: `{"id":"a","kind":"a","tags":[]}`, want: []rep{{"$.tags: there must be a minimum of 1 items in the array", "$.tags", "minItems", []string{"1"}}}},
		{name: "formats", instance: `{"id":"a","kind":"a","when":"yesterday","ip":"1.2.3"}`, want: []rep{
			{"$.ip: does not match the ipv4 pattern", "$.ip", "format", []string{"ipv4"}},
			{"$.when: yesterday is an invalid date-time", "$.when", "format", []string{"yesterday", "date-time"}},
		}},
		{name: "nested", instance: `{"id":"a","kind":"a","nested":{"deep":"yes"}}`, want: []rep{{"$.nested.deep: string found, boolean expected", "$.nested.deep", "type", []string{"string", "boolean"}}}},
		{name: "nested required", instance: `{"id":"a","kind":"a","nested":{}}`, want: []rep{{"$.nested.deep: is missing but it is required", "$.nested", "required", []string{"deep"}}}},
		{name: "odd key", instance: `{"id":"a","kind":"a","odd key":1}`, want: []rep{{"$['odd key']: integer found, string expected", "$['odd key']", "type", []string{"integer", "string"}}}},
		{name: "additionalItems", instance: `{"id":"a","kind":"a","pair":["a","b","c"]}`, want: []rep{
			{"$.pair[1]: no validator found at this index", "$.pair", "additionalItems", []string{"1"}},
			{"$.pair[2]: no validator found at this index", "$.pair", "additionalItems", []string{"2"}},
		}},
		{name: "oneOf twice", instance: `{"id":"a","kind":"a","one":15}`, want: []rep{{`$.one: should be valid to one and only one of schema, but more than one are valid: {"multipleOf":5,"type":"number"}{"multipleOf":3,"type":"number"}`, "$.one", "oneOf", []string{`{"multipleOf":5,"type":"number"}{"multipleOf":3,"type":"number"}`}}}},
		{name: "anyOf none", instance: `{"id":"a","kind":"a","any":true}`, want: []rep{
			{"$.any: boolean found, number expected", "$.any", "type", []string{"boolean", "number"}},
			{"$.any: boolean found, string expected", "$.any", "type", []string{"boolean", "string"}},
		}},
		{name: "dependencies", instance: `{"id":"a","kind":"a","dep":"x"}`, want: []rep{{"$: has an error with dependencies {dep=[count]}", "$", "dependencies", []string{"{dep=[count]}"}}}},
		{name: "local ref", instance: `{"id":"a","kind":"a","ref":"abc"}`, want: []rep{{"$.ref: may only be 2 characters long", "$.ref", "maxLength", []string{"2"}}}},
		{name: "root type", instance: `[1]`, want: []rep{{"$: array found, object expected", "$", "type", []string{"array", "object"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Validate(context.Background(), key, mustDecode(t, tt.instance))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%s) = %v, want valid", tt.instance, err)
				}
				return
			}
			var ce *ClientError
			if !errors.As(err, &ce) || ce.Kind != ValidationError {
				t.Fatalf("Validate(%s) = %v, want a ValidationError", tt.instance, err)
			}
			var got []rep
			for _, d := range ce.DataReports {
				got = append(got, rep{d.Message, deref(d.Path), deref(d.Keyword), d.Targets})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate(%s) reports (-want +got):\n%s", tt.instance, diff)
			}
		})
	}
}

func TestValidateSupersededBy(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/evt/jsonschema/1-0-0":  selfDesc("com.acme", "evt", "1-0-0", `"$supersededBy":"1-0-2","type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false`),
		"com.acme/evt/jsonschema/1-0-1":  selfDesc("com.acme", "evt", "1-0-1", `"$supersededBy":"1-0-2","type":"object","additionalProperties":false`),
		"com.acme/evt/jsonschema/1-0-2":  selfDesc("com.acme", "evt", "1-0-2", `"$supersedes":["1-0-0","1-0-1"],"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}},"additionalProperties":false`),
		"com.acme/bad/jsonschema/1-0-0":  selfDesc("com.acme", "bad", "1-0-0", `"$supersededBy":"2-0-0","type":"object"`),
		"com.acme/gone/jsonschema/1-0-0": selfDesc("com.acme", "gone", "1-0-0", `"$supersededBy":"1-0-1","type":"object"`),
	})
	r := newTestResolver(t, offlineConfig(dir), nil)
	ctx := context.Background()

	// 1-0-0 does not know "b"; 1-0-2 does, and is used.
	v, err := r.Validate(ctx, mustKey(t, "iglu:com.acme/evt/jsonschema/1-0-0"), mustDecode(t, `{"a":"x","b":1}`))
	if err != nil {
		t.Fatalf("Validate(evt 1-0-0) = %v, want valid against 1-0-2", err)
	}
	if v.SupersededBy != (SchemaVer{1, 0, 2}) || v.Schema.Key.Version != (SchemaVer{1, 0, 2}) {
		t.Errorf("Validate(evt 1-0-0) = superseded by %v, schema %v; want 1-0-2", v.SupersededBy, v.Schema.Key)
	}
	// Invalid against the superseding version: the error says so.
	_, err = r.Validate(ctx, mustKey(t, "iglu:com.acme/evt/jsonschema/1-0-1"), mustDecode(t, `{"b":"x"}`))
	var ce *ClientError
	if !errors.As(err, &ce) || ce.SupersededBy != (SchemaVer{1, 0, 2}) || len(ce.DataReports) != 1 {
		t.Fatalf("Validate(evt 1-0-1, bad b) = %v, want one data report with supersededBy 1-0-2", err)
	}
	if got := string(ce.AppendJSON(nil)); !strings.HasSuffix(got, `"error":"ValidationError","supersededBy":"1-0-2"}`) {
		t.Errorf("encoding %s lacks supersededBy", got)
	}
	// Not superseded: no info.
	v, err = r.Validate(ctx, mustKey(t, "iglu:com.acme/evt/jsonschema/1-0-2"), mustDecode(t, `{}`))
	if err != nil || !v.SupersededBy.IsZero() {
		t.Errorf("Validate(evt 1-0-2) = %+v, %v; want valid, not superseded", v, err)
	}
	// A superseding version of another model is a schema issue.
	_, err = r.Validate(ctx, mustKey(t, "iglu:com.acme/bad/jsonschema/1-0-0"), mustDecode(t, `{}`))
	if !errors.As(err, &ce) || len(ce.SchemaIssues) == 0 {
		t.Errorf("Validate(bad) = %v, want schema issues", err)
	}
	// A superseding version that cannot be found is a resolution error for it.
	_, err = r.Validate(ctx, mustKey(t, "iglu:com.acme/gone/jsonschema/1-0-0"), mustDecode(t, `{}`))
	if !errors.As(err, &ce) || ce.Kind != ResolutionError {
		t.Errorf("Validate(gone) = %v, want a ResolutionError", err)
	}
}

func TestValidateInvalidSchema(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/a/jsonschema/1-0-0": selfDesc("com.acme", "a", "1-0-0", `"type":"object","properties":{"x":{"type":"strin"}}`),
		"com.acme/b/jsonschema/1-0-0": selfDesc("com.acme", "b", "1-0-0", `"type":"object","properties":{"x":{"$ref":"#/definitions/missing"}}`),
		"com.acme/c/jsonschema/1-0-0": `[1,2]`,
		"com.acme/d/jsonschema/1-0-0": `{"type":`,
		"com.acme/e/jsonschema/1-0-0": selfDesc("com.acme", "e", "1-0-0", `"type":"object","properties":{"x":{"minLength":-1}}`),
	})
	r := newTestResolver(t, offlineConfig(dir), nil)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Validate(context.Background(), mustKey(t, "iglu:com.acme/"+name+"/jsonschema/1-0-0"), mustDecode(t, `{"x":"y"}`))
			var ce *ClientError
			if !errors.As(err, &ce) || ce.Kind != ValidationError || len(ce.SchemaIssues) == 0 || len(ce.DataReports) != 0 {
				t.Fatalf("Validate(%s) = %v, want a ValidationError with schema issues", name, err)
			}
			if !strings.HasPrefix(string(ce.AppendJSON(nil)), `{"schemaIssues":[{"path":"$`) {
				t.Errorf("encoding = %s", ce.AppendJSON(nil))
			}
		})
	}
	// The issue points at the broken keyword.
	_, err := r.Validate(context.Background(), mustKey(t, "iglu:com.acme/a/jsonschema/1-0-0"), mustDecode(t, `{}`))
	var ce *ClientError
	if errors.As(err, &ce) && !strings.HasPrefix(ce.SchemaIssues[0].Path, "$.properties.x.type") {
		t.Errorf("schema issue path = %q, want $.properties.x.type", ce.SchemaIssues[0].Path)
	}
}

func TestValidateAcceptsSnowplowShapes(t *testing.T) {
	r := newTestResolver(t, offlineConfig(), nil)
	ctx := context.Background()
	tests := []struct {
		key, instance string
		valid         bool
	}{
		{"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", `[{"e":"pv","p":"web","tv":"js-3.0.0","url":"https://a.com/"}]`, true},
		{"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", `[{"e":"pv","p":"web","tv":"js","cv":"x"}]`, false},
		{"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", `[{"e":"pv","p":"web"}]`, false},
		{"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", `[]`, false},
		{"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", `[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"6f1c6c8e-7f0c-4c7f-9a0e-1e2f3a4b5c6d"}}]`, true},
		{"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", `[]`, false},
		{"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1", `[]`, true},
		{"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}`, true},
		{"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0", `{"schema":"iglu:com.acme/x/jsonschema/1-0-0"}`, false},
		{"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", `{"id":"not-a-uuid"}`, false},
		{"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1", `{"targetUrl":"https://a.com"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.instance, func(t *testing.T) {
			_, err := r.Validate(ctx, mustKey(t, tt.key), mustDecode(t, tt.instance))
			if (err == nil) != tt.valid {
				t.Errorf("Validate(%s, %s) = %v, want valid=%v", tt.key, tt.instance, err, tt.valid)
			}
		})
	}
}

func TestCheckSchemaAllEmbedded(t *testing.T) {
	r := newTestResolver(t, offlineConfig(), nil)
	err := (&fsBackend{fsys: EmbeddedSchemas()}).walk(func(k SchemaKey) error {
		s, err := r.Lookup(context.Background(), k)
		if err != nil {
			t.Errorf("Lookup(%s) = %v", k, err)
			return nil
		}
		if err := r.CheckSchema(s.Raw); err != nil {
			t.Errorf("CheckSchema(%s) = %v", k, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
