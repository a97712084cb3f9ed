package iglu

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// snowplowResolverJSON is a resolver.json in the shape Snowplow ships with enrich.
const snowplowResolverJSON = `{
  "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
  "data": {
    "cacheSize": 500,
    "cacheTtl": 600,
    "repositories": [
      {
        "name": "Iglu Central",
        "priority": 0,
        "vendorPrefixes": [ "com.snowplowanalytics" ],
        "connection": { "http": { "uri": "http://iglucentral.com" } }
      },
      {
        "name": "Iglu Central - Mirror 01",
        "priority": 1,
        "vendorPrefixes": [ "com.snowplowanalytics" ],
        "connection": { "http": { "uri": "http://mirror01.iglucentral.com" } }
      },
      {
        "name": "Local Iglu Server",
        "priority": 2,
        "vendorPrefixes": [ "com.acme" ],
        "connection": { "http": { "uri": "http://localhost:8081/api", "apikey": "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b" } }
      },
      {
        "name": "Embedded",
        "priority": 3,
        "vendorPrefixes": [],
        "connection": { "embedded": { "path": "/iglu-embedded" } }
      }
    ]
  }
}`

func TestParseResolverConfig(t *testing.T) {
	cfg, err := ParseResolverConfig([]byte(snowplowResolverJSON))
	if err != nil {
		t.Fatal(err)
	}
	key := "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	want := DefaultConfig()
	want.Repositories = []RepositoryConfig{
		{Name: "Iglu Central", Priority: 0, VendorPrefixes: []string{"com.snowplowanalytics"}, Connection: ConnectionConfig{HTTP: &HTTPConnection{URI: "http://iglucentral.com"}}},
		{Name: "Iglu Central - Mirror 01", Priority: 1, VendorPrefixes: []string{"com.snowplowanalytics"}, Connection: ConnectionConfig{HTTP: &HTTPConnection{URI: "http://mirror01.iglucentral.com"}}},
		{Name: "Local Iglu Server", Priority: 2, VendorPrefixes: []string{"com.acme"}, Connection: ConnectionConfig{HTTP: &HTTPConnection{URI: "http://localhost:8081/api", APIKey: &key}}},
		{Name: "Embedded", Priority: 3, VendorPrefixes: []string{}, Connection: ConnectionConfig{Embedded: &EmbeddedConnection{Path: "/iglu-embedded"}}},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("ParseResolverConfig (-want +got):\n%s", diff)
	}

	// The embedded connection serves the embedded core set, under its own name.
	r, err := NewResolver(cfg, ResolverDeps{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Lookup(context.Background(), mustKey(t, "iglu:com.acme/none/jsonschema/1-0-0"))
	ce := resolutionError(t, err)
	embedded := historyOf(t, ce, "Embedded")
	if embedded.Errors[0].Kind != NotFound {
		t.Errorf("Embedded repository history = %+v, want NotFound", embedded)
	}
}

func TestParseResolverConfigVersions(t *testing.T) {
	repo := `"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example"}}}]`
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(t *testing.T, cfg ResolverConfig)
	}{
		{name: "1-0-0", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0","data":{"cacheSize":5,` + repo + `}}`,
			check: func(t *testing.T, cfg ResolverConfig) {
				if cfg.CacheSize != 5 || cfg.CacheTTL != nil {
					t.Errorf("cacheSize %d cacheTtl %v, want 5 and no expiry", cfg.CacheSize, cfg.CacheTTL)
				}
			}},
		{name: "1-0-0 has no cacheTtl", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0","data":{"cacheSize":5,"cacheTtl":10,` + repo + `}}`, wantErr: "cacheTtl: is not defined"},
		{name: "1-0-0 has no apikey", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example","apikey":null}}}]}}`, wantErr: "not valid"},
		{name: "1-0-1 apikey null", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example","apikey":null}}}]}}`,
			check: func(t *testing.T, cfg ResolverConfig) {
				if cfg.Repositories[0].Connection.HTTP.APIKey != nil {
					t.Errorf("apikey = %v, want nil", *cfg.Repositories[0].Connection.HTTP.APIKey)
				}
			}},
		{name: "1-0-2 ttl 0 invalid", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-2","data":{"cacheSize":5,"cacheTtl":0,` + repo + `}}`, wantErr: "minimum value of 1"},
		{name: "1-0-3 ttl null", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5.0,"cacheTtl":null,"repositories":[{"name":"R","priority":1.0,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example"}}}]}}`,
			check: func(t *testing.T, cfg ResolverConfig) {
				if cfg.CacheSize != 5 || cfg.CacheTTL != nil || cfg.Repositories[0].Priority != 1 {
					t.Errorf("got %+v", cfg)
				}
			}},
		{name: "fractional priority", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5,"repositories":[{"name":"R","priority":1.5,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example"}}}]}}`, wantErr: "must be a whole number"},
		{name: "both connections", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"http://r.example"},"embedded":{"path":"/x"}}}]}}`, wantErr: "connection.http: is not defined in the schema"},
		{name: "missing vendorPrefixes", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"connection":{"http":{"uri":"http://r.example"}}}]}}`, wantErr: "vendorPrefixes: is missing"},
		{name: "cacheSize 0", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":0,` + repo + `}}`, wantErr: "iglu.cacheSize: must be at least 1"},
		{name: "relative uri", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"/schemas"}}}]}}`, wantErr: "does not match the uri pattern"},
		{name: "ftp uri", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":5,"repositories":[{"name":"R","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"ftp://r.example/"}}}]}}`, wantErr: "must be an absolute http(s) URL"},
		{name: "unknown version", in: `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-9","data":{}}`, wantErr: "unsupported version 1-0-9"},
		{name: "other schema", in: `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}`, wantErr: "does not match"},
		{name: "not self-describing", in: `{"cacheSize":5}`, wantErr: "INVALID_DATA_PAYLOAD"},
		{name: "not JSON", in: `{`, wantErr: "not valid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseResolverConfig([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseResolverConfig(%s) = %v, want an error containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseResolverConfig(%s) = %v", tt.in, err)
			}
			tt.check(t, cfg)
		})
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
}

func FuzzParseResolverConfig(f *testing.F) {
	f.Add([]byte(snowplowResolverJSON))
	f.Add([]byte(`{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":1,"repositories":[]}}`))
	f.Add([]byte(`{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3","data":{"cacheSize":1e3,"cacheTtl":null,"repositories":[{"name":"","priority":-1,"vendorPrefixes":[""],"connection":{"embedded":{"path":""}}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseResolverConfig(data)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ParseResolverConfig(%q) returned a config that does not validate: %v", data, err)
		}
	})
}
