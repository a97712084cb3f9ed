package main

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
)

// seen is what a handler saw of one request.
type seen struct {
	Method, URI, Host string
	ContentLength     int64
	Header            http.Header
	Body              string
}

// TestWireRequestMatchesClient checks that a pre-built request reaches the server as
// the same request http.Client sends, for both payloads' header sets, so that the
// collector records the same headers whichever way the load is sent.
func TestWireRequestMatchesClient(t *testing.T) {
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.RequestURI, r.Host, r.ContentLength, r.Header.Clone(), string(body)})
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	browser := http.Header{}
	for _, kv := range browserload.Headers(7) {
		browser.Set(kv[0], kv[1])
	}
	tests := []struct {
		name   string
		header http.Header
		body   []byte
	}{
		{"fixtures", http.Header{"Content-Type": {browserload.ContentType}}, []byte(`{"schema":"x","data":[]}`)},
		{"browser", browser, (&browserload.Generator{AppID: "load"}).Body(7)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			req, err := http.NewRequest(http.MethodPost, srv.URL+browserload.Path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header = tt.header.Clone()
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			wire, err := wireRequest(host, tt.header, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			c, err := dial(host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for range 2 { // the connection carries a second request
				status, keep, err := c.roundTrip(wire)
				if err != nil || status != http.StatusOK || !keep {
					t.Fatalf("roundTrip = %d, %v, %v, want 200, true, nil", status, keep, err)
				}
			}
			if len(got) != 3 {
				t.Fatalf("server saw %d requests, want 3", len(got))
			}
			for i := 1; i < 3; i++ {
				if diff := cmp.Diff(got[0], got[i]); diff != "" {
					t.Errorf("pre-built request %d differs from http.Client's (-client +pre-built):\n%s", i, diff)
				}
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		wantStatus int
		wantKeep   bool
		wantErr    bool
	}{
		{"ok", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, true, false},
		{"empty body", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", 200, true, false},
		{"unavailable, close", "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfull\n", 503, false, false},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0, false, true},
		{"no length", "HTTP/1.1 200 OK\r\n\r\n", 0, false, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok", 0, false, true},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, keep, err := readResponse(bufio.NewReader(strings.NewReader(tt.in)))
			if (err != nil) != tt.wantErr || status != tt.wantStatus || keep != tt.wantKeep {
				t.Errorf("readResponse(%q) = %d, %v, %v, want %d, %v, error %v", tt.in, status, keep, err, tt.wantStatus, tt.wantKeep, tt.wantErr)
			}
		})
	}

	// Two answers back to back: the first one's body must be consumed whole.
	rd := bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
	for _, want := range []int{200, 400} {
		if status, _, err := readResponse(rd); err != nil || status != want {
			t.Errorf("readResponse = %d, %v, want %d, nil", status, err, want)
		}
	}
}

// TestSideBySideParts checks the pieces of the side-by-side mode: a run's result line
// reads back as printed, a run gets every flag set but -bin and -rounds, and the
// summary gives medians and ranges.
func TestSideBySideParts(t *testing.T) {
	want := runResult{CPUPerEvent: 81.5, EventsPerSec: 19304, PeakRSSMB: 326}
	out := "collector: …\nsnowplow-mini: …\n" + want.line() + "\n"
	got, err := parseResult([]byte(out))
	if err != nil || got != want {
		t.Errorf("parseResult(%q) = %+v, %v; want %+v", out, got, err, want)
	}
	if _, err := parseResult([]byte("collector: …\n")); err == nil {
		t.Error("parseResult of output without a result line: no error")
	}

	fs := flag.NewFlagSet("pipeline", flag.ContinueOnError)
	fs.String("bin", "", "")
	fs.Int("rounds", 1, "")
	fs.Int("warmup", 0, "")
	fs.String("payload", "fixtures", "")
	fs.Int("requests", 20000, "")
	fs.Int("c", 32, "")
	if err := fs.Parse([]string{"-bin", "/tmp/a,/tmp/b", "-rounds", "3", "-warmup", "1", "-payload", "browser", "-requests", "100"}); err != nil {
		t.Fatal(err)
	}
	if got, want := childArgs(fs, "/tmp/b"), []string{"-bin=/tmp/b", "-payload=browser", "-requests=100"}; !slices.Equal(got, want) {
		t.Errorf("childArgs = %q, want %q", got, want)
	}

	rs := []runResult{{90, 17000, 360}, {82, 19000, 330}, {86, 18000, 340}, {75, 21000, 325}}
	sum := summarize("/tmp/b", rs)
	for _, part := range []string{"4 runs", "median 84 µs (75–90)", "median 18500 (17000–21000)", "median 335 MB (325–360)"} {
		if !strings.Contains(sum, part) {
			t.Errorf("summary %q does not say %q", sum, part)
		}
	}
}
