package iglu

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
)

func newTestServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	dir := writeSchemas(t, map[string]string{
		"com.acme/button/jsonschema/1-0-0":      selfDesc("com.acme", "button", "1-0-0", `"type":"object","properties":{"id":{"type":"string"}},"required":["id"]`),
		"com.acme/button/jsonschema/1-0-1.json": selfDesc("com.acme", "button", "1-0-1", `"type":"object"`),
		"com.acme/button/jsonschema/2-0-0":      `{"type":"object","description":"bare, no self"}`,
	})
	r := newTestResolver(t, offlineConfig(dir), newTestClock())
	router := chi.NewRouter()
	api, err := NewServer(r, ServerConfig{Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	api.Register(router)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv, dir
}

func call(t *testing.T, method, url, body string) (int, string, http.Header) {
	t.Helper()
	return callKey(t, method, url, "", body)
}

// callKey sends a request with the apikey header when key is not empty.
func callKey(t *testing.T, method, url, key, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSuffix(string(b), "\n"), resp.Header
}

func TestServerSchemas(t *testing.T) {
	srv, _ := newTestServer(t)
	u := srv.URL
	tests := []struct {
		name, method, path, body string
		status                   int
		want                     string // exact body, or prefix when ending with …
	}{
		{name: "list vendor", method: "GET", path: "/api/schemas/com.acme", status: 200,
			want: `["iglu:com.acme/button/jsonschema/1-0-0","iglu:com.acme/button/jsonschema/1-0-1","iglu:com.acme/button/jsonschema/2-0-0"]`},
		{name: "list name", method: "GET", path: "/api/schemas/com.acme/button?repr=uri", status: 200,
			want: `["iglu:com.acme/button/jsonschema/1-0-0","iglu:com.acme/button/jsonschema/1-0-1","iglu:com.acme/button/jsonschema/2-0-0"]`},
		{name: "list model", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/1", status: 200,
			want: `["iglu:com.acme/button/jsonschema/1-0-0","iglu:com.acme/button/jsonschema/1-0-1"]`},
		{name: "list embedded", method: "GET", path: "/api/schemas/com.snowplowanalytics.snowplow/client_session/jsonschema/1", status: 200,
			want: `["iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-0","iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1","iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2"]`},
		{name: "list none", method: "GET", path: "/api/schemas/com.nobody", status: 404, want: `{"message":"No schemas available"}`},
		{name: "bad repr", method: "GET", path: "/api/schemas?repr=xml", status: 400, want: `{"message":"Invalid repr…`},
		{name: "get canonical", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/1-0-0", status: 200,
			want: `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"button","format":"jsonschema","version":"1-0-0"},"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`},
		{name: "get adds self", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/2-0-0", status: 200,
			want: `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"button","format":"jsonschema","version":"2-0-0"},"type":"object","description":"bare, no self"}`},
		{name: "get meta", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/1-0-1?repr=meta", status: 200,
			want: `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"button","format":"jsonschema","version":"1-0-1"},"metadata":{"createdAt":"…`},
		{name: "get other format route", method: "GET", path: "/api/schemas/com.acme/button/thrift/1-0-0", status: 404, want: `{"message":"The schema is not found"}`},
		{name: "get missing", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/1-0-9", status: 404, want: `{"message":"The schema is not found"}`},
		{name: "get bad version", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/1-0-x", status: 400, want: `{"message":"invalid Iglu URI…`},
		{name: "health", method: "GET", path: "/api/meta/health", status: 200, want: "OK"},
		{name: "server", method: "GET", path: "/api/meta/server", status: 200, want: `{"version":"9.9.9","authInfo":{"vendor":"","schema":null,"key":[]},"database":"inmemory","schemaCount":…`},
		{name: "list all", method: "GET", path: "/api/schemas/com.acme/button/jsonschema/9", status: 404, want: `{"message":"No schemas available"}`},
		{name: "publish refused", method: "POST", path: "/api/schemas", body: `{}`, status: 405, want: `{"message":"This schema registry is read-only…`},
		{name: "put refused", method: "PUT", path: "/api/schemas/com.acme/button/jsonschema/1-0-2", body: `{}`, status: 405, want: `{"message":"This schema registry is read-only…`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := call(t, tt.method, u+tt.path, tt.body)
			if status != tt.status {
				t.Errorf("%s %s status = %d, want %d (body %s)", tt.method, tt.path, status, tt.status, body)
			}
			if p, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(body, p) {
					t.Errorf("%s %s body = %s, want prefix %s", tt.method, tt.path, body, p)
				}
			} else if body != tt.want {
				t.Errorf("%s %s body =\n%s\nwant\n%s", tt.method, tt.path, body, tt.want)
			}
		})
	}
}

func TestServerListRepr(t *testing.T) {
	srv, _ := newTestServer(t)
	status, body, _ := call(t, "GET", srv.URL+"/api/schemas?repr=canonical", "")
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(body), &docs); err != nil {
		t.Fatal(err)
	}
	// Every embedded schema plus the three local ones.
	if len(docs) < 60 {
		t.Errorf("GET /api/schemas?repr=canonical returned %d schemas", len(docs))
	}
	for _, d := range docs {
		if d["$schema"] != MetaSchemaURI || d["self"] == nil {
			t.Errorf("schema without $schema/self: %v", d)
		}
	}
	_, body, _ = call(t, "GET", srv.URL+"/api/schemas/com.acme/button?repr=meta", "")
	var metas []struct {
		Self     map[string]string `json:"self"`
		Metadata struct {
			CreatedAt string `json:"createdAt"`
			IsPublic  bool   `json:"isPublic"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(body), &metas); err != nil {
		t.Fatal(err)
	}
	if len(metas) != 3 || metas[0].Self["version"] != "1-0-0" || !metas[0].Metadata.IsPublic || metas[0].Metadata.CreatedAt == "" {
		t.Errorf("repr=meta = %s", body)
	}
}

func TestServerValidation(t *testing.T) {
	srv, _ := newWritableServer(t, false)
	tests := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{name: "valid schema", path: "/api/validation/validate/schema/jsonschema", status: 200,
			body: selfDesc("com.acme", "x", "1-0-0", `"description":"d","type":"object","properties":{"a":{"type":"null","description":"a"}}`),
			want: `{"message":"The schema provided is a valid self-describing iglu:com.acme/x/jsonschema/1-0-0 schema"}`},
		{name: "not self-describing", path: "/api/validation/validate/schema/jsonschema", status: 200,
			body: `{"$schema":"` + MetaSchemaURI + `","type":"object"}`,
			want: `{"message":"The schema does not conform to a JSON Schema v4 specification","report":[{"message":"At the root level, the schema should have a \"type\" property set to \"object\" and have a \"properties\" property","level":"WARNING","pointer":"/"},{"message":"The schema is missing the \"description\" property","level":"INFO","pointer":"/"},{"message":"JSON Schema is not self-describing","level":"ERROR","pointer":"/"}]}`},
		{name: "bad keyword", path: "/api/validation/validate/schema/jsonschema", status: 200,
			body: selfDesc("com.acme", "x", "1-0-0", `"type":"object","properties":{"a":{"maxLength":"5"}}`),
			want: `{"message":"The schema does not conform to a JSON Schema v4 specification","report":[{"message":"$.properties.a.maxLength: …`},
		{name: "not JSON", path: "/api/validation/validate/schema/jsonschema", status: 400, body: `{`, want: `{"message":"The request body is invalid JSON"}`},
		{name: "valid instance", path: "/api/validation/validate/instance", status: 200,
			body: `{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"id":"x"}}`,
			want: `{"message":"Instance is valid iglu:com.acme/button/jsonschema/1-0-0"}`},
		{name: "invalid instance", path: "/api/validation/validate/instance", status: 200,
			body: `{"schema":"iglu:com.acme/button/jsonschema/1-0-0","data":{"id":1}}`,
			want: `{"message":"The data for a field instance is invalid against its schema","report":[{"message":"$.id: integer found, string expected","path":"$.id","keyword":"type","targets":["integer","string"]}]}`},
		{name: "unknown schema", path: "/api/validation/validate/instance", status: 404,
			body: `{"schema":"iglu:com.acme/none/jsonschema/1-0-0","data":{}}`, want: `{"message":"The schema is not found"}`},
		{name: "not SDJ", path: "/api/validation/validate/instance", status: 400,
			body: `{"data":{}}`, want: `{"message":"JSON payload is not self-describing, INVALID_DATA_PAYLOAD"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := callKey(t, "POST", srv.URL+tt.path, testSuperKey, tt.body)
			if status != tt.status {
				t.Errorf("POST %s status = %d, want %d (%s)", tt.path, status, tt.status, body)
			}
			if p, ok := strings.CutSuffix(tt.want, "…"); ok {
				if !strings.HasPrefix(body, p) {
					t.Errorf("POST %s body = %s, want prefix %s", tt.path, body, p)
				}
			} else if body != tt.want {
				t.Errorf("POST %s body =\n%s\nwant\n%s", tt.path, body, tt.want)
			}
		})
	}
}

// TestLookupMissMicroJSON checks the 404 body web serves at /micro/iglu for a schema
// no repository has, from a real lookup.
func TestLookupMissMicroJSON(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/button/jsonschema/1-0-0": selfDesc("com.acme", "button", "1-0-0", `"type":"object"`),
	})
	r := newTestResolver(t, offlineConfig(dir), newTestClock())
	_, err := r.Lookup(context.Background(), SchemaKey{Vendor: "com.acme", Name: "none", Format: "jsonschema", Version: SchemaVer{Model: 1}})
	var ce *ClientError
	if !errors.As(err, &ce) {
		t.Fatalf("Lookup of a missing schema = %v, want a *ClientError", err)
	}
	var got struct {
		Value map[string]struct {
			Errors      []map[string]string `json:"errors"`
			Attempts    int                 `json:"attempts"`
			LastAttempt string              `json:"lastAttempt"`
		} `json:"value"`
	}
	body := ce.MicroJSON()
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("MicroJSON() = %s: %v", body, err)
	}
	var repos []string
	for name, h := range got.Value {
		repos = append(repos, name)
		if h.Attempts != 1 || h.LastAttempt != "2024-03-01T12:00:00.000Z" || len(h.Errors) != 1 || h.Errors[0]["error"] != "NotFound" {
			t.Errorf("%s: %+v", name, h)
		}
	}
	if len(repos) != 2 {
		t.Errorf("repositories in MicroJSON() = %v, want the embedded set and the local folder", repos)
	}
}

func TestJSONPathToPointer(t *testing.T) {
	tests := map[string]string{
		"$":                       "/",
		"$.a.b":                   "/a/b",
		"$.a[0].b":                "/a/0/b",
		"$['odd key'].x":          "/odd key/x",
		"$['it\\'s']":             "/it's",
		"$.properties.a~b['c/d']": "/properties/a~0b/c~1d",
	}
	for in, want := range tests {
		if got := jsonPathToPointer(in); got != want {
			t.Errorf("jsonPathToPointer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestObjectMembersKeepsOrder(t *testing.T) {
	ms, err := objectMembers([]byte(`{"z":1, "a": {"b" : [1, 2]}, "m":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.key+"="+string(m.value))
	}
	if diff := cmp.Diff([]string{`z=1`, `a={"b":[1,2]}`, `m="x"`}, got); diff != "" {
		t.Errorf("objectMembers (-want +got):\n%s", diff)
	}
}

// A schema file that cannot be read is a 500 that says what failed, not where: the
// path stays in the log.
func TestServerInternalErrorsDoNotLeakPaths(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"schemas/com.acme/button/jsonschema/1-0-0": selfDesc("com.acme", "button", "1-0-0", `"type":"object"`),
	})
	// A schema that is not JSON cannot be rendered.
	if err := os.WriteFile(filepath.Join(dir, "schemas/com.acme/button/jsonschema/1-0-1"), []byte(`{"self":`), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newTestResolver(t, offlineConfig(dir), newTestClock())
	router := chi.NewRouter()
	api, err := NewServer(r, ServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	api.Register(router)
	srv := httptest.NewServer(router)
	defer srv.Close()
	for _, path := range []string{"/api/schemas/com.acme/button/jsonschema/1-0-1", "/api/schemas/com.acme/button?repr=canonical"} {
		status, body, _ := call(t, http.MethodGet, srv.URL+path, "")
		if status != http.StatusInternalServerError || strings.Contains(body, dir) || !strings.Contains(body, "server log") {
			t.Errorf("GET %s = %d %s, want 500 without the path %s", path, status, body, dir)
		}
	}
}
