package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

const e2eSuperKey = "0b7a3c5e-8f21-4d6a-b9e3-2c4d6f8a0b1c"

// lateSchema is com.acme/late/jsonschema/<version>: a required string a of at most
// maxLength characters.
func lateSchema(version string, maxLength int) string {
	return fmt.Sprintf(`{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",`+
		`"self":{"vendor":"com.acme","name":"late","format":"jsonschema","version":%q},`+
		`"description":"an event published while the pipeline runs","type":"object",`+
		`"properties":{"a":{"type":"string","maxLength":%d,"description":"a"}},"required":["a"],"additionalProperties":false}`, version, maxLength)
}

// apiCall sends one request to serve, with the apikey header when key is set.
func apiCall(t *testing.T, method, u, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
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
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// sendLate sends a self-describing event of com.acme/late/jsonschema/<version> and waits
// until /micro/all counts it, as good or bad; it reports whether it was good.
func sendLate(t *testing.T, s *server, version, a string) bool {
	t.Helper()
	var before summary
	s.getJSON(t, "/micro/all", &before)
	ue := `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/late/jsonschema/` + version + `","data":{"a":"` + a + `"}}}`
	resp, err := http.Get(s.base + "/i?e=ue&p=web&tv=e2e-1&aid=iglu-e2e&ue_pr=" + url.QueryEscape(ue))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var after summary
	poll.UntilState(t, "the event in /micro/all", 10*time.Second, func() (bool, string) {
		s.getJSON(t, "/micro/all", &after)
		return after.Total > before.Total, fmt.Sprintf("%+v (before %+v)", after, before)
	})
	return after.Good > before.Good
}

// TestServeIgluServer: an event whose schema is unknown is bad; the schema is published
// with a write key; the same event is good at once; the schema survives a restart on the
// same data directory.
func TestServeIgluServer(t *testing.T) {
	dataDir := t.TempDir()
	s := startServe(t, dataDir, nil, "--iglu-super-api-key", e2eSuperKey)

	if sendLate(t, s, "1-0-0", "x") {
		t.Fatal("an event of an unpublished schema was good")
	}
	// A write key for the vendor, from the super key.
	status, body := apiCall(t, "POST", s.base+"/api/auth/keygen", e2eSuperKey, `{"vendorPrefix":"com.acme"}`)
	var keys struct{ Read, Write string }
	if status != 200 || json.Unmarshal([]byte(body), &keys) != nil || keys.Write == "" {
		t.Fatalf("keygen = %d %s", status, body)
	}
	status, body = apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0?isPublic=true", keys.Write, lateSchema("1-0-0", 5))
	if status != 201 {
		t.Fatalf("PUT schema = %d %s", status, body)
	}
	if !sendLate(t, s, "1-0-0", "x") {
		var bad []json.RawMessage
		s.getJSON(t, "/micro/bad", &bad)
		t.Fatalf("the same event after publishing its schema was bad: %.1500s", bad[len(bad)-1])
	}
	// An event of a version not yet published is bad, then good once it is.
	if sendLate(t, s, "1-0-1", "y") {
		t.Fatal("an event of unpublished 1-0-1 was good")
	}
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-1?isPublic=true", keys.Write, lateSchema("1-0-1", 5)); status != 201 {
		t.Fatalf("PUT 1-0-1 = %d %s", status, body)
	}
	if !sendLate(t, s, "1-0-1", "y") {
		t.Fatal("the 1-0-1 event after publishing 1-0-1 was bad")
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	if st, err := os.Stat(filepath.Join(dataDir, igluStoreFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, mode %v; want a 0600 file", igluStoreFile, err, st.Mode())
	}

	// Restart on the same data directory, without a super key: the schemas and keys are
	// still there, and writes need a key that exists.
	s = startServe(t, dataDir, nil)
	status, body = apiCall(t, "GET", s.base+"/api/schemas/com.acme/late", "", "")
	if status != 200 || body != `["iglu:com.acme/late/jsonschema/1-0-0","iglu:com.acme/late/jsonschema/1-0-1"]` {
		t.Errorf("GET /api/schemas/com.acme/late after restart = %d %s", status, body)
	}
	if !sendLate(t, s, "1-0-0", "z") {
		t.Error("an event of a published schema was bad after a restart")
	}
	if sendLate(t, s, "1-0-0", "too long") {
		t.Error("an invalid event was good")
	}
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-2?isPublic=true", keys.Write, lateSchema("1-0-2", 5)); status != 201 {
		t.Errorf("PUT with a stored write key after restart = %d %s", status, body)
	}
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-3?isPublic=true", "", lateSchema("1-0-3", 5)); status != 403 || !strings.Contains(body, "SNOWPLOW_MINI_IGLU_SUPER_API_KEY") {
		t.Errorf("anonymous PUT without a super key = %d %s, want 403 saying how to set a key", status, body)
	}
	// The configured key is never logged.
	if strings.Contains(s.stderr.String(), e2eSuperKey) {
		t.Error("the super API key appears in the log")
	}
}

