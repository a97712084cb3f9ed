package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// writeConfig writes a YAML config file for --config.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends one request to s and returns the status and body.
func (s *server) do(t *testing.T, method, path string, header map[string]string, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if host != "" {
		req.Host = host
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metric returns the value of one sample of /metrics, e.g.
// `snowplow_mini_web_waits_total{result="complete"}`.
func (s *server) metric(t *testing.T, sample string) float64 {
	t.Helper()
	_, body := s.do(t, http.MethodGet, "/metrics", nil, "")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", sample, err)
			}
			return f
		}
	}
	t.Fatalf("no sample %s in /metrics", sample)
	return 0
}

// DNS rebinding: a page of evil.example whose name resolves to 127.0.0.1 reaches the
// server with Host evil.example; it must not be answered.
func TestServeChecksHostWhenBoundToLoopback(t *testing.T) {
	s := startServe(t, t.TempDir(), nil, "--allowed-hosts", "devbox.test, pinned.test:8080")
	port := s.base[strings.LastIndex(s.base, ":")+1:]
	for _, tt := range []struct {
		host string
		want int
	}{
		{"localhost:" + port, 200},
		{"127.0.0.1:" + port, 200},
		{"[::1]:" + port, 200},
		{"LOCALHOST:" + port, 200},
		{"app.localhost:" + port, 200},
		{"10.0.2.2:" + port, 200}, // an emulator's name for the host
		{"devbox.test:" + port, 200},
		{"devbox.test", 200},
		{"pinned.test:8080", 200},
		{"pinned.test:" + port, 403},
		{"evil.example:" + port, 403},
		{"localhost.evil.example:" + port, 403},
		{"127.0.0.1.evil.example:" + port, 403},
	} {
		for _, path := range []string{"/micro/all", "/i?e=pv&p=web&tv=t", "/health"} {
			code, body := s.do(t, http.MethodGet, path, nil, tt.host)
			if code != tt.want {
				t.Errorf("GET %s with Host %q = %d %q, want %d", path, tt.host, code, body, tt.want)
			}
			if code == 403 && !strings.Contains(body, "--allowed-hosts") {
				t.Errorf("GET %s with Host %q = %q, want a message naming --allowed-hosts", path, tt.host, body)
			}
		}
	}
}

