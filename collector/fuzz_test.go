package collector

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
)

// FuzzTP2 posts arbitrary bodies and query strings to a collector whose records are
// limited to 2000 bytes, so that most inputs go through splitting, and checks that what
// reaches the streams accounts for the request: a 200 always leaves records, every raw
// record fits and decodes, every bad record is a size_violation, and split records hold
// the original data elements in order.
func FuzzTP2(f *testing.F) {
	f.Add("", "application/json; charset=UTF-8", []byte(tp2Body))
	f.Add("e=pv&cv=x", "application/json", []byte(sdj(event(1, 10), event(2, 700), event(3, 1500), event(4, 10))))
	var many []string
	for i := range 40 {
		many = append(many, event(i, 30))
	}
	f.Add("", "application/json", []byte(sdj(many...)))
	f.Add("x="+strings.Repeat("q", 1900), "application/json", []byte(sdj(event(1, 0))))
	f.Add("", "text/plain", []byte(strings.Repeat("not json ", 300)))
	f.Add("", "", []byte(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":[[1,2],{"a":[{}]},"s",null,1e400]}`+strings.Repeat(" ", 2500)))
	f.Add("", "application/json", []byte("\xff\xfe"+strings.Repeat("\x00", 3000)))
	if dir, err := os.Getwd(); err == nil {
		files, _ := filepath.Glob(filepath.Join(dir, "..", "..", "shared", "fixtures", "node-post-*.json"))
		for _, name := range files {
			var fx struct{ BodyUTF8 string }
			if b, err := os.ReadFile(name); err == nil && json.Unmarshal(b, &fx) == nil {
				f.Add("", "application/json; charset=UTF-8", []byte(fx.BodyUTF8))
			}
		}
	}
	f.Fuzz(func(t *testing.T, query, contentType string, reqBody []byte) {
		if strings.ContainsAny(query, "# \r\n\x00") {
			return // not a query string a server would hand over
		}
		h := smallRecords(t, 2000, 20000)
		req := httptest.NewRequest("POST", tp2Path, bytes.NewReader(reqBody))
		req.URL.RawQuery = query
		if contentType != "" {
			req.Header["Content-Type"] = []string{contentType}
		}
		resp := h.do(req)
		if resp.StatusCode != http.StatusOK {
			if resp.StatusCode == http.StatusRequestEntityTooLarge && len(reqBody) > 80000 {
				return
			}
			t.Fatalf("POST = %d %q, want 200", resp.StatusCode, body(t, resp))
		}
		raws := readAll(t, h.raw)
		bads := readAll(t, h.bad)
		if len(raws)+len(bads) == 0 {
			t.Fatalf("a 200 left no record")
		}
		for _, b := range bads {
			var row sizeViolation
			if err := json.Unmarshal(b.Data, &row); err != nil || !strings.Contains(row.Schema, "/size_violation/") {
				t.Fatalf("bad record %q is not a size_violation (%v)", b.Data, err)
			}
		}
		var ps []*payload.CollectorPayload
		for _, r := range raws {
			if n := len(r.Data) + len(r.PartitionKey); n >= 2000 {
				t.Fatalf("raw record of %d bytes with its key, want < 2000", n)
			}
			p, err := payload.Decode(r.Data)
			if err != nil {
				t.Fatalf("Decode(raw record) error = %v", err)
			}
			if p.Querystring != query || p.Path != tp2Path {
				t.Fatalf("recorded query %q path %q, want %q %q", p.Querystring, p.Path, query, tp2Path)
			}
			ps = append(ps, p)
		}
		text := toValidUTF8(string(reqBody))
		if len(ps) == 1 && len(bads) == 0 && ps[0].Body == text {
			return // fitted whole
		}
		if len(ps) == 0 {
			return // wholly a size_violation
		}
		// Split: the records' data arrays, in order, are the original's elements less
		// those reported too large.
		_, want, msg := splitBody(text)
		if msg != "" {
			t.Fatalf("records were split from a body splitBody rejects: %s", msg)
		}
		var got []string
		for _, p := range ps {
			_, elems, msg := splitBody(p.Body)
			if msg != "" {
				t.Fatalf("split record body %q: %s", p.Body, msg)
			}
			got = append(got, elems...)
		}
		if len(got)+len(bads) != len(want) && !(len(want) == 0 && len(got) == 0) {
			t.Fatalf("split kept %d elements and reported %d, original has %d", len(got), len(bads), len(want))
		}
		i := 0
		for _, w := range want {
			if i < len(got) && got[i] == w {
				i++
			}
		}
		if i != len(got) {
			t.Fatalf("split elements are not the original's in order:\n%s", cmp.Diff(want, got))
		}
	})
}

// FuzzRequestHeaders sends arbitrary Origin, Cookie, X-Forwarded-For and nuid values and
// checks that the answer's cookie and CORS headers stay well formed.
func FuzzRequestHeaders(f *testing.F) {
	f.Add("https://www.acme.com", "sp=abc; a=b", "203.0.113.1", "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11")
	f.Add("null", "sp=\"x\"", "unknown, 1.2.3.4", "a;b=c; Domain=evil")
	f.Add("https://a.com http://b.com:80", "", "::1", "")
	f.Add("ht tp://%zz", "sp=;;;", "[::1]:80", "%00")
	f.Fuzz(func(t *testing.T, origin, cookie, xff, nuid string) {
		cfg := DefaultConfig()
		cfg.Cookie.Domains = []string{"acme.com"}
		h := newHarness(t, cfg)
		req := httptest.NewRequest("GET", "/i", nil)
		req.URL.RawQuery = "nuid=" + url.QueryEscape(nuid)
		req.Header["Origin"] = []string{origin}
		req.Header["Cookie"] = []string{cookie}
		req.Header["X-Forwarded-For"] = []string{xff}
		resp := h.do(req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /i = %d, want 200", resp.StatusCode)
		}
		acao := resp.Header.Get("Access-Control-Allow-Origin")
		if acao != "*" {
			if o, ok := parseOrigin(acao); !ok || o.rendered != acao {
				t.Fatalf("Access-Control-Allow-Origin = %q for Origin %q", acao, origin)
			}
		}
		for _, sc := range resp.Header.Values("Set-Cookie") {
			attrs := strings.Split(sc, "; ")
			if len(attrs) < 2 || !strings.HasPrefix(attrs[1], "Expires=") || strings.ContainsAny(attrs[0], " ;\"\\,\r\n") {
				t.Fatalf("Set-Cookie = %q for nuid %q", sc, nuid)
			}
		}
		p := h.onePayload(t)
		if p.IPAddress == "" || p.NetworkUserID == "" {
			t.Fatalf("recorded ip %q nuid %q, want both set", p.IPAddress, p.NetworkUserID)
		}
	})
}
