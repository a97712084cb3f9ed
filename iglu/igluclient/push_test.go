package igluclient

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func schemaDoc(vendor, name, version, extra string) string {
	return `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",` +
		`"self":{"vendor":"` + vendor + `","name":"` + name + `","format":"jsonschema","version":"` + version + `"},` +
		`"description":"d","type":"object","properties":{"a":{"type":"string","maxLength":10,"description":"a"` + extra + `}},"additionalProperties":false}`
}

func writeSchemas(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		p := filepath.Join(dir, "schemas", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLintDir(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/ok/jsonschema/1-0-0":       schemaDoc("com.acme", "ok", "1-0-0", ""),
		"com.acme/moved/jsonschema/1-0-1":    schemaDoc("com.acme", "moved", "1-0-0", ""),
		"com.acme/bad/jsonschema/1-0-0.json": strings.Replace(schemaDoc("com.acme", "bad", "1-0-0", ""), `"maxLength":10`, `"maxLength":10,"minLength":11`, 1),
		"com.acme/README.md":                 "not a schema",
		".git/config":                        "ignored",
	})
	rep, err := LintDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range rep.Files {
		rel, _ := filepath.Rel(rep.Root, f.Path)
		for _, m := range f.Messages {
			if m.Level == "ERROR" {
				got[filepath.ToSlash(rel)] = append(got[filepath.ToSlash(rel)], m.Message)
			}
		}
	}
	want := map[string][]string{
		"com.acme/README.md":                 {"The path com.acme/README.md is not in the static repository layout {vendor}/{name}/{format}/{version}", "Cannot extract JSON Schema", "JSON Schema is not self-describing"},
		"com.acme/moved/jsonschema/1-0-1":    {"The schema's self iglu:com.acme/moved/jsonschema/1-0-0 does not match its path, which names iglu:com.acme/moved/jsonschema/1-0-1"},
		"com.acme/bad/jsonschema/1-0-0.json": {`A string type with "minLength" and "maxLength" property values has a minimum value [11] higher than the maximum [10]`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LintDir errors mismatch (-want +got):\n%s", diff)
	}
	if rep.Errors() != 3 || len(rep.Files) != 4 {
		t.Errorf("LintDir: %d files, %d with errors; want 4, 3", len(rep.Files), rep.Errors())
	}
}

// fakeServer keeps published schemas in a map and answers like Iglu Server; it fails
// its first requests with 503 as a server that is starting.
type fakeServer struct {
	mu       sync.Mutex
	unready  int
	schemas  map[string]string
	puts     []string
	keys     []string
	isPublic []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unready > 0 {
		f.unready--
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	f.keys = append(f.keys, r.Header.Get("apikey"))
	p := strings.TrimPrefix(r.URL.Path, "/api/schemas/")
	switch r.Method {
	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		f.puts = append(f.puts, p)
		f.isPublic = append(f.isPublic, r.URL.Query().Get("isPublic"))
		if old, ok := f.schemas[p]; ok {
			_ = old
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"message":"Schema already exists"}`)
			return
		}
		f.schemas[p] = string(body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"message":"Schema created","updated":false,"location":"iglu:`+p+`","status":201}`)
	case http.MethodGet:
		s, ok := f.schemas[p]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"The schema is not found"}`)
			return
		}
		io.WriteString(w, s)
	}
}

func TestPush(t *testing.T) {
	dir := writeSchemas(t, map[string]string{
		"com.acme/b/jsonschema/1-0-1": schemaDoc("com.acme", "b", "1-0-1", ""),
		"com.acme/b/jsonschema/2-0-0": schemaDoc("com.acme", "b", "2-0-0", ""),
		"com.acme/b/jsonschema/1-0-0": schemaDoc("com.acme", "b", "1-0-0", ""),
		"com.acme/a/jsonschema/1-1-0": schemaDoc("com.acme", "a", "1-1-0", ""),
		"com.acme/a/jsonschema/1-0-0": schemaDoc("com.acme", "a", "1-0-0", ""),
	})
	fake := &fakeServer{unready: 3, schemas: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	opts := PushOptions{Server: srv.URL + "/api/", APIKey: "k1", Dir: dir, Public: true, Retry: RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	rep, err := Push(context.Background(), opts)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	wantOrder := []string{"com.acme/a/jsonschema/1-0-0", "com.acme/a/jsonschema/1-1-0", "com.acme/b/jsonschema/1-0-0", "com.acme/b/jsonschema/1-0-1", "com.acme/b/jsonschema/2-0-0"}
	if diff := cmp.Diff(wantOrder, fake.puts); diff != "" {
		t.Errorf("PUT order mismatch (-want +got):\n%s", diff)
	}
	if rep.Count(StatusCreated) != 5 {
		t.Errorf("created = %d, want 5: %+v", rep.Count(StatusCreated), rep.Results)
	}
	for i, k := range fake.keys {
		if k != "k1" {
			t.Errorf("request %d apikey = %q, want k1", i, k)
		}
	}
	for i, p := range fake.isPublic {
		if p != "true" {
			t.Errorf("PUT %d isPublic = %q, want true", i, p)
		}
	}

	// Again: everything already exists with the same content.
	rep, err = Push(context.Background(), opts)
	if err != nil || rep.Count(StatusUnchanged) != 5 {
		t.Errorf("second Push = %d unchanged, %v; want 5, nil", rep.Count(StatusUnchanged), err)
	}

	// A different schema at an existing key fails that schema.
	fake.schemas["com.acme/a/jsonschema/1-0-0"] = schemaDoc("com.acme", "a", "1-0-0", `,"minLength":1`)
	rep, err = Push(context.Background(), opts)
	if err == nil || rep.Count(StatusFailed) != 1 {
		t.Errorf("Push over a different schema = %d failed, %v; want 1 and an error", rep.Count(StatusFailed), err)
	}
}

func TestPushLintErrorsSendNothing(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"com.acme/a/jsonschema/1-0-0": `{"type":"object"}`})
	fake := &fakeServer{schemas: map[string]string{}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	_, err := Push(context.Background(), PushOptions{Server: srv.URL, APIKey: "k", Dir: dir})
	if !errors.Is(err, ErrLint) {
		t.Errorf("Push(bad schema) = %v, want ErrLint", err)
	}
	if len(fake.puts) != 0 {
		t.Errorf("Push(bad schema) sent %d PUTs, want 0", len(fake.puts))
	}
}

// A server that is not listening yet is retried until it is, within the policy.
func TestPushWaitsForServer(t *testing.T) {
	dir := writeSchemas(t, map[string]string{"com.acme/a/jsonschema/1-0-0": schemaDoc("com.acme", "a", "1-0-0", "")})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connection refused until the server below starts

	fake := &fakeServer{schemas: map[string]string{}}
	started := make(chan *http.Server, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			started <- nil
			return
		}
		s := &http.Server{Handler: fake}
		started <- s
		_ = s.Serve(l)
	}()
	rep, err := Push(context.Background(), PushOptions{Server: "http://" + addr, APIKey: "k", Dir: dir, Retry: RetryPolicy{Timeout: 10 * time.Second, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}})
	if s := <-started; s != nil {
		defer s.Close()
	} else {
		t.Skip("the port was taken before the server could start")
	}
	if err != nil || rep.Count(StatusCreated) != 1 {
		t.Errorf("Push to a starting server = %+v, %v; want 1 created", rep.Results, err)
	}

	// With a cancelled context Push stops at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Push(ctx, PushOptions{Server: "http://127.0.0.1:1", APIKey: "k", Dir: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("Push(cancelled) = %v, want context.Canceled", err)
	}
}