func TestServeAPIKey(t *testing.T) {
	const key = "0f6c1d2e-key-for-tests-3a4b"
	s := startServe(t, t.TempDir(), nil, "--api-key", key, "--pprof")
	withKey := map[string]string{"X-API-Key": key}
	for _, tt := range []struct {
		method, path string
		header       map[string]string
		want         int
	}{
		{"GET", "/micro/all", nil, 401},
		{"POST", "/micro/reset", nil, 401},
		{"GET", "/micro/good", map[string]string{"X-API-Key": "wrong-key-of-some-length"}, 401},
		{"GET", "/micro/all", withKey, 200},
		{"GET", "/micro/all", map[string]string{"apikey": key}, 200},
		{"POST", "/micro/reset", withKey, 200},
		{"GET", "/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", nil, 401},
		{"GET", "/debug/pprof/", nil, 401},
		{"GET", "/debug/pprof/", withKey, 200},
		// The Iglu Server API checks its own keys, not this one: without an Iglu key a
		// deletion is Iglu Server's 401 "Not enough permissions".
		{"DELETE", "/api/schemas/com.acme/x/jsonschema/1-0-0", nil, 401},
		// Open without a key: the UI page (it asks for the key), Iglu reads, the
		// collector, health, metrics, and CORS preflights (browsers send no key).
		{"GET", "/micro/ui", nil, 200},
		{"GET", "/api/schemas/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0", nil, 200},
		{"GET", "/i?e=pv&p=web&tv=t", nil, 200},
		{"GET", "/health", nil, 200},
		{"GET", "/metrics", nil, 200},
		{"OPTIONS", "/micro/good", map[string]string{"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}, 200},
	} {
		code, body := s.do(t, tt.method, tt.path, tt.header, "")
		if code != tt.want {
			t.Errorf("%s %s %v = %d %.200q, want %d", tt.method, tt.path, tt.header, code, body, tt.want)
		}
		if code == 401 && !strings.HasPrefix(tt.path, "/api/") && !strings.Contains(body, "X-API-Key") {
			t.Errorf("%s %s = 401 %q, want a message naming the header", tt.method, tt.path, body)
		}
	}
	if strings.Contains(s.stderr.String(), key) {
		t.Errorf("the API key appears in the log:\n%s", s.stderr.String())
	}
}

// A name like ".." must never reach an HTTP registry (with its API key) as a path,
// and an unreachable registry must not show its transport errors to clients.
func TestServeIgluNamesAndErrors(t *testing.T) {
	var hits atomic.Int64
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer registry.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := closed.Addr().String()
	closed.Close() // nothing listens there any more: connections are refused
	rc := filepath.Join(t.TempDir(), "resolver.json")
	if err := os.WriteFile(rc, []byte(`{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"cacheSize":10,"repositories":[
		{"name":"Registry","priority":0,"vendorPrefixes":["com.x"],"connection":{"http":{"uri":"`+registry.URL+`/api","apikey":"registry-secret"}}},
		{"name":"Dead","priority":1,"vendorPrefixes":["com.dead"],"connection":{"http":{"uri":"http://`+deadAddr+`/api"}}}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, t.TempDir(), nil, "--resolver", rc)
	for _, path := range []string{"/micro/iglu/com.x/../jsonschema/1-0-0", "/micro/iglu/../x/jsonschema/1-0-0", "/micro/iglu/com.x/a.b/jsonschema/1-0-0"} {
		if code, body := s.do(t, http.MethodGet, path, nil, ""); code != http.StatusBadRequest {
			t.Errorf("GET %s = %d %q, want 400", path, code, body)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the registry was asked %d times for invalid names, want never", n)
	}
	code, body := s.do(t, http.MethodGet, "/micro/iglu/com.dead/x/jsonschema/1-0-0", nil, "")
	if code != http.StatusNotFound || strings.Contains(body, deadAddr) || strings.Contains(body, "refused") || !strings.Contains(body, "RepoFailure") {
		t.Errorf("lookup in an unreachable registry = %d %s, want 404 with RepoFailure and no transport detail", code, body)
	}
}

// Clients that stall just before the end of a 2 MB body are disconnected by the read
// timeout, and the memory of their bodies is freed.
func TestServeSlowBodiesAreCut(t *testing.T) {
	cfg := writeConfig(t, `
http: {readHeaderTimeout: 1s, readTimeout: 1s, writeTimeout: 3s}
web: {wait: {defaultTimeout: 1s, maxTimeout: 2s}}
`)
	s := startServe(t, t.TempDir(), nil, "--config", cfg)
	addr := strings.TrimPrefix(s.base, "http://")
	const conns, size = 40, 2_000_000
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	body := strings.Repeat("x", size-1)
	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		fmt.Fprintf(c, "POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", addr, size, body)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var stillOpen atomic.Int64
	for _, c := range open {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.Copy(io.Discard, c) // until the server closes the connection
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				stillOpen.Add(1)
			}
		})
	}
	wg.Wait()
	if n := stillOpen.Load(); n > 0 {
		t.Fatalf("%d of %d stalled connections were still open after 10s (read timeout 1s)", n, conns)
	}
	t.Logf("%d stalled connections closed by the server after %s", conns, time.Since(start).Round(time.Millisecond))
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 16<<20 {
		t.Errorf("the heap grew by %d MB after the stalled connections were closed, want their bodies freed", grown>>20)
	}
	if code, _ := s.do(t, http.MethodGet, "/health", nil, ""); code != 200 {
		t.Errorf("/health = %d after the slow clients, want 200", code)
	}
}

// Beyond http.maxConnections, new connections wait until one closes.
func TestServeConnectionCap(t *testing.T) {
	cfg := writeConfig(t, "http: {maxConnections: 2}\n")
	s := startServe(t, t.TempDir(), nil, "--config", cfg)
	addr := strings.TrimPrefix(s.base, "http://")
	// Two keep-alive connections, each answered once (so accepted), then idle.
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		held = append(held, c)
	}
	third := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := third.Get(s.base + "/health"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was answered (%d) while 2 of http.maxConnections 2 were open", resp.StatusCode)
	}
	held[0].Close()
	third.Timeout = 5 * time.Second
	resp, err := third.Get(s.base + "/health")
	if err != nil {
		t.Fatalf("after one connection closed, a new one still waits: %v", err)
	}
	resp.Body.Close()
	if !strings.Contains(s.stderr.String(), "connection cap reached") {
		t.Errorf("no warning about the connection cap in the log:\n%s", s.stderr.String())
	}
}

// A flood of large bad requests keeps the process's memory within the documented
// bound: the streams' byte limits plus a margin for the rest (the test API keeps no
// copy of the events: it reads the event store).
func TestServeByteFloodStaysBounded(t *testing.T) {
	const streamBytes = 16 << 20
	cfg := writeConfig(t, fmt.Sprintf(`
streams: {maxBytes: %d}
`, streamBytes))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	s := startServe(t, t.TempDir(), nil, "--config", cfg)

	// A body that is not JSON gives a tracker_protocol_violations bad row that carries
	// it twice (about 900 KB, under the 1 MB record limit).
	const requests, size = 150, 450_000
	body := strings.Repeat("x", size)
	for i := range requests {
		// 503 (a stream is full while the loaders catch up) is retried, as trackers do.
		for try := 0; ; try++ {
			resp, err := http.Post(s.base+"/com.snowplowanalytics.snowplow/tp2?aid=flood", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
			if resp.StatusCode != 503 || try == 100 {
				t.Fatalf("request %d = %d", i, resp.StatusCode)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	poll.UntilState(t, "the event store to hold every bad row", 60*time.Second, func() (bool, string) {
		var sum summary
		s.getJSON(t, "/micro/all", &sum)
		return sum.Bad >= requests, fmt.Sprint(sum.Bad)
	})
	// Reading them back renders each on the fly and keeps none.
	var bad []json.RawMessage
	s.getJSON(t, "/micro/bad?limit=5", &bad)
	if len(bad) != 5 {
		t.Errorf("/micro/bad?limit=5 = %d events, want 5", len(bad))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Four streams at streams.maxBytes, and 64 MB for everything else (SQLite, the
	// enrich and loader batches in flight, the schemas).
	bound := int64(4*streamBytes + 64<<20)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("after %d requests of %d KB: heap grew by %d MB (bound %d MB)", requests, size/1000, grown>>20, bound>>20)
	if grown > bound {
		t.Errorf("the heap grew by %d MB during a flood of %d MB, over the bound of %d MB", grown>>20, requests*size>>20, bound>>20)
	}
}

// Everything in the data dir is its owner's only.
func TestServeDataFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir, nil)
	if code, _ := s.do(t, http.MethodGet, "/i?e=pv&p=web&tv=t&aid=modes", nil, ""); code != 200 {
		t.Fatalf("GET /i = %d", code)
	}
	poll.UntilState(t, "the event in the test API", 10*time.Second, func() (bool, string) {
		var sum summary
		s.getJSON(t, "/micro/all", &sum)
		return sum.Good == 1, fmt.Sprint(sum)
	})
	s.stop(t) // the S3-style files are written at shutdown at the latest
	var files int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %s, want %s", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.db")); err != nil || files < 2 {
		t.Errorf("the data dir holds %d files (events.db: %v), want the database and S3-style files", files, err)
	}
}

func TestServerURLs(t *testing.T) {
	ifaces := func() ([]net.Addr, error) {
		return []net.Addr{
			&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
			&net.IPNet{IP: net.ParseIP("192.168.1.20"), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
			&net.IPNet{IP: net.ParseIP("2001:db8::5"), Mask: net.CIDRMask(64, 128)},
		}, nil
	}
	none := func() ([]net.Addr, error) { return nil, errors.New("no interfaces") }
	for _, tt := range []struct {
		addr  *net.TCPAddr
		iface func() ([]net.Addr, error)
		want  string
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 9090}, ifaces, "http://127.0.0.1:9090"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 9090}, ifaces, "http://localhost:9090 http://192.168.1.20:9090"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9090}, ifaces, "http://localhost:9090 http://192.168.1.20:9090 http://[2001:db8::5]:9090"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 9090}, none, "http://localhost:9090 http://<this-host>:9090"},
	} {
		if got := strings.Join(serverURLs(tt.addr, tt.iface), " "); got != tt.want {
			t.Errorf("serverURLs(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestServeWarnsWhenNotOnLoopback(t *testing.T) {
	s := startServe(t, t.TempDir(), nil, "--addr", "0.0.0.0:0")
	log := s.stderr.String()
	if !strings.Contains(log, "listening on a non-loopback address") || !strings.Contains(log, "http://localhost:") {
		t.Errorf("serve on 0.0.0.0 logged:\n%s\nwant a warning with usable URLs", log)
	}
	if strings.Contains(log, "http://0.0.0.0") || strings.Contains(log, "http://[::]") {
		t.Errorf("serve on 0.0.0.0 logged an unusable URL:\n%s", log)
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		want string
	}{
		{"http: {readTimeout: 0s}", "http.readTimeout"},
		{"http: {readTimeout: 200s, writeTimeout: 150s}", "http.writeTimeout: 2m30s: must be at least http.readTimeout"},
		{"http: {writeTimeout: 130s}\nweb: {wait: {maxTimeout: 140s}}", "longer than web.wait.maxTimeout"},
		{"http: {maxConnections: 0}", "http.maxConnections"},
		{"http: {apiKey: short}", "http.apiKey: must be at least 16"},
		{"http: {allowedHosts: ['http://x']}", "http.allowedHosts[0]"},
		{"web: {maxPageSize: 0}", "web.maxPageSize"},
		{"web: {allowedOrigins: ['localhost:3000']}", "web.allowedOrigins[0]"},
	} {
		cfg := DefaultConfig()
		if err := readConfigFile(writeConfig(t, tt.yaml), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate with %q = %v, want an error with %q", tt.yaml, err, tt.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

func TestCheckConfigHidesAPIKey(t *testing.T) {
	const key = "k3y-from-the-environment-0001"
	env := func(name string) string {
		if name == "SNOWPLOW_MINI_API_KEY" {
			return key
		}
		return ""
	}
	var stdout, stderr strings.Builder
	code := run(t.Context(), []string{"check-config", "--resolver", offlineResolver(t)}, env, &stdout, &stderr, nil)
	if code != 0 {
		t.Fatalf("check-config = %d: %s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), key) || !strings.Contains(stdout.String(), "apiKey: <redacted>") {
		t.Errorf("check-config printed:\n%s\nwant the API key as <redacted>", stdout.String())
	}
}
