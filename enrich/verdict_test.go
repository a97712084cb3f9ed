package enrich

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/enrichments"
	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// countingResolver counts the validations against com.acme schemas.
type countingResolver struct {
	*iglu.Resolver
	acme atomic.Int64
}

// ValidText counts too: telling an instance valid from its text is validating it.
func (r *countingResolver) ValidText(ctx context.Context, key iglu.SchemaKey, instance string) (iglu.Validation, bool) {
	v, ok := r.Resolver.ValidText(ctx, key, instance)
	if ok && key.Vendor == "com.acme" {
		r.acme.Add(1)
	}
	return v, ok
}

func (r *countingResolver) Validate(ctx context.Context, key iglu.SchemaKey, instance any) (iglu.Validation, error) {
	if key.Vendor == "com.acme" {
		r.acme.Add(1)
	}
	return r.Resolver.Validate(ctx, key, instance)
}

// TestVerdictCache checks that contexts and derived contexts found valid in two earlier
// records are not validated again (a pair is kept the second time), that invalid ones
// always are, and that nothing changes in the events.
func TestVerdictCache(t *testing.T) {
	ctxOf := func(data string) string {
		return `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":` + data + `}]}`
	}
	derived := &fakeEnrichments{res: enrichments.Result{Derived: []event.SelfDescribing{{Schema: "iglu:com.acme/derived/jsonschema/1-0-0", Data: []byte(`{"v":"x"}`)}}}}
	tests := []struct {
		name string
		size int
		co   string
		// validations is how many com.acme validations three identical records take.
		validations int64
		good        bool
	}{
		{"valid", 8192, ctxOf(`{"a":"1"}`), 4, true},
		{"valid, cache off", 0, ctxOf(`{"a":"1"}`), 6, true},
		// A hit gives the data as printed for the second record, not as received.
		{"valid, not printed canonically", 8192, ctxOf(`{ "a" : "\u0031", "b":null }`), 4, true},
		{"invalid", 8192, ctxOf(`{"a":1}`), 5, false}, // the derived context is remembered
		{"data too large to remember", 8192, ctxOf(`{"a":"` + strings.Repeat("x", maxVerdictKey) + `"}`), 5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &countingResolver{Resolver: testResolver(t, schemaDir(t, acmeSchemas))}
			e := newTestEnricher(t, res, func(c *Config, d *Deps) {
				c.ValidationCacheSize = tt.size
				d.Enrichments = derived
			})
			rec := encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "co": {tt.co}})))
			// Records differ only in their generated event id.
			seqID := regexp.MustCompile(`00000000-0000-4000-8000-0000000000\d\d`)
			outputs := func(r Result) string {
				var b strings.Builder
				for _, g := range r.Good {
					b.Write(g.TSV)
				}
				for _, x := range r.Bad {
					b.Write(x.JSON)
				}
				return seqID.ReplaceAllString(b.String(), "ID")
			}
			var first string
			for i := range 3 {
				r := process(t, e, rec)
				if got := len(r.Good) == 1 && len(r.Bad) == 0; got != tt.good {
					t.Fatalf("record %d: %d good, %d bad, want good %v", i, len(r.Good), len(r.Bad), tt.good)
				}
				if i == 0 {
					first = outputs(r)
				} else if diff := cmp.Diff(first, outputs(r)); diff != "" {
					t.Errorf("record %d differs from the first (-first +got):\n%s", i, diff)
				}
			}
			if got := res.acme.Load(); got != tt.validations {
				t.Errorf("com.acme validations = %d, want %d", got, tt.validations)
			}
		})
	}
}

