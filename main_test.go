package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// fixture is one recorded tracker request.
type fixture struct {
	name   string
	req    *http.Request
	body   []byte
	events int // events the request carries
}

func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedtest.Path(t, "fixtures", "the end-to-end tests replay those recorded tracker requests"), "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	var out []fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			t.Fatal(err)
		}
		n := 1
		if len(body) > 0 {
			var sdj struct {
				Data []json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(body, &sdj); err != nil {
				t.Fatalf("%s: body: %v", f, err)
			}
			n = len(sdj.Data)
		}
		out = append(out, fixture{name: strings.TrimSuffix(filepath.Base(f), ".http"), req: req, body: body, events: n})
	}
	return out
}

// send replays a fixture against base and returns the status code.
func (f fixture) send(t *testing.T, base string) int {
	t.Helper()
	req, err := http.NewRequest(f.req.Method, base+f.req.RequestURI, bytes.NewReader(f.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range f.req.Header {
		req.Header[k] = slices.Clone(vs)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// offlineResolver writes a resolver.json that uses only the embedded schemas, so that
// tests never reach for the network.
func offlineResolver(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolver.json")
	const rc = `{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
  {"name":"Embedded","priority":0,"vendorPrefixes":[],"connection":{"embedded":{"path":"/iglu-client-embedded"}}}]}}`
	if err := os.WriteFile(p, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// server is a running `snowplow-mini serve` inside the test process.
type server struct {
	base   string
	cancel context.CancelFunc
	done   chan int
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs serve on a free port with the given extra flags and waits until it
// accepts requests.
func startServe(t *testing.T, dataDir string, stdout io.Writer, extra ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{cancel: cancel, done: make(chan int, 1), stderr: &lockedBuffer{}}
	addr := make(chan string, 1)
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir,
		"--resolver", offlineResolver(t), "--log-level", "warn"}, extra...)
	if stdout == nil {
		stdout = io.Discard
	}
	env := func(string) string { return "" }
	go func() { s.done <- run(ctx, args, env, stdout, s.stderr, func(a string) { addr <- a }) }()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case code := <-s.done:
		t.Fatalf("serve exited with %d before it was ready:\n%s", code, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve was not ready after 30s:\n%s", s.stderr.String())
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop asks serve to shut down (as SIGTERM does) and returns its exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	if s.cancel == nil {
		return 0
	}
	s.cancel()
	s.cancel = nil
	select {
	case code := <-s.done:
		if code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, s.stderr.String())
		}
		return code
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop within 60s:\n%s", s.stderr.String())
		return -1
	}
}

func (s *server) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

type summary struct {
	Total int `json:"total"`
	Good  int `json:"good"`
	Bad   int `json:"bad"`
}

// lossyEvents returns the stored valid events' lossy Analytics-SDK JSON (flattened
// contexts_… and unstruct_event_… keys) from /micro/events, by event_id.
func lossyEvents(t *testing.T, s *server) map[string]map[string]any {
	t.Helper()
	resp, err := http.Post(s.base+"/micro/events", "application/json", strings.NewReader(`{"validEvents":true,"page":1,"pageSize":1000}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /micro/events = %d, %v", resp.StatusCode, err)
	}
	out := make(map[string]map[string]any, len(page.Events))
	for _, e := range page.Events {
		id, _ := e["event_id"].(string)
		out[id] = e
	}
	return out
}

func countRows(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestServeEndToEndFixtures(t *testing.T) {
	fixtures := loadFixtures(t)
	dataDir := t.TempDir()
	var out lockedBuffer
	s := startServe(t, dataDir, &out, "--output-tsv")

	want := 0
	for _, f := range fixtures {
		if code := f.send(t, s.base); code/100 != 2 {
			t.Errorf("%s: status %d, want 2xx", f.name, code)
		}
		want += f.events
	}

	poll.UntilState(t, "every fixture event in /micro/all", 10*time.Second, func() (bool, string) {
		var sum summary
		s.getJSON(t, "/micro/all", &sum)
		return sum.Good == want || sum.Bad > 0, fmt.Sprintf("%+v, want good=%d", sum, want)
	})
	var sum summary
	s.getJSON(t, "/micro/all", &sum)
	if sum != (summary{Total: want, Good: want}) {
		var bad []json.RawMessage
		s.getJSON(t, "/micro/bad", &bad)
		t.Fatalf("/micro/all = %+v, want %d good and no bad; bad events: %s", sum, want, bad)
	}

	// The Micro shapes a tracker's test suite reads.
	var good []struct {
		EventType string          `json:"eventType"`
		Schema    string          `json:"schema"`
		Contexts  []string        `json:"contexts"`
		RawEvent  json.RawMessage `json:"rawEvent"`
		Event     map[string]any  `json:"event"`
	}
	s.getJSON(t, "/micro/good", &good)
	types := map[string]int{}
	for _, g := range good {
		types[g.EventType]++
		if g.Event["app_id"] != "snowplow-mini-peer" {
			t.Errorf("event app_id = %v, want snowplow-mini-peer", g.Event["app_id"])
		}
		if g.Event["v_etl"] != "snowplow-mini-enrich-"+version {
			t.Errorf("event v_etl = %v", g.Event["v_etl"])
		}
	}
	if types["page_view"] == 0 || types["struct"] == 0 || types["unstruct"] == 0 {
		t.Errorf("event types = %v, want page_view, struct and unstruct", types)
	}

	// The default enrichments ran: the GET page view came from a Google search to a URL
	// with utm parameters, with a Chrome user agent.
	var pv []struct {
		Event map[string]any `json:"event"`
	}
	resp, err := http.Post(s.base+"/micro/good", "application/json", strings.NewReader(`{"event_type":"page_view"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(resp.Body).Decode(&pv); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var found bool
	for _, e := range pv {
		if e.Event["refr_urlhost"] != "www.google.com" {
			continue
		}
		found = true
		for k, want := range map[string]any{"mkt_source": "peer", "mkt_medium": "test", "refr_medium": "search", "refr_source": "Google", "refr_term": "snowplow"} {
			if e.Event[k] != want {
				t.Errorf("page view %s = %v, want %v", k, e.Event[k], want)
			}
		}
		if fp, _ := e.Event["event_fingerprint"].(string); len(fp) != 32 {
			t.Errorf("event_fingerprint = %q, want an MD5 hex digest", fp)
		}
		// /micro/good has the Scala SDK's envelopes; /micro/events the flattened keys.
		ua, _ := lossyEvents(t, s)[e.Event["event_id"].(string)]["contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"].([]any)
		if len(ua) != 1 || ua[0].(map[string]any)["useragentFamily"] != "Chrome" {
			t.Errorf("ua_parser_context = %v, want one Chrome context", ua)
		}
	}
	if !found {
		t.Errorf("no page view with a Google referrer among %d page views", len(pv))
	}

	// Stop as SIGTERM would: everything acknowledged must be in the sink afterwards.
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := countRows(t, db, "SELECT count(*) FROM events"); n != want {
		t.Errorf("SQLite events = %d, want %d", n, want)
	}
	if n := countRows(t, db, "SELECT count(*) FROM events WHERE app_id = 'snowplow-mini-peer' AND event_id IS NOT NULL"); n != want {
		t.Errorf("SQLite events with app_id = %d, want %d", n, want)
	}
	if lines := strings.Count(out.String(), "\n"); lines != want {
		t.Errorf("--output-tsv printed %d lines, want %d", lines, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if n := strings.Count(line, "\t"); n != 130 {
			t.Errorf("stdout TSV line has %d tabs, want 130: %.80q", n, line)
			break
		}
	}
	gz, _ := filepath.Glob(filepath.Join(dataDir, "s3", "enriched", "*", "*", "*", "*", "*.gz"))
	if len(gz) == 0 {
		t.Errorf("no S3-style enriched files under %s", filepath.Join(dataDir, "s3"))
	}
}

// TestServeRestartLosesNothing stops serve in the middle of load and restarts it on the
// same data dir: every event acknowledged with a 2xx is in the sink exactly once.
func TestServeRestartLosesNothing(t *testing.T) {
	dataDir := t.TempDir()
	s := startServe(t, dataDir, nil)

	var (
		mu    sync.Mutex
		acked []string
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var ids []string
				var events []string
				for j := range 5 {
					id := fmt.Sprintf("00000000-0000-4000-8000-%04d%04d%04d", w, i%10000, j)
					ids = append(ids, id)
					events = append(events, fmt.Sprintf(`{"e":"se","p":"srv","tv":"test","aid":"restart","eid":%q,"se_ca":"c","se_ac":"a"}`, id))
				}
				body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` + strings.Join(events, ",") + `]}`
				resp, err := client.Post(s.base+"/com.snowplowanalytics.snowplow/tp2", "application/json", strings.NewReader(body))
				if err != nil {
					return // the server is going away
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode/100 == 2 {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		}()
	}
	poll.UntilState(t, "some acknowledged events", 10*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 2000, fmt.Sprint(len(acked))
	})
	s.stop(t) // in the middle of load
	close(stop)
	wg.Wait()

	// Restart on the same data dir; the sink keeps what it had.
	s2 := startServe(t, dataDir, nil)
	s2.stop(t)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT event_id, count(*) FROM events WHERE app_id = 'restart' GROUP BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		stored[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, dup int
	for _, id := range acked {
		switch stored[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	t.Logf("acknowledged %d events, stored %d distinct", len(acked), len(stored))
	if lost > 0 || dup > 0 {
		t.Errorf("of %d acknowledged events, %d were lost and %d duplicated", len(acked), lost, dup)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := writeFile("good.yaml", "addr: 127.0.0.1:9999\ncollector:\n  cookie:\n    name: sp2\n")
	unknown := writeFile("unknown.yaml", "collector:\n  cookei:\n    name: x\n")
	invalid := writeFile("invalid.yaml", "collector:\n  cookie:\n    name: \"\"\n    sameSite: Sometimes\n")
	smallStreams := writeFile("small-streams.yaml", "streams:\n  maxBytes: 8388608\n")

	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{"defaults", nil, nil, 0, []string{"configuration is valid", "addr: localhost:9090"}, nil},
		{"file", []string{"--config", good}, nil, 0, []string{"addr: 127.0.0.1:9999", "name: sp2"}, nil},
		{"env over file", []string{"--config", good}, map[string]string{"SNOWPLOW_MINI_ADDR": "127.0.0.1:7777"}, 0, []string{"addr: 127.0.0.1:7777"}, nil},
		{"flag over env", []string{"--addr", "127.0.0.1:6666"}, map[string]string{"SNOWPLOW_MINI_ADDR": "127.0.0.1:7777"}, 0, []string{"addr: 127.0.0.1:6666"}, nil},
		{"config from env", nil, map[string]string{"SNOWPLOW_MINI_CONFIG": good}, 0, []string{"name: sp2"}, nil},
		{"unknown key", []string{"--config", unknown}, nil, 2, nil, []string{"cookei"}},
		{"invalid values", []string{"--config", invalid}, nil, 1, nil, []string{"collector.cookie.name", "collector.cookie.sameSite"}},
		{"streams smaller than two S3 files", []string{"--config", smallStreams}, nil, 1, nil, []string{"loaders.s3.maxFileBytes", "streams.maxBytes"}},
		{"bad addr", []string{"--addr", "nonsense"}, nil, 1, nil, []string{"addr:"}},
		{"bad sink", []string{"--sink", "mysql://x"}, nil, 1, nil, []string{"loaders.sink.url"}},
		{"both outputs", []string{"--output-tsv", "--output-json"}, nil, 2, nil, []string{"--output-json"}},
		{"missing enrichments dir", []string{"--enrichments", filepath.Join(dir, "nope")}, nil, 1, nil, []string{"nope"}},
		{"unknown flag", []string{"--nope"}, nil, 2, nil, []string{"nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := run(context.Background(), append([]string{"check-config"}, tt.args...), getenv, &stdout, &stderr, nil)
			if code != tt.wantCode {
				t.Fatalf("check-config %v = %d, want %d\nstdout: %s\nstderr: %s", tt.args, code, tt.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string // substring of stdout+stderr
	}{
		{[]string{"version"}, 0, "snowplow-mini " + version},
		{[]string{"help"}, 0, "snowplow-mini serve"},
		{[]string{"serve", "--help"}, 0, "Example:"},
		{[]string{"check-config", "--help"}, 0, "Example:"},
		{[]string{"help", "serve"}, 0, "--data-dir"},
		{[]string{"serve", "--help"}, 0, "SNOWPLOW_MINI_DATA_DIR"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{nil, 2, "Usage"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return "" }, &out, &out, nil)
			if code != tt.wantCode || !strings.Contains(out.String(), tt.want) {
				t.Errorf("run(%q) = %d, output %q; want %d and output containing %q", tt.args, code, out.String(), tt.wantCode, tt.want)
			}
		})
	}
}

// TestCheckConfigHidesSecrets: the printed configuration holds no password or secret key.
func TestCheckConfigHidesSecrets(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secrets.yaml")
	conf := "loaders:\n  sink:\n    url: postgres://u:s3cret@127.0.0.1:5432/db?sslmode=disable\n" +
		"  s3:\n    url: s3://bucket/prefix\n    endpoint: http://127.0.0.1:4568\n    accessKeyId: AKIA\n    secretAccessKey: s3cret\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--config", file}, func(string) string { return "" }, &stdout, &stderr, nil); code != 0 {
		t.Fatalf("check-config = %d, want 0\nstderr: %s", code, stderr.String())
	}
	if out := stdout.String(); strings.Contains(out, "s3cret") || !strings.Contains(out, "postgres://u:xxxxx@127.0.0.1:5432/db") || !strings.Contains(out, "secretAccessKey: <redacted>") {
		t.Errorf("check-config output does not hide the secrets:\n%s", out)
	}
}

// TestStagesDoNotImportEachOther keeps the architecture: collector, enrich, loaders and
// web share only the leaf models and the foundations; only main wires them.
func TestStagesDoNotImportEachOther(t *testing.T) {
	const mod = "github.com/snowplow-mini/snowplow-mini/"
	stages := []string{"collector", "enrich", "loaders", "web"}
	// The leaf models every stage may use, and the JVM emulation enrich/event reads
	// timestamps with.
	leaf := map[string]bool{"collector/payload": true, "enrich/event": true, "enrich/internal/jvm": true, "iglu/badrow": true}
	for _, st := range stages {
		out, err := exec.Command("go", "list", "-deps", "./"+st+"/...").Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s/...: %v", st, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			rel := strings.TrimPrefix(dep, mod)
			for _, other := range stages {
				if other == st {
					continue
				}
				if (rel == other || strings.HasPrefix(rel, other+"/")) && !leaf[rel] {
					t.Errorf("stage %s imports %s", st, rel)
				}
			}
		}
	}
}

// TestFoundationsImportNoStage keeps the import arrows pointing down: the foundations
// (streams, iglu and its subpackages) and the model packages the stages share import no
// stage. The models may import the foundations and each other (enrich/event builds on
// iglu, iglu/badrow on enrich/event), and enrich/event its JVM emulation, which imports
// nothing of the repository.
func TestFoundationsImportNoStage(t *testing.T) {
	const mod = "github.com/snowplow-mini/snowplow-mini/"
	stages := []string{"collector", "enrich", "loaders", "web"}
	allowed := map[string]bool{"collector/payload": true, "enrich/event": true, "enrich/internal/jvm": true, "iglu/badrow": true}
	for _, pkg := range []string{"./streams/...", "./iglu/...", "./collector/payload", "./enrich/event", "./enrich/internal/jvm", "./internal/config"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			rel, ok := strings.CutPrefix(dep, mod)
			if !ok || allowed[rel] {
				continue
			}
			for _, st := range stages {
				if rel == st || strings.HasPrefix(rel, st+"/") {
					t.Errorf("%s imports the stage package %s", pkg, rel)
				}
			}
		}
	}
	// enrich/internal/jvm is a leaf: it must stay free of the models it serves.
	out, err := exec.Command("go", "list", "-deps", "./enrich/internal/jvm", "./internal/config").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(dep, mod); ok && rel != "enrich/internal/jvm" && rel != "internal/config" {
			t.Errorf("a leaf package imports %s", rel)
		}
	}
}

// TestServeRoutes checks that the one router gives each path to the right stage.
func TestServeRoutes(t *testing.T) {
	s := startServe(t, t.TempDir(), nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		header       map[string]string
		wantCode     int
		wantHeader   map[string]string
		wantBody     string // substring
	}{
		{"GET", "/health", nil, 200, nil, "ok"},
		{"GET", "/metrics", nil, 200, nil, "snowplow_mini_"},
		{"GET", "/micro/all", nil, 200, map[string]string{"Content-Type": "application/json"}, `"total":0`},
		{"POST", "/micro/all", nil, 200, nil, `"good":0`},
		{"GET", "/micro/nope", nil, 404, nil, "/micro/good"},
		{"GET", "/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", nil, 200, nil, `"web_page"`},
		{"GET", "/micro/iglu/com.acme/nope/jsonschema/1-0-0", nil, 404, nil, `"errors"`},
		{"GET", "/api/schemas/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", nil, 200, nil, `"self"`},
		{"GET", "/", nil, http.StatusFound, map[string]string{"Location": "/micro/ui"}, ""},
		{"GET", "/micro/ui", nil, 200, nil, "<html"},
		{"GET", "/i?e=pv&p=web&tv=t", nil, 200, map[string]string{"Content-Type": "image/gif"}, "GIF89a"},
		{"GET", "/robots.txt", nil, 200, nil, "Disallow: /"},
		{"GET", "/r/tp2?u=https%3A%2F%2Fexample.com", nil, 404, nil, "redirects disabled"},
		{"OPTIONS", "/com.snowplowanalytics.snowplow/tp2", map[string]string{"Origin": "https://shop.example"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://shop.example", "Access-Control-Allow-Credentials": "true"}, ""},
		{"OPTIONS", "/some/deeper/path", map[string]string{"Origin": "https://shop.example"}, 200,
			map[string]string{"Access-Control-Allow-Origin": "https://shop.example"}, ""},
		{"OPTIONS", "/micro/good", map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}, 204,
			map[string]string{"Access-Control-Allow-Origin": "http://localhost:3000"}, ""},
		{"GET", "/a/b/c", nil, 404, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, s.base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode && !(tt.wantCode == 204 && resp.StatusCode == 200) {
				t.Errorf("%s %s = %d, want %d (body %.200q)", tt.method, tt.path, resp.StatusCode, tt.wantCode, body)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); !strings.HasPrefix(got, v) {
					t.Errorf("%s %s: header %s = %q, want %q", tt.method, tt.path, k, got, v)
				}
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%s %s: body %.300q lacks %q", tt.method, tt.path, body, tt.wantBody)
			}
		})
	}
}

// postgresURL returns the test database, skipping when it is unreachable (unless
// SNOWPLOW_MINI_INTEGRATION=1 makes the test mandatory).
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("SNOWPLOW_MINI_TEST_POSTGRES")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err == nil {
		err = conn.Ping(ctx)
		conn.Close(ctx)
	}
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is unreachable (%v); start it or set SNOWPLOW_MINI_TEST_POSTGRES", u, err)
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; SNOWPLOW_MINI_INTEGRATION=1 makes this test mandatory")
	}
	return u
}

// pgSink is a PostgreSQL event store of a test's own: a connection, a schema (dropped,
// with its _iglu companion, when the test ends) and a config file that points serve at it.
type pgSink struct {
	url, schema, cfgFile string
	conn                 *pgx.Conn
}

// postgresSink makes a pgSink whose schema name starts with prefix; extra, if not nil,
// gives more YAML for the config file from the schema name.
func postgresSink(t *testing.T, prefix string, extra func(schema string) string) pgSink {
	t.Helper()
	p := pgSink{url: postgresURL(t), schema: fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())}
	conn, err := pgx.Connect(context.Background(), p.url)
	if err != nil {
		t.Fatal(err)
	}
	p.conn = conn
	t.Cleanup(func() {
		for _, s := range []string{p.schema, p.schema + "_iglu"} {
			_, _ = conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+s+" CASCADE")
		}
		conn.Close(context.Background())
	})
	p.cfgFile = filepath.Join(t.TempDir(), "pg.yaml")
	cfg := fmt.Sprintf("loaders:\n  sink:\n    url: %q\n    schema: %s\n", p.url, p.schema)
	if extra != nil {
		cfg += extra(p.schema)
	}
	if err := os.WriteFile(p.cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeEndToEndPostgres(t *testing.T) {
	pg := postgresSink(t, "e2e", func(schema string) string { return "iglu:\n  postgresSchema: " + schema + "_iglu\n" })
	fixtures := loadFixtures(t)
	ctx, schema, conn, cfgFile := context.Background(), pg.schema, pg.conn, pg.cfgFile
	s := startServe(t, t.TempDir(), nil, "--config", cfgFile)
	want := 0
	for _, f := range fixtures {
		if code := f.send(t, s.base); code/100 != 2 {
			t.Errorf("%s: status %d", f.name, code)
		}
		want += f.events
	}
	// A request enrich rejects: its bad row goes to the bad_rows table.
	resp, err := http.Get(s.base + "/i?e=pv&p=web&tv=t&dtm=notatimestamp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.stop(t)

	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("PostgreSQL %s.events has %d rows, want %d", schema, n, want)
	}
	var ids int
	if err := conn.QueryRow(ctx, "SELECT count(DISTINCT event_id) FROM "+schema+".events WHERE app_id = 'snowplow-mini-peer'").Scan(&ids); err != nil {
		t.Fatal(err)
	}
	if ids != want {
		t.Errorf("distinct event ids = %d, want %d", ids, want)
	}
	// Wide-row columns: the link click event and the web_page context.
	var target string
	if err := conn.QueryRow(ctx, "SELECT unstruct_event_com_snowplowanalytics_snowplow_link_click_1->>'targetUrl' FROM "+schema+".events WHERE event_name = 'link_click' LIMIT 1").Scan(&target); err != nil {
		t.Fatalf("link_click column: %v", err)
	}
	if !strings.HasPrefix(target, "http://shop.example.test/") {
		t.Errorf("link_click targetUrl = %q", target)
	}
	var pages int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".events WHERE jsonb_array_length(contexts_com_snowplowanalytics_snowplow_web_page_1) = 1").Scan(&pages); err != nil {
		t.Fatalf("web_page column: %v", err)
	}
	if pages == 0 {
		t.Error("no event has a web_page context column")
	}
	var bad int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+schema+".bad_rows").Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 1 {
		t.Errorf("bad_rows = %d, want 1", bad)
	}
}

// TestServeEnrichmentConfigs runs serve with a folder of Snowplow enrichment configs.
func TestServeEnrichmentConfigs(t *testing.T) {
	fixtures := loadFixtures(t)
	dir := t.TempDir()
	configs := map[string]string{
		"anon_ip.json": `{"schema":"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1",
 "data":{"name":"anon_ip","vendor":"com.snowplowanalytics.snowplow","enabled":true,"parameters":{"anonOctets":1,"anonSegments":1}}}`,
		"yauaa_enrichment_config.json": `{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0",
 "data":{"enabled":true,"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"yauaa_enrichment_config","parameters":{"cacheSize":100}}}`,
		"disabled.json": `{"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1",
 "data":{"vendor":"com.snowplowanalytics.snowplow","name":"ua_parser_config","enabled":false,"parameters":{}}}`,
	}
	for name, c := range configs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startServe(t, t.TempDir(), nil, "--enrichments", dir)
	var pageview fixture
	for _, f := range fixtures {
		if f.name == "node-get-pageview" {
			pageview = f
		}
	}
	if pageview.req == nil {
		t.Fatal("no node-get-pageview fixture")
	}
	if code := pageview.send(t, s.base); code != 200 {
		t.Fatalf("status %d", code)
	}
	var waited struct {
		Complete bool `json:"complete"`
		Events   []struct {
			Event map[string]any `json:"event"`
		} `json:"events"`
	}
	s.getJSON(t, "/micro/wait?count=1&timeout=5s", &waited)
	if !waited.Complete || len(waited.Events) != 1 {
		t.Fatalf("/micro/wait = %+v", waited)
	}
	ev := waited.Events[0].Event
	if ev["user_ipaddress"] != "203.0.113.x" {
		t.Errorf("user_ipaddress = %v, want 203.0.113.x (anon_ip with one octet)", ev["user_ipaddress"])
	}
	lossy := lossyEvents(t, s)[ev["event_id"].(string)]
	ya, _ := lossy["contexts_nl_basjes_yauaa_context_1"].([]any)
	if len(ya) != 1 || ya[0].(map[string]any)["deviceClass"] != "Desktop" || ya[0].(map[string]any)["agentName"] != "Chrome" {
		t.Errorf("yauaa context = %v, want a Desktop Chrome", ya)
	}
	if _, ok := lossy["contexts_com_snowplowanalytics_snowplow_ua_parser_context_1"]; ok {
		t.Error("ua_parser_context present, but its config is disabled and the defaults do not apply with --enrichments")
	}
	if ev["mkt_source"] != nil {
		t.Errorf("mkt_source = %v: campaign attribution is not configured", ev["mkt_source"])
	}

	// check-config names the broken file.
	bad := filepath.Join(dir, "broken.json")
	if err := os.WriteFile(bad, []byte(`{"schema":"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0","data":{"name":"cookie_extractor_config","vendor":"com.snowplowanalytics.snowplow","enabled":true,"parameters":{"cookies":"sp"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"check-config", "--enrichments", dir}, func(string) string { return "" }, &stdout, &stderr, nil); code != 1 {
		t.Fatalf("check-config with a broken enrichment = %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "broken.json") || !strings.Contains(stderr.String(), "cookies") {
		t.Errorf("check-config error %q does not name the file and the key", stderr.String())
	}
}