// TestSchemasCommands runs `schemas lint` and `schemas push` against serve.
func TestSchemasCommands(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(dir, "schemas", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("com.acme/late/jsonschema/1-0-1", lateSchema("1-0-1", 9))
	write("com.acme/late/jsonschema/1-0-0", lateSchema("1-0-0", 9))

	runCmd := func(env map[string]string, args ...string) (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &out, nil)
		return code, out.String()
	}
	if code, out := runCmd(nil, "schemas", "lint", dir); code != 0 || !strings.Contains(out, "2 schemas, no errors") {
		t.Errorf("schemas lint = %d %s", code, out)
	}

	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", e2eSuperKey)
	code, out := runCmd(map[string]string{"SNOWPLOW_MINI_IGLU_SUPER_API_KEY": e2eSuperKey}, "schemas", "push", dir, "--server", s.base, "--public")
	if code != 0 || !strings.Contains(out, "TOTAL: 2 schemas published (2 created, 0 updated, 0 unchanged), 0 failed") {
		t.Errorf("schemas push = %d %s", code, out)
	}
	if strings.Index(out, "jsonschema/1-0-0") > strings.Index(out, "jsonschema/1-0-1") {
		t.Errorf("schemas push published 1-0-1 before 1-0-0:\n%s", out)
	}
	code, out = runCmd(nil, "schemas", "push", dir, "--server", s.base, "--apikey", e2eSuperKey, "--public")
	if code != 0 || !strings.Contains(out, "(0 created, 0 updated, 2 unchanged)") {
		t.Errorf("schemas push again = %d %s", code, out)
	}
	if !sendLate(t, s, "1-0-1", "pushed") {
		t.Error("an event of a pushed schema was bad")
	}

	// A lint error: nothing is pushed, exit 1.
	write("com.acme/late/jsonschema/1-0-2", strings.Replace(lateSchema("1-0-2", 9), `"maxLength":9`, `"maxLength":9,"minLength":10`, 1))
	if code, out := runCmd(nil, "schemas", "lint", dir); code != 1 || !strings.Contains(out, "ERROR   com.acme/late/jsonschema/1-0-2 /properties/a: A string type with") {
		t.Errorf("schemas lint (error) = %d %s", code, out)
	}
	if code, out := runCmd(nil, "schemas", "push", dir, "--server", s.base, "--apikey", e2eSuperKey); code != 1 || !strings.Contains(out, "schemas have lint errors") {
		t.Errorf("schemas push (lint error) = %d %s", code, out)
	}
	if code, out := runCmd(nil, "schemas", "push", dir); code != 1 || !strings.Contains(out, "API key is required") {
		t.Errorf("schemas push without a key = %d %s", code, out)
	}
	if code, out := runCmd(nil, "schemas"); code != 2 || !strings.Contains(out, "schemas push DIR") {
		t.Errorf("schemas = %d %s", code, out)
	}
}

// The super key is validated, and check-config never prints it.
func TestCheckConfigIgluSuperKey(t *testing.T) {
	var out bytes.Buffer
	env := map[string]string{"SNOWPLOW_MINI_IGLU_SUPER_API_KEY": e2eSuperKey}
	code := run(context.Background(), []string{"check-config", "--data-dir", t.TempDir()}, func(k string) string { return env[k] }, &out, &out, nil)
	if code != 0 || strings.Contains(out.String(), e2eSuperKey) || !strings.Contains(out.String(), "superApiKey: <redacted>") {
		t.Errorf("check-config with a super key = %d:\n%s\nwant 0 and the key redacted", code, out.String())
	}
	out.Reset()
	code = run(context.Background(), []string{"check-config", "--iglu-super-api-key", "hunter2"}, func(string) string { return "" }, &out, &out, nil)
	if code != 1 || !strings.Contains(out.String(), "iglu.superApiKey: must be a UUID") || strings.Contains(out.String(), "hunter2") {
		t.Errorf("check-config with a bad super key = %d:\n%s\nwant 1, the key named, the value not shown", code, out.String())
	}
}