// TestVerdictCacheDerivedThenInput checks that a pair remembered as a derived context
// (whose canonical data the cache does not hold) gives the right entity when it comes
// back as an input context.
func TestVerdictCacheDerivedThenInput(t *testing.T) {
	res := &countingResolver{Resolver: testResolver(t, schemaDir(t, acmeSchemas))}
	e := newTestEnricher(t, res, func(_ *Config, d *Deps) {
		d.Enrichments = &fakeEnrichments{res: enrichments.Result{Derived: []event.SelfDescribing{{Schema: "iglu:com.acme/derived/jsonschema/1-0-0", Data: []byte(`{"v":"x"}`)}}}}
	})
	// Two records: the derived context is kept the second time it is found valid.
	for i := range 2 {
		if r := process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}})))); len(r.Good) != 1 {
			t.Fatalf("record %d: %d good, bad %v, want 1 good", i, len(r.Good), r.Bad)
		}
	}
	co := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":"x"}}]}`
	r := process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "co": {co}}))))
	if len(r.Good) != 1 {
		t.Fatalf("record with the context as input: %d good, bad %v, want 1 good", len(r.Good), r.Bad)
	}
	want := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/derived/jsonschema/1-0-0","data":{"v":"x"}}]}`
	if got := r.Good[0].Event.Fields[event.Contexts]; got != want {
		t.Errorf("contexts = %s, want %s", got, want)
	}
	if got := res.acme.Load(); got != 2 {
		t.Errorf("com.acme validations = %d, want 2", got)
	}
}

// TestVerdictCacheSchemaChange checks that a remembered verdict is not used once the key
// resolves to another schema: here a local schema edited while enrich runs.
func TestVerdictCacheSchemaChange(t *testing.T) {
	dir := schemaDir(t, acmeSchemas)
	var clock atomic.Int64
	clock.Store(testNow.UnixNano())
	cfg := iglu.DefaultConfig()
	cfg.Repositories = nil
	cfg.SchemaDirs = []string{dir}
	res, err := iglu.NewResolver(cfg, iglu.ResolverDeps{Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	derivedData := `{"v":"x"}`
	e := newTestEnricher(t, res, func(_ *Config, d *Deps) {
		d.Enrichments = &fakeEnrichments{res: enrichments.Result{Derived: []event.SelfDescribing{{Schema: "iglu:com.acme/derived/jsonschema/1-0-0", Data: []byte(derivedData)}}}}
	})
	co := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"a":"1"}}]}`
	rec := encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "co": {co}})))
	for i := range 2 {
		if r := process(t, e, rec); len(r.Good) != 1 {
			t.Fatalf("record %d before the edit: %d good, bad %v, want 1 good", i, len(r.Good), r.Bad)
		}
	}

	// Both schemas now refuse what they accepted.
	edits := map[string]string{
		"com.acme/button/jsonschema/1-0-0":  selfDescSchema("com.acme", "button", "1-0-0", `"type":"object","properties":{"a":{"type":"integer"}}`),
		"com.acme/derived/jsonschema/1-0-0": selfDescSchema("com.acme", "derived", "1-0-0", `"type":"object","properties":{"v":{"type":"integer"}}`),
	}
	for p, body := range edits {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(int64(cfg.LocalRecheck + time.Second))
	r := process(t, e, rec)
	if len(r.Good) != 0 || len(r.Bad) != 1 {
		t.Fatalf("after the edit: %d good, %d bad, want 1 bad row", len(r.Good), len(r.Bad))
	}
	for _, want := range []string{`"iglu:com.acme/button/jsonschema/1-0-0"`} {
		if !strings.Contains(string(r.Bad[0].JSON), want) {
			t.Errorf("bad row = %s, want it to name %s", r.Bad[0].JSON, want)
		}
	}

	// The button context is valid again; the derived context still is not.
	co2 := strings.Replace(co, `"1"`, `1`, 1)
	r = process(t, e, encodePayload(t, collectorPayload(get("/i", url.Values{"e": {"pv"}, "p": {"web"}, "tv": {"t"}, "co": {co2}}))))
	if len(r.Good) != 0 || len(r.Bad) != 1 || !strings.Contains(string(r.Bad[0].JSON), `"iglu:com.acme/derived/jsonschema/1-0-0"`) {
		t.Fatalf("derived context after the edit: %d good, bad %v, want a schema violation of com.acme/derived", len(r.Good), r.Bad)
	}
}

func TestValidationCacheSizeConfig(t *testing.T) {
	for _, tt := range []struct {
		size    int
		wantErr bool
	}{{-1, true}, {0, false}, {1, false}, {8192, false}} {
		c := DefaultConfig()
		c.ValidationCacheSize = tt.size
		err := c.Validate()
		if got := err != nil && strings.Contains(err.Error(), "enrich.validationCacheSize:"); got != tt.wantErr {
			t.Errorf("Validate() with validationCacheSize %d = %v, want error %v", tt.size, err, tt.wantErr)
		}
	}
}
