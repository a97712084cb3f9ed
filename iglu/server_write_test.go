package iglu

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

const testSuperKey = "5f8e4a1e-3d2b-4c6a-9f0e-1b2c3d4e5f60"

// openTestStore opens a SchemaStore in a new SQLite file.
func openTestStore(t *testing.T) SchemaStore {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "iglu.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	st, err := NewSQLStore(context.Background(), db, DialectSQLite, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// newWritableServer serves the local schemas of newTestServer and a store, with the
// super key testSuperKey.
func newWritableServer(t *testing.T, patches bool) (*httptest.Server, *Resolver) {
	t.Helper()
	return newServerWith(t, openTestStore(t), testSuperKey, patches)
}

func newServerWith(t *testing.T, store SchemaStore, superKey string, patches bool) (*httptest.Server, *Resolver) {
	t.Helper()
	dir := writeSchemas(t, map[string]string{
		"com.acme/button/jsonschema/1-0-0": selfDesc("com.acme", "button", "1-0-0", `"type":"object","properties":{"id":{"type":"string"}},"required":["id"]`),
	})
	r, err := NewResolver(offlineConfig(dir), ResolverDeps{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	api, err := NewServer(r, ServerConfig{Version: "9.9.9", SuperAPIKey: superKey, PatchesAllowed: patches, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	router := chi.NewRouter()
	api.Register(router)
	srv := httptest.NewServer(router)
	t.Cleanup(srv.Close)
	return srv, r
}

// goodSchema is a lint-clean schema of com.acme/<name> at version.
func goodSchema(vendor, name, version string) string {
	return selfDesc(vendor, name, version, `"description":"d","type":"object","properties":{"a":{"type":"string","maxLength":8,"description":"a"}},"required":["a"],"additionalProperties":false`)
}

func bareSchema() string {
	return `{"description":"d","type":"object","properties":{"a":{"type":"string","maxLength":8,"description":"a"}},"required":["a"],"additionalProperties":false}`
}

type step struct {
	name, method, path, key, body string
	status                        int
	want                          string // exact body, or prefix when ending with …
}

func runSteps(t *testing.T, base string, steps []step) {
	t.Helper()
	for _, st := range steps {
		status, body, _ := callKey(t, st.method, base+st.path, st.key, st.body)
		if status != st.status {
			t.Errorf("%s: %s %s status = %d, want %d (body %s)", st.name, st.method, st.path, status, st.status, body)
		}
		if p, ok := strings.CutSuffix(st.want, "…"); ok {
			if !strings.HasPrefix(body, p) {
				t.Errorf("%s: %s %s body = %s, want prefix %s", st.name, st.method, st.path, body, p)
			}
		} else if st.want != "" && body != st.want {
			t.Errorf("%s: %s %s body =\n%s\nwant\n%s", st.name, st.method, st.path, body, st.want)
		}
	}
}

func created(key string) string {
	return `{"message":"Schema created","updated":false,"location":"` + key + `","status":201}`
}

func TestServerPublish(t *testing.T) {
	srv, _ := newWritableServer(t, false)
	su := testSuperKey
	p := "/api/schemas/com.acme/ev/jsonschema/"
	conflict := func(m string) string { return `{"message":"` + m + `"}` }
	runSteps(t, srv.URL, []step{
		{"first version", "PUT", p + "1-0-0?isPublic=true", su, goodSchema("com.acme", "ev", "1-0-0"), 201, created("iglu:com.acme/ev/jsonschema/1-0-0")},
		{"again", "PUT", p + "1-0-0?isPublic=true", su, goodSchema("com.acme", "ev", "1-0-0"), 409, conflict(msgAlreadyExists)},
		{"addition gap", "PUT", p + "1-0-2?isPublic=true", su, goodSchema("com.acme", "ev", "1-0-2"), 409, conflict(msgPreviousMiss)},
		{"revision gap", "PUT", p + "1-2-0?isPublic=true", su, goodSchema("com.acme", "ev", "1-2-0"), 409, conflict(msgPreviousMiss)},
		{"model gap", "PUT", p + "3-0-0?isPublic=true", su, goodSchema("com.acme", "ev", "3-0-0"), 409, conflict(msgPreviousMiss)},
		{"private among public", "PUT", p + "1-0-1?isPublic=false", su, goodSchema("com.acme", "ev", "1-0-1"), 409,
			conflict("Inconsistent schema availability. Cannot add private schema, previous versions are public")},
		{"addition", "PUT", p + "1-0-1?isPublic=true", su, goodSchema("com.acme", "ev", "1-0-1"), 201, created("iglu:com.acme/ev/jsonschema/1-0-1")},
		{"revision", "PUT", p + "1-1-0?isPublic=true", su, goodSchema("com.acme", "ev", "1-1-0"), 201, created("iglu:com.acme/ev/jsonschema/1-1-0")},
		{"behind next revision", "PUT", p + "1-0-2?isPublic=true", su, goodSchema("com.acme", "ev", "1-0-2"), 409, conflict(msgNonSequential)},
		{"model via POST", "POST", "/api/schemas?isPublic=true", su, goodSchema("com.acme", "ev", "2-0-0"), 201, created("iglu:com.acme/ev/jsonschema/2-0-0")},
		{"bare schema via PUT", "PUT", "/api/schemas/com.acme/bare/jsonschema/1-0-0", su, bareSchema(), 201, created("iglu:com.acme/bare/jsonschema/1-0-0")},
		{"bare schema via POST", "POST", "/api/schemas", su, bareSchema(), 400, `{"message":"Cannot decode JSON schema"}`},
		{"not an object", "POST", "/api/schemas", su, `[1]`, 400, `{"message":"Cannot decode JSON schema"}`},
		{"not JSON", "POST", "/api/schemas", su, `{`, 400, `{"message":"The request body is invalid JSON"}`},
		{"mismatch", "PUT", p + "1-1-1", su, goodSchema("com.acme", "ev", "1-1-2"), 400,
			`{"uriSchemaKey":"iglu:com.acme/ev/jsonschema/1-1-1","payloadSchemaKey":"iglu:com.acme/ev/jsonschema/1-1-2","message":"` + msgMismatch + `"}`},
		{"bad URL version", "PUT", p + "1-0-x", su, goodSchema("com.acme", "ev", "1-0-0"), 400, `{"message":"invalid Iglu URI…`},
		{"bad isPublic", "PUT", p + "1-1-1?isPublic=yes", su, goodSchema("com.acme", "ev", "1-1-1"), 400, `{"message":"Invalid isPublic…`},
		{"lint error", "PUT", "/api/schemas/com.acme/lint/jsonschema/1-0-0", su,
			selfDesc("com.acme", "lint", "1-0-0", `"description":"d","type":"object","properties":{"n":{"type":"integer","minimum":5,"maximum":1,"description":"n"}}`), 400,
			`{"message":"The schema does not conform to a JSON Schema v4 specification","report":[{"message":"A field with numeric type has a minimum value [5] greater than the maximum value [1]","level":"ERROR","pointer":"/properties/n"}]}`},
		{"lint warnings publish", "PUT", "/api/schemas/com.acme/warn/jsonschema/1-0-0", su,
			selfDesc("com.acme", "warn", "1-0-0", `"type":"object","properties":{"n":{"type":"number"}}`), 201, created("iglu:com.acme/warn/jsonschema/1-0-0")},
		{"supersedes missing", "PUT", p + "1-1-1?isPublic=true", su,
			selfDesc("com.acme", "ev", "1-1-1", `"$supersedes":["1-0-9"],"description":"d","type":"object","properties":{"a":{"type":"string","maxLength":8,"description":"a"}},"required":["a"],"additionalProperties":false`), 409, conflict(msgSupersededMiss)},
		{"delete without patches", "DELETE", p + "1-0-0", su, "", 405, `{"message":"DELETE is forbidden on production registry"}`},
		// Reads.
		{"get public anonymously", "GET", p + "1-0-1", "", "", 200, `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"ev","format":"jsonschema","version":"1-0-1"},"description":"d",…`},
		{"get meta", "GET", p + "1-0-1?repr=meta", "", "", 200, `{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"ev","format":"jsonschema","version":"1-0-1"},"metadata":{"createdAt":"…`},
		{"list model", "GET", "/api/schemas/com.acme/ev/jsonschema/1", "", "", 200,
			`["iglu:com.acme/ev/jsonschema/1-0-0","iglu:com.acme/ev/jsonschema/1-0-1","iglu:com.acme/ev/jsonschema/1-1-0"]`},
		{"list name merges the folder", "GET", "/api/schemas/com.acme", su, "", 200,
			`["iglu:com.acme/bare/jsonschema/1-0-0","iglu:com.acme/button/jsonschema/1-0-0","iglu:com.acme/ev/jsonschema/1-0-0","iglu:com.acme/ev/jsonschema/1-0-1","iglu:com.acme/ev/jsonschema/1-1-0","iglu:com.acme/ev/jsonschema/2-0-0","iglu:com.acme/warn/jsonschema/1-0-0"]`},
		{"list private anonymously", "GET", "/api/schemas/com.acme/bare", "", "", 404, `{"message":"No schemas available"}`},
		{"bare stored with self", "GET", "/api/schemas/com.acme/bare/jsonschema/1-0-0", su, "", 200,
			`{"$schema":"` + MetaSchemaURI + `","self":{"vendor":"com.acme","name":"bare","format":"jsonschema","version":"1-0-0"},"description":"d",…`},
		{"non-UUID key", "GET", p + "1-0-1", "not-a-uuid", "", 400, `{"message":"Invalid UUID for ApiKey"}`},
		{"health db", "GET", "/api/meta/health/db", "", "", 200, "OK"},
		{"server info super", "GET", "/api/meta/server", su, "", 200,
			`{"version":"9.9.9","authInfo":{"vendor":"","schema":"CREATE_VENDOR","key":["CREATE","DELETE"]},"database":"sqlite","schemaCount":…`},
		{"server info anonymous", "GET", "/api/meta/server", "", "", 200,
			`{"version":"9.9.9","authInfo":{"vendor":"","schema":null,"key":[]},"database":"sqlite","schemaCount":0,"debug":false,"patchesAllowed":false}`},
		{"validate instance", "POST", "/api/validation/validate/instance", su, `{"schema":"iglu:com.acme/ev/jsonschema/1-0-0","data":{"a":"x"}}`, 200,
			`{"message":"Instance is valid iglu:com.acme/ev/jsonschema/1-0-0"}`},
		{"validate instance anonymously", "POST", "/api/validation/validate/instance", "", `{"schema":"iglu:com.acme/ev/jsonschema/1-0-0","data":{"a":"x"}}`, 404,
			`{"message":"The schema is not found"}`},
		{"validate schema anonymously", "POST", "/api/validation/validate/schema/jsonschema", "", goodSchema("com.acme", "x", "1-0-0"), 403,
			`{"message":"Authentication error: not authorized"}`},
	})
}

func TestServerPatches(t *testing.T) {
	srv, _ := newWritableServer(t, true)
	su := testSuperKey
	p := "/api/schemas/com.acme/ev/jsonschema/1-0-0"
	changed := strings.Replace(goodSchema("com.acme", "ev", "1-0-0"), `"maxLength":8`, `"maxLength":9`, 1)
	runSteps(t, srv.URL, []step{
		{"create", "PUT", p, su, goodSchema("com.acme", "ev", "1-0-0"), 201, created("iglu:com.acme/ev/jsonschema/1-0-0")},
		{"patch", "PUT", p, su, changed, 200, `{"message":"Schema updated","updated":true,"location":"iglu:com.acme/ev/jsonschema/1-0-0","status":200}`},
		{"read patched", "GET", p, su, "", 200, `…`},
		{"delete needs super", "DELETE", p, "", "", 401, `{"message":"Not enough permissions"}`},
		{"delete", "DELETE", p, su, "", 200, `{"message":"Schema deleted"}`},
		{"gone", "GET", p, su, "", 404, `{"message":"The schema is not found"}`},
	})
	_, body, _ := callKey(t, "GET", srv.URL+"/api/meta/server", su, "")
	if !strings.HasSuffix(body, `"patchesAllowed":true}`) {
		t.Errorf("GET /api/meta/server = %s, want patchesAllowed true", body)
	}
}

func TestServerNoSuperKey(t *testing.T) {
	srv, _ := newServerWith(t, openTestStore(t), "", false)
	status, body, _ := callKey(t, "PUT", srv.URL+"/api/schemas/com.acme/ev/jsonschema/1-0-0", "", goodSchema("com.acme", "ev", "1-0-0"))
	if status != 403 || !strings.Contains(body, "SNOWPLOW_MINI_IGLU_SUPER_API_KEY") || !strings.HasPrefix(body, `{"message":"Authentication error: not authorized. `) {
		t.Errorf("PUT without a super key = %d %s, want 403 saying how to set one", status, body)
	}
	status, body, _ = callKey(t, "POST", srv.URL+"/api/auth/keygen", testSuperKey, `{"vendorPrefix":"com.acme"}`)
	if status != 403 || !strings.Contains(body, "--iglu-super-api-key") {
		t.Errorf("keygen without a super key = %d %s, want 403 saying how to set one", status, body)
	}
	if _, err := NewServer(newTestResolver(t, offlineConfig(), nil), ServerConfig{SuperAPIKey: "secret"}); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("NewServer(super key not a UUID) = %v, want an error that does not repeat the key", err)
	}
}

// keys creates a read and a write key for prefix with the super key.
func keys(t *testing.T, base, prefix string) (read, write string) {
	t.Helper()
	status, body, _ := callKey(t, "POST", base+"/api/auth/keygen", testSuperKey, `{"vendorPrefix":"`+prefix+`"}`)
	if status != 200 {
		t.Fatalf("keygen %s = %d %s", prefix, status, body)
	}
	var k struct{ Read, Write string }
	if err := json.Unmarshal([]byte(body), &k); err != nil || k.Read == "" || k.Write == "" {
		t.Fatalf("keygen %s = %s (%v)", prefix, body, err)
	}
	return k.Read, k.Write
}

func TestServerKeygen(t *testing.T) {
	srv, _ := newWritableServer(t, false)
	read, write := keys(t, srv.URL, "com.acme")
	runSteps(t, srv.URL, []step{
		{"read key cannot create keys", "POST", "/api/auth/keygen", read, `{"vendorPrefix":"com.acme"}`, 403, `{"message":"Not sufficient privileges to create keys"}`},
		{"write key cannot create keys", "POST", "/api/auth/keygen", write, `{"vendorPrefix":"com.acme"}`, 403, `{"message":"Not sufficient privileges to create keys"}`},
		{"anonymous cannot create keys", "POST", "/api/auth/keygen", "", `{"vendorPrefix":"com.acme"}`, 403, `{"message":"Not sufficient privileges to create keys"}`},
		{"bad body", "POST", "/api/auth/keygen", testSuperKey, `{"vendor":"x"}`, 400, `{"message":"The request body must be…`},
		{"write key cannot delete", "DELETE", "/api/auth/keygen?key=" + read, write, "", 403, "Not sufficient privileges to delete key"},
		{"bad key param", "DELETE", "/api/auth/keygen?key=zzz", testSuperKey, "", 400, `{"message":"Invalid key…`},
		{"write key publishes its vendor", "PUT", "/api/schemas/com.acme.sub/ev/jsonschema/1-0-0", write, goodSchema("com.acme.sub", "ev", "1-0-0"), 201, created("iglu:com.acme.sub/ev/jsonschema/1-0-0")},
		{"delete", "DELETE", "/api/auth/keygen?key=" + write, testSuperKey, "", 200, `{"message":"Keys have been deleted"}`},
		{"deleted key is anonymous", "PUT", "/api/schemas/com.acme/ev/jsonschema/1-0-0", write, goodSchema("com.acme", "ev", "1-0-0"), 403, `{"message":"Authentication error: not authorized"}`},
		{"wildcard keys", "POST", "/api/auth/keygen", testSuperKey, `{"vendorPrefix":"*"}`, 200, `{"read":"…`},
	})
}

// TestServerPermissions is the permission matrix: super, vendor read, vendor write,
// another vendor's write key and anonymous, against public and private schemas, for
// every action.
func TestServerPermissions(t *testing.T) {
	srv, _ := newWritableServer(t, true)
	read, write := keys(t, srv.URL, "com.acme")
	_, otherWrite := keys(t, srv.URL, "com.other")
	su := testSuperKey
	runSteps(t, srv.URL, []step{
		{"setup public", "PUT", "/api/schemas/com.acme/pub/jsonschema/1-0-0?isPublic=true", su, goodSchema("com.acme", "pub", "1-0-0"), 201, ""},
		{"setup private", "PUT", "/api/schemas/com.acme/priv/jsonschema/1-0-0", su, goodSchema("com.acme", "priv", "1-0-0"), 201, ""},
	})
	type who struct{ name, key string }
	callers := []who{{"super", su}, {"vendor read", read}, {"vendor write", write}, {"other vendor write", otherWrite}, {"anonymous", ""}}
	// want[action][caller] = status
	tests := []struct {
		action, method, path, body string
		want                       []int
	}{
		{"read public", "GET", "/api/schemas/com.acme/pub/jsonschema/1-0-0", "", []int{200, 200, 200, 200, 200}},
		{"read private", "GET", "/api/schemas/com.acme/priv/jsonschema/1-0-0", "", []int{200, 200, 200, 404, 404}},
		{"list private", "GET", "/api/schemas/com.acme/priv", "", []int{200, 200, 200, 404, 404}},
		{"publish public", "PUT", "/api/schemas/com.acme/pub/jsonschema/1-0-1?isPublic=true", goodSchema("com.acme", "pub", "1-0-1"), []int{201, 403, 201, 403, 403}},
		{"publish private", "PUT", "/api/schemas/com.acme/priv/jsonschema/1-0-1", goodSchema("com.acme", "priv", "1-0-1"), []int{201, 403, 201, 403, 403}},
		{"validate instance private", "POST", "/api/validation/validate/instance", `{"schema":"iglu:com.acme/priv/jsonschema/1-0-0","data":{"a":"x"}}`, []int{200, 200, 200, 404, 404}},
		{"validate schema", "POST", "/api/validation/validate/schema/jsonschema", goodSchema("com.acme", "x", "1-0-0"), []int{200, 200, 200, 200, 403}},
		{"create keys", "POST", "/api/auth/keygen", `{"vendorPrefix":"com.acme"}`, []int{200, 403, 403, 403, 403}},
		{"delete schema", "DELETE", "/api/schemas/com.acme/pub/jsonschema/1-0-1", "", []int{200, 401, 401, 401, 401}},
	}
	for _, tt := range tests {
		for i, c := range callers {
			// The super key runs last for writes, so the others meet the state before it.
			if tt.method != "GET" && c.name == "super" {
				continue
			}
			status, body, _ := callKey(t, tt.method, srv.URL+tt.path, c.key, tt.body)
			if status != tt.want[i] {
				t.Errorf("%s by %s: %s %s = %d, want %d (%s)", tt.action, c.name, tt.method, tt.path, status, tt.want[i], body)
			}
		}
		if tt.method != "GET" {
			if status, body, _ := callKey(t, tt.method, srv.URL+tt.path, su, tt.body); status != tt.want[0] && status != 200 {
				t.Errorf("%s by super: %s %s = %d, want %d (%s)", tt.action, tt.method, tt.path, status, tt.want[0], body)
			}
		}
	}
}

// A schema published through the API resolves at once, even when its absence was
// cached, and a deletion is seen at once too.
func TestServerPublishInvalidatesResolver(t *testing.T) {
	srv, r := newWritableServer(t, true)
	key := SchemaKey{Vendor: "com.acme", Name: "late", Format: FormatJSONSchema, Version: SchemaVer{1, 0, 0}}
	ctx := context.Background()
	inst := mustDecode(t, `{"a":"xyz"}`)
	if _, err := r.Validate(ctx, key, inst); err == nil {
		t.Fatal("Validate before publishing succeeded")
	}
	runSteps(t, srv.URL, []step{{"publish", "PUT", "/api/schemas/com.acme/late/jsonschema/1-0-0", testSuperKey, goodSchema("com.acme", "late", "1-0-0"), 201, ""}})
	v, err := r.Validate(ctx, key, inst)
	if err != nil {
		t.Fatalf("Validate after publishing = %v", err)
	}
	if v.Schema.Repository != LocalServerRepositoryName {
		t.Errorf("served by %q, want %q", v.Schema.Repository, LocalServerRepositoryName)
	}
	// A patch that makes the instance invalid applies to the next validation.
	runSteps(t, srv.URL, []step{{"patch", "PUT", "/api/schemas/com.acme/late/jsonschema/1-0-0", testSuperKey,
		strings.Replace(goodSchema("com.acme", "late", "1-0-0"), `"maxLength":8`, `"maxLength":2`, 1), 200, ""}})
	if _, err := r.Validate(ctx, key, inst); err == nil {
		t.Error("Validate after a stricter patch succeeded, want the new schema applied")
	}
	runSteps(t, srv.URL, []step{{"delete", "DELETE", "/api/schemas/com.acme/late/jsonschema/1-0-0", testSuperKey, "", 200, ""}})
	if _, err := r.Lookup(ctx, key); err == nil {
		t.Error("Lookup after deletion succeeded")
	}
	keys, err := r.List(ctx, "com.acme", "late", 1)
	if err == nil {
		t.Errorf("List after deletion = %v, want not found", keys)
	}
}

func TestVersionAllowed(t *testing.T) {
	v := func(s string) SchemaVer {
		x, err := ParseSchemaVer(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	vs := func(ss ...string) []SchemaVer {
		var out []SchemaVer
		for _, s := range ss {
			out = append(out, v(s))
		}
		return out
	}
	tests := []struct {
		version    string
		existing   []SchemaVer
		patches    bool
		supersedes []SchemaVer
		want       string
	}{
		{"1-0-0", nil, false, nil, ""},
		{"1-0-0", vs("1-0-0"), false, nil, msgAlreadyExists},
		{"1-0-0", vs("1-0-0"), true, nil, ""},
		{"1-0-1", nil, false, nil, msgPreviousMiss},
		{"1-0-1", vs("1-0-0"), false, nil, ""},
		{"1-0-2", vs("1-0-0"), false, nil, msgPreviousMiss},
		{"1-1-0", vs("1-0-0"), false, nil, ""},
		{"1-1-0", vs("1-0-3"), false, nil, ""},
		{"1-2-0", vs("1-0-0"), false, nil, msgPreviousMiss},
		{"2-0-0", vs("1-0-0"), false, nil, ""},
		{"2-0-0", vs("1-3-2"), false, nil, ""},
		{"3-0-0", vs("1-0-0"), false, nil, msgPreviousMiss},
		{"2-1-0", vs("1-0-0", "1-1-0"), false, nil, msgPreviousMiss},
		{"1-0-1", vs("1-0-0", "1-1-0"), false, nil, msgNonSequential},
		{"1-1-1", vs("1-0-0", "1-1-0"), false, vs("1-0-0"), ""},
		{"1-1-1", vs("1-0-0", "1-1-0"), false, vs("1-0-5"), msgSupersededMiss},
		{"1-0-1", vs("1-0-0", "1-0-2"), true, vs("1-0-2"), msgSupersededBad},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s_after_%v", tt.version, tt.existing), func(t *testing.T) {
			if got := versionAllowed(v(tt.version), tt.existing, tt.patches, tt.supersedes); got != tt.want {
				t.Errorf("versionAllowed(%s, %v, patches %v, supersedes %v) = %q, want %q", tt.version, tt.existing, tt.patches, tt.supersedes, got, tt.want)
			}
		})
	}
}

// The PostgreSQL store behaves as the SQLite one: run the publication table against it.
func TestServerPostgresStore(t *testing.T) {
	url := os.Getenv("SNOWPLOW_MINI_TEST_POSTGRES")
	if url == "" {
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatal("SNOWPLOW_MINI_TEST_POSTGRES is not set")
		}
		t.Skip("set SNOWPLOW_MINI_TEST_POSTGRES=postgres://... to run against PostgreSQL")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // after the DROP below: cleanups run last first
	ctx := context.Background()
	schema := fmt.Sprintf("iglu_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	t.Cleanup(func() { _, _ = db.ExecContext(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`) })
	store, err := NewSQLStore(ctx, db, DialectPostgres, schema)
	if err != nil {
		t.Fatal(err)
	}
	srv, r := newServerWith(t, store, testSuperKey, true)
	read, _ := keys(t, srv.URL, "com.acme")
	p := "/api/schemas/com.acme/ev/jsonschema/"
	runSteps(t, srv.URL, []step{
		{"create", "PUT", p + "1-0-0", testSuperKey, goodSchema("com.acme", "ev", "1-0-0"), 201, created("iglu:com.acme/ev/jsonschema/1-0-0")},
		{"addition", "PUT", p + "1-0-1", testSuperKey, goodSchema("com.acme", "ev", "1-0-1"), 201, ""},
		{"gap", "PUT", p + "1-0-3", testSuperKey, goodSchema("com.acme", "ev", "1-0-3"), 409, ""},
		{"patch", "PUT", p + "1-0-1", testSuperKey, goodSchema("com.acme", "ev", "1-0-1"), 200, ""},
		{"private read with key", "GET", p + "1-0-1", read, "", 200, ""},
		{"private read anonymously", "GET", p + "1-0-1", "", "", 404, ""},
		{"db health", "GET", "/api/meta/health/db", "", "", 200, "OK"},
		{"server", "GET", "/api/meta/server", testSuperKey, "", 200, `{"version":"9.9.9","authInfo":{"vendor":"","schema":"CREATE_VENDOR","key":["CREATE","DELETE"]},"database":"postgres",…`},
		{"delete", "DELETE", p + "1-0-1", testSuperKey, "", 200, ""},
	})
	if _, err := r.Lookup(ctx, SchemaKey{Vendor: "com.acme", Name: "ev", Format: FormatJSONSchema, Version: SchemaVer{1, 0, 0}}); err != nil {
		t.Errorf("Lookup of a schema published to PostgreSQL = %v", err)
	}
}

// A version published with "$supersedes" marks the versions it supersedes: they are
// served with "$supersededBy", and their instances validate against the new version.
func TestServerSupersedes(t *testing.T) {
	srv, r := newWritableServer(t, false)
	strict := strings.Replace(goodSchema("com.acme", "sup", "1-0-0"), `"maxLength":8`, `"maxLength":2`, 1)
	next := strings.Replace(goodSchema("com.acme", "sup", "1-0-1"), `"description":"d"`, `"$supersedes":["1-0-0"],"description":"d"`, 1)
	key := SchemaKey{Vendor: "com.acme", Name: "sup", Format: FormatJSONSchema, Version: SchemaVer{1, 0, 0}}
	inst := mustDecode(t, `{"a":"xyz"}`)
	runSteps(t, srv.URL, []step{{"1-0-0", "PUT", "/api/schemas/com.acme/sup/jsonschema/1-0-0", testSuperKey, strict, 201, ""}})
	if _, err := r.Validate(context.Background(), key, inst); err == nil {
		t.Fatal("Validate against the strict 1-0-0 succeeded")
	}
	runSteps(t, srv.URL, []step{
		{"1-0-1 supersedes 1-0-0", "PUT", "/api/schemas/com.acme/sup/jsonschema/1-0-1", testSuperKey, next, 201, ""},
		{"1-0-0 is marked", "GET", "/api/schemas/com.acme/sup/jsonschema/1-0-0", testSuperKey, "", 200,
			`{"$schema":"` + MetaSchemaURI + `","$supersededBy":"1-0-1","self":{"vendor":"com.acme","name":"sup","format":"jsonschema","version":"1-0-0"},…`},
	})
	v, err := r.Validate(context.Background(), key, inst)
	if err != nil || v.SupersededBy != (SchemaVer{1, 0, 1}) {
		t.Errorf("Validate(1-0-0) after 1-0-1 superseded it = %+v, %v; want valid against 1-0-1", v, err)
	}
}

func TestRenderSupersedingOrder(t *testing.T) {
	ls := &localSchema{key: SchemaKey{Vendor: "v", Name: "n", Format: FormatJSONSchema, Version: SchemaVer{1, 0, 1}},
		raw: []byte(`{"type":"object","$supersedes":["1-0-0"],"self":{},"$supersededBy":"1-0-2","$schema":"x"}`)}
	got, err := ls.render("canonical")
	want := `{"$schema":"x","$supersededBy":"1-0-2","$supersedes":["1-0-0"],"self":{"vendor":"v","name":"n","format":"jsonschema","version":"1-0-1"},"type":"object"}`
	if err != nil || string(got) != want {
		t.Errorf("render(canonical) = %s, %v; want %s", got, err, want)
	}
}