// With patches allowed, a stricter replacement of a schema applies to the next event,
// even one whose valid verdict enrich had cached.
func TestServeIgluPatchAppliesToNextEvent(t *testing.T) {
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", e2eSuperKey, "--iglu-patches-allowed")
	put := func(maxLength, want int) {
		t.Helper()
		if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0?isPublic=true", e2eSuperKey, lateSchema("1-0-0", maxLength)); status != want {
			t.Fatalf("PUT maxLength %d = %d %s, want %d", maxLength, status, body, want)
		}
	}
	put(10, 201)
	for range 2 { // the second one is answered from the verdict cache
		if !sendLate(t, s, "1-0-0", "abcdef") {
			t.Fatal("a valid event was bad")
		}
	}
	put(3, 200)
	if sendLate(t, s, "1-0-0", "abcdef") {
		t.Error("the event was good after the schema was patched to refuse it")
	}
	if status, body := apiCall(t, "DELETE", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0", e2eSuperKey, ""); status != 200 {
		t.Fatalf("DELETE = %d %s", status, body)
	}
	if sendLate(t, s, "1-0-0", "ab") {
		t.Error("an event of a deleted schema was good")
	}
}

// With the HTTP API key (SNOWPLOW_MINI_API_KEY) set, /micro/* needs it, while the Iglu
// Server API keeps its own keys: igluctl sends only an Iglu key, and must get through.
func TestServeIgluBesideHTTPAPIKey(t *testing.T) {
	const httpKey = "micro-key-0123456789"
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", e2eSuperKey, "--api-key", httpKey)
	if status, _ := apiCall(t, "GET", s.base+"/micro/all", "", ""); status != 401 {
		t.Errorf("GET /micro/all without the HTTP key = %d, want 401", status)
	}
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0?isPublic=true", e2eSuperKey, lateSchema("1-0-0", 5)); status != 201 {
		t.Errorf("PUT with the Iglu super key = %d %s, want 201", status, body)
	}
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-1?isPublic=true", httpKey, lateSchema("1-0-1", 5)); status != 400 {
		t.Errorf("PUT with the HTTP key (not an Iglu key) = %d %s, want 400 Invalid UUID for ApiKey", status, body)
	}
}

// With a PostgreSQL event store, published schemas go to its database, beside the
// events (the sink's schema) unless iglu.postgresSchema says otherwise, and survive a
// restart.
func TestServeIgluPostgresStore(t *testing.T) {
	pg := postgresSink(t, "iglue2e", nil)
	ctx, conn, schema, cfgFile := context.Background(), pg.conn, pg.schema, pg.cfgFile
	s := startServe(t, t.TempDir(), nil, "--config", cfgFile, "--iglu-super-api-key", e2eSuperKey)
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0", e2eSuperKey, lateSchema("1-0-0", 5)); status != 201 {
		t.Fatalf("PUT = %d %s", status, body)
	}
	if !sendLate(t, s, "1-0-0", "pg") {
		t.Error("an event of a schema published to PostgreSQL was bad")
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".iglu_schemas WHERE name = 'late' AND is_public = false").Scan(&n); err != nil || n != 1 {
		t.Errorf("%s.iglu_schemas has %d rows for late (%v), want 1 private", schema, n, err)
	}
	s.stop(t)
	s = startServe(t, t.TempDir(), nil, "--config", cfgFile, "--iglu-super-api-key", e2eSuperKey)
	if status, body := apiCall(t, "GET", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0?repr=meta", e2eSuperKey, ""); status != 200 || !strings.Contains(body, `"isPublic":false`) {
		t.Errorf("GET after restart = %d %s", status, body)
	}
}

// Events that fail against 1-0-0 turn good once 1-0-1 is published with
// "$supersedes": ["1-0-0"]: enrich validates them against 1-0-1 from the next event on.
func TestServeIgluSupersedingVersion(t *testing.T) {
	s := startServe(t, t.TempDir(), nil, "--iglu-super-api-key", e2eSuperKey)
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-0?isPublic=true", e2eSuperKey, lateSchema("1-0-0", 3)); status != 201 {
		t.Fatalf("PUT 1-0-0 = %d %s", status, body)
	}
	if sendLate(t, s, "1-0-0", "too long for 3") {
		t.Fatal("an event too long for 1-0-0 was good")
	}
	next := strings.Replace(lateSchema("1-0-1", 50), `"description":`, `"$supersedes":["1-0-0"],"description":`, 1)
	if status, body := apiCall(t, "PUT", s.base+"/api/schemas/com.acme/late/jsonschema/1-0-1?isPublic=true", e2eSuperKey, next); status != 201 {
		t.Fatalf("PUT 1-0-1 = %d %s", status, body)
	}
	if !sendLate(t, s, "1-0-0", "too long for 3") {
		t.Error("the same 1-0-0 event stayed bad after 1-0-1 superseded 1-0-0")
	}
}
