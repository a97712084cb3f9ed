package collector

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
)

// fixture is a recorded tracker request: the .http file's bytes and its .json
// description.
type fixture struct {
	name string
	raw  []byte
	meta struct {
		Method     string   `json:"method"`
		URL        string   `json:"url"`
		Path       string   `json:"path"`
		RawHeaders []string `json:"rawHeaders"`
		BodyUTF8   string   `json:"bodyUtf8"`
	}
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	dir := filepath.Join(sharedDir(t), "fixtures")
	files, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v)", dir, err)
	}
	var out []fixture
	for _, f := range files {
		fx := fixture{name: strings.TrimSuffix(filepath.Base(f), ".http")}
		if fx.raw, err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
		meta, err := os.ReadFile(strings.TrimSuffix(f, ".http") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(meta, &fx.meta); err != nil {
			t.Fatalf("%s.json: %v", fx.name, err)
		}
		out = append(out, fx)
	}
	return out
}

// replay writes the raw request bytes to addr and reads the answer.
func replay(t *testing.T, addr string, raw []byte) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := conn.Write(raw); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	return resp
}

// TestFixtures replays every recorded tracker request byte for byte over a real HTTP
// connection and checks what reaches the raw stream.
func TestFixtures(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(fx.raw)))
			if err != nil {
				t.Fatalf("ReadRequest(%s.http) error = %v", fx.name, err)
			}
			if req.Method != fx.meta.Method || req.RequestURI != fx.meta.URL {
				t.Fatalf("%s.http is %s %s, its .json says %s %s", fx.name, req.Method, req.RequestURI, fx.meta.Method, fx.meta.URL)
			}

			h := newHarness(t, DefaultConfig())
			srv := httptest.NewServer(h.c.Handler())
			defer srv.Close()
			resp := replay(t, srv.Listener.Addr().String(), fx.raw)
			got := body(t, resp)
			if resp.StatusCode/100 != 2 {
				t.Fatalf("status = %d (%q), want 2xx", resp.StatusCode, got)
			}
			if v := resp.Header.Get("Access-Control-Allow-Credentials"); v != "true" {
				t.Errorf("Access-Control-Allow-Credentials = %q, want true", v)
			}

			p := h.onePayload(t)
			_, query, _ := strings.Cut(fx.meta.URL, "?")
			want := &payload.CollectorPayload{
				Schema:        payload.SchemaURI,
				IPAddress:     "127.0.0.1",
				Timestamp:     testNow.UnixMilli(),
				Encoding:      "UTF-8",
				Collector:     "snowplow-mini-collector-0.1.0",
				UserAgent:     "node",
				Path:          fx.meta.Path,
				Querystring:   query,
				Body:          fx.meta.BodyUTF8,
				Headers:       wantHeaders(fx.meta.RawHeaders, fx.meta.Method == http.MethodPost),
				Hostname:      "127.0.0.1",
				NetworkUserID: p.NetworkUserID,
			}
			if fx.meta.Method == http.MethodPost {
				want.ContentType = "application/json; charset=utf-8"
			}
			if diff := cmp.Diff(want, p); diff != "" {
				t.Errorf("recorded payload mismatch (-want +got):\n%s", diff)
			}
			if id, err := uuid.Parse(p.NetworkUserID); err != nil || id.Version() != 4 || id.Variant() != uuid.RFC4122 || id.String() != p.NetworkUserID {
				t.Errorf("NetworkUserID = %q, want a random (version 4) UUID in canonical form", p.NetworkUserID)
			}
			wantCookie := "sp=" + p.NetworkUserID + "; Expires=Sat, 01 Mar 2025 12:00:00 GMT; Path=/; SameSite=None; Secure; HttpOnly"
			if c := resp.Header.Get("Set-Cookie"); c != wantCookie {
				t.Errorf("Set-Cookie = %q, want %q", c, wantCookie)
			}
			if fx.meta.Method == http.MethodGet {
				if got != string(pixelGIF[:]) || resp.Header.Get("Content-Type") != "image/gif" {
					t.Errorf("answer = %q (%s), want the pixel", got, resp.Header.Get("Content-Type"))
				}
			} else if got != "ok" {
				t.Errorf("answer = %q, want ok", got)
			}
		})
	}
}

// wantHeaders is the header list the collector records for raw headers (name, value,
// name, value, …): Host first, then the others by canonical name, then the content type
// of a POST.
func wantHeaders(raw []string, post bool) []string {
	var host string
	var rest [][2]string
	contentType := ""
	for i := 0; i+1 < len(raw); i += 2 {
		name, value := http.CanonicalHeaderKey(raw[i]), raw[i+1]
		if name == "Host" {
			host = "Host: " + value
			continue
		}
		if name == "Content-Type" {
			contentType = strings.ToLower(value)
		}
		rest = append(rest, [2]string{name, value})
	}
	slices.SortStableFunc(rest, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	out := []string{host}
	for _, h := range rest {
		out = append(out, h[0]+": "+h[1])
	}
	if post {
		out = append(out, contentType)
	}
	return out
}
