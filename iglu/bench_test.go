package iglu

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schema20 is a 20-property event schema of the usual kinds of members.
func schema20() (string, string) {
	var props, values []string
	for i := 0; i < 20; i++ {
		switch i % 4 {
		case 0:
			props = append(props, fmt.Sprintf(`"s%d":{"type":"string","maxLength":255}`, i))
			values = append(values, fmt.Sprintf(`"s%d":"value %d"`, i, i))
		case 1:
			props = append(props, fmt.Sprintf(`"i%d":{"type":["integer","null"],"minimum":0,"maximum":2147483647}`, i))
			values = append(values, fmt.Sprintf(`"i%d":%d`, i, i*1000))
		case 2:
			props = append(props, fmt.Sprintf(`"n%d":{"type":"number","minimum":-1000,"maximum":1000}`, i))
			values = append(values, fmt.Sprintf(`"n%d":%d.5`, i, i))
		case 3:
			props = append(props, fmt.Sprintf(`"e%d":{"type":"string","enum":["a","b","c"]}`, i))
			values = append(values, fmt.Sprintf(`"e%d":"b"`, i))
		}
	}
	schema := selfDesc("com.acme", "wide", "1-0-0", `"type":"object","additionalProperties":false,"required":["s0","e3"],"properties":{`+strings.Join(props, ",")+`}`)
	return schema, "{" + strings.Join(values, ",") + "}"
}

func benchResolver(b *testing.B) *Resolver {
	schema, _ := schema20()
	dir := writeSchemas(b, map[string]string{"com.acme/wide/jsonschema/1-0-0": schema})
	cfg := offlineConfig(dir)
	cfg.LocalRecheck = 1 << 62 // keep the local schema cached for the whole run
	return newTestResolver(b, cfg, nil)
}

func benchValidate(b *testing.B, key, instance string) {
	r := benchResolver(b)
	k := mustKey(b, key)
	v := mustDecode(b, instance)
	ctx := context.Background()
	if _, err := r.Validate(ctx, k, v); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Validate(ctx, k, v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateWebPage(b *testing.B) {
	benchValidate(b, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", `{"id":"6f1c6c8e-7f0c-4c7f-9a0e-1e2f3a4b5c6d"}`)
}

func BenchmarkValidateClientSession(b *testing.B) {
	benchValidate(b, "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
		`{"userId":"6f1c6c8e-7f0c-4c7f-9a0e-1e2f3a4b5c6d","sessionId":"a1b2c3d4-7f0c-4c7f-9a0e-1e2f3a4b5c6d","sessionIndex":3,"eventIndex":12,"previousSessionId":null,"storageMechanism":"COOKIE_1","firstEventId":"b1b2c3d4-7f0c-4c7f-9a0e-1e2f3a4b5c6d","firstEventTimestamp":"2024-03-01T12:00:00.123Z"}`)
}

func BenchmarkValidate20Properties(b *testing.B) {
	_, instance := schema20()
	benchValidate(b, "iglu:com.acme/wide/jsonschema/1-0-0", instance)
}

// BenchmarkValidate20PropertiesLibrary is the validator library alone on the same
// schema and instance: the floor Validate is measured against.
func BenchmarkValidate20PropertiesLibrary(b *testing.B) {
	schema, instance := schema20()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	if err := c.AddResource("http://x.invalid/s.json", strings.NewReader(strings.Replace(schema, MetaSchemaURI, "http://json-schema.org/draft-04/schema#", 1))); err != nil {
		b.Fatal(err)
	}
	s, err := c.Compile("http://x.invalid/s.json")
	if err != nil {
		b.Fatal(err)
	}
	v := mustDecode(b, instance)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateInvalid20Properties(b *testing.B) {
	_, instance := schema20()
	instance = strings.Replace(instance, `"s0":"value 0"`, `"s0":0`, 1)
	r := benchResolver(b)
	k := mustKey(b, "iglu:com.acme/wide/jsonschema/1-0-0")
	v := mustDecode(b, instance)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Validate(context.Background(), k, v); err == nil {
			b.Fatal("valid")
		}
	}
}

func BenchmarkLookupCacheHit(b *testing.B) {
	r := benchResolver(b)
	k := mustKey(b, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
	ctx := context.Background()
	if _, err := r.Lookup(ctx, k); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Lookup(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookupCacheHitParallel(b *testing.B) {
	r := benchResolver(b)
	k := mustKey(b, "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0")
	ctx := context.Background()
	if _, err := r.Lookup(ctx, k); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := r.Lookup(ctx, k); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkParseSchemaKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSchemaKey("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConcurrentValidate runs lookups and validations of the same and of different
// keys from many goroutines (meaningful under -race): one compiled validator per
// schema, no lost results.
func TestConcurrentValidate(t *testing.T) {
	r := newTestResolver(t, offlineConfig(), nil)
	keys := []string{
		"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
		"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
		"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
		"iglu:com.acme/missing/jsonschema/1-0-0",
	}
	parsed := make([]SchemaKey, len(keys))
	for i, k := range keys {
		parsed[i] = mustKey(t, k)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := parsed[(g+i)%len(parsed)]
				_, err := r.Validate(context.Background(), k, map[string]any{})
				if err == nil {
					errs <- fmt.Errorf("Validate(%s, {}) = nil, every key should fail on {}", k)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s1, _ := r.Lookup(context.Background(), mustKey(t, keys[0]))
	s2, _ := r.Lookup(context.Background(), mustKey(t, keys[0]))
	if s1 != s2 || s1.v == nil {
		t.Errorf("the cached schema changed or was never compiled")
	}
}
