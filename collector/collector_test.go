package collector

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"gopkg.in/yaml.v3"

	"github.com/snowplow-mini/snowplow-mini/collector/payload"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

const tp2Path = "/com.snowplowanalytics.snowplow/tp2"

const tp2Body = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"js-3.0.0"}]}`

func TestNewRejectsMissingDeps(t *testing.T) {
	raw := &fakeStream{name: streams.Raw}
	tests := []struct {
		name string
		cfg  Config
		deps Deps
		want string
	}{
		{"no raw", DefaultConfig(), Deps{Bad: raw, Version: "1"}, "raw stream is required"},
		{"no bad", DefaultConfig(), Deps{Raw: raw, Version: "1"}, "bad stream is required"},
		{"no version", DefaultConfig(), Deps{Raw: raw, Bad: raw}, "version is required"},
		{"bad config", Config{}, Deps{Raw: raw, Bad: raw, Version: "1"}, "collector.cookie.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, tt.deps)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		want   []string // every error line, in order
	}{
		{"defaults", func(*Config) {}, nil},
		{"same site", func(c *Config) { c.Cookie.SameSite = "x" }, []string{`collector.cookie.sameSite: must be one of None, Lax, Strict, got "x"`}},
		{"same site empty", func(c *Config) { c.Cookie.SameSite = "" }, nil},
		{"cookie name", func(c *Config) { c.Cookie.Name = "" }, []string{`collector.cookie.name: must be a cookie name (letters, digits and !#$%&'*+-.^_` + "`" + `|~), got ""`}},
		{"several at once", func(c *Config) {
			c.Cookie.Domains = []string{"acme.com", "bad domain"}
			c.Cookie.ClientCookieName = "sp"
			c.Networking.DropPayloadSize = 10
			c.PutTimeout = 0
		}, []string{
			`collector.cookie.domains[1]: must be a domain name, got "bad domain"`,
			`collector.cookie.clientCookieName: must differ from cookie.name, got "sp"`,
			`collector.networking.dropPayloadSize: must be at least networking.maxPayloadSize (1048576), got 10`,
			`collector.putTimeout: must be positive, got 0s`,
		}},
		{"dnt regexp", func(c *Config) {
			c.DoNotTrackCookie = DoNotTrackCookieConfig{Enabled: true, Name: "dnt", Value: "("}
		}, []string{"collector.doNotTrackCookie.value: must be a regular expression: error parsing regexp: missing closing ): `(`"}},
		{"bounce", func(c *Config) {
			c.CookieBounce = CookieBounceConfig{Enabled: true, Name: "", FallbackNetworkUserID: "x"}
		}, []string{
			`collector.cookieBounce.name: must be a query parameter name when enabled, got ""`,
			`collector.cookieBounce.fallbackNetworkUserId: must be a UUID, got "x"`,
		}},
		{"paths", func(c *Config) {
			c.Paths = map[string]string{"/a/b": "/c", "x": "/d/e"}
		}, []string{
			`collector.paths["/a/b"]: must be a path /vendor/version, got "/c"`,
			`collector.paths: key must be a path /vendor/version, got "x"`,
		}},
		{"max payload", func(c *Config) { c.Networking.MaxPayloadSize = 0 }, []string{`collector.networking.maxPayloadSize: must be 1..4194304, got 0`}},
		{"root response", func(c *Config) {
			c.RootResponse = RootResponseConfig{Enabled: true, StatusCode: 99, Headers: map[string]string{"bad name": "x"}}
		}, []string{
			`collector.rootResponse.statusCode: must be an HTTP status 100..599, got 99`,
			`collector.rootResponse.headers: must have header names as keys, got "bad name"`,
		}},
		{"cross domain", func(c *Config) { c.CrossDomain = CrossDomainConfig{Enabled: true} }, []string{`collector.crossDomain.domains: must not be empty when enabled`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.modify(&cfg)
			var got []string
			if err := cfg.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte("1h30m")); err != nil || d.Std() != 90*time.Minute {
		t.Errorf("UnmarshalText(1h30m) = %v, %v, want 1h30m0s", d.Std(), err)
	}
	if err := d.UnmarshalText([]byte("soon")); err == nil {
		t.Errorf("UnmarshalText(soon) = nil error, want one")
	}
	if b, _ := Duration(8760 * time.Hour).MarshalText(); string(b) != "8760h0m0s" {
		t.Errorf("MarshalText(8760h) = %q, want 8760h0m0s", b)
	}
}

func TestStaticRoutes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CrossDomain = CrossDomainConfig{Enabled: true, Domains: []string{"*", "*.acme.com"}, Secure: false}
	cfg.RootResponse = RootResponseConfig{Enabled: true, StatusCode: 302, Headers: map[string]string{"Location": "https://acme.com/"}, Body: "moved"}
	h := newHarness(t, cfg)
	tests := []struct {
		method, target string
		wantCode       int
		wantBody       string
		wantHeaders    map[string]string
	}{
		{"GET", "/robots.txt", 200, "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /", nil},
		{"GET", "/crossdomain.xml", 200, "<?xml version=\"1.0\"?>\n<cross-domain-policy>\n" +
			"<allow-access-from domain=\"*\" secure=\"false\" />\n<allow-access-from domain=\"*.acme.com\" secure=\"false\" />\n" +
			"</cross-domain-policy>", map[string]string{"Content-Type": "text/xml"}},
		{"GET", "/", 302, "moved", map[string]string{"Location": "https://acme.com/"}},
		{"GET", "/sink-health", 200, "ok", nil},
		{"GET", "/a/b/c", 404, "404 page not found", nil},
		{"PUT", tp2Path, 404, "404 page not found", nil},
		{"GET", "/health", 404, "404 page not found", nil},
		{"GET", "/r/tp2", 404, "redirects disabled", nil},
		{"POST", "/r/anything", 404, "redirects disabled", nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			resp := h.do(httptest.NewRequest(tt.method, tt.target, nil))
			if got := body(t, resp); resp.StatusCode != tt.wantCode || got != tt.wantBody {
				t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.target, resp.StatusCode, got, tt.wantCode, tt.wantBody)
			}
			for k, v := range tt.wantHeaders {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s header %s = %q, want %q", tt.method, tt.target, k, got, v)
				}
			}
		})
	}
	if n := len(h.payloads(t)); n != 0 {
		t.Errorf("static routes recorded %d payloads, want 0", n)
	}
}

func TestDisabledOptionalRoutes(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	for _, target := range []string{"/", "/crossdomain.xml"} {
		if resp := h.do(httptest.NewRequest("GET", target, nil)); resp.StatusCode != 404 {
			t.Errorf("GET %s = %d, want 404", target, resp.StatusCode)
		}
	}
}

func TestPixel(t *testing.T) {
	for _, tt := range []struct{ method, target, wantPath string }{
		{"GET", "/i?e=pv&aid=shop", "/i"},
		{"HEAD", "/i?e=pv", "/i"},
		{"GET", "/ice.png?e=pv", "/ice.png"},
		{"GET", tp2Path + "?e=pv", tp2Path},
		{"HEAD", "/com.acme/v1?x=1", "/com.acme/v1"},
	} {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			h := newHarness(t, DefaultConfig())
			resp := h.do(httptest.NewRequest(tt.method, tt.target, nil))
			got := body(t, resp)
			wantBody := string(pixelGIF[:])
			if tt.method == "HEAD" {
				wantBody = ""
			}
			if resp.StatusCode != 200 || got != wantBody {
				t.Errorf("%s %s = %d %q, want 200 and the pixel", tt.method, tt.target, resp.StatusCode, got)
			}
			for k, v := range map[string]string{
				"Content-Type":   "image/gif",
				"Cache-Control":  "no-cache, no-store, must-revalidate",
				"Content-Length": "43",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s header %s = %q, want %q", tt.method, tt.target, k, got, v)
				}
			}
			p := h.onePayload(t)
			_, query, _ := strings.Cut(tt.target, "?")
			if p.Path != tt.wantPath || p.Querystring != query || p.Body != "" || p.ContentType != "" {
				t.Errorf("recorded path %q query %q body %q content type %q, want %q %q, no body, no content type",
					p.Path, p.Querystring, p.Body, p.ContentType, tt.wantPath, query)
			}
		})
	}
}

func TestPixelBytes(t *testing.T) {
	// The pixel as the spec gives it in base64.
	const want = "R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw=="
	if got := base64.StdEncoding.EncodeToString(pixelGIF[:]); got != want {
		t.Errorf("pixel = %s, want %s", got, want)
	}
}

func TestPost(t *testing.T) {
	tests := []struct {
		name, contentType, wantContentType string
	}{
		{"js tracker", "application/json; charset=UTF-8", "application/json; charset=utf-8"},
		{"no space", "application/json;charset=UTF-8", "application/json; charset=utf-8"},
		{"plain", "application/json", "application/json"},
		{"quoted", `Application/JSON; Charset="UTF-8"`, "application/json; charset=utf-8"},
		{"form", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded"},
		{"unparsable", "not a type", "not a type"},
		{"none", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, DefaultConfig())
			req := newTP2Request("POST", tp2Path+"?cv=x", tt.contentType, tp2Body)
			resp := h.do(req)
			if got := body(t, resp); resp.StatusCode != 200 || got != "ok" {
				t.Fatalf("POST = %d %q, want 200 ok", resp.StatusCode, got)
			}
			p := h.onePayload(t)
			if p.ContentType != tt.wantContentType {
				t.Errorf("ContentType = %q, want %q", p.ContentType, tt.wantContentType)
			}
			last := p.Headers[len(p.Headers)-1]
			if tt.wantContentType != "" && last != tt.wantContentType {
				t.Errorf("last header = %q, want the bare content type %q", last, tt.wantContentType)
			}
			if p.Body != tp2Body || p.Querystring != "cv=x" || p.Path != tp2Path {
				t.Errorf("recorded body %q query %q path %q", p.Body, p.Querystring, p.Path)
			}
		})
	}
}

func TestInvalidUTF8Body(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.do(newTP2Request("POST", tp2Path, "application/json", "a\xffb\xc3"))
	if got, want := h.onePayload(t).Body, "a\uFFFDb\uFFFD"; got != want {
		t.Errorf("Body = %q, want %q", got, want)
	}
}

func TestHeadersAndIP(t *testing.T) {
	tests := []struct {
		name        string
		headers     [][2]string
		remote      string
		wantIP      string
		wantHeaders []string
	}{
		{
			name:        "peer address",
			headers:     [][2]string{{"user-agent", "node"}, {"accept", "*/*"}},
			remote:      "203.0.113.9:5555",
			wantIP:      "203.0.113.9",
			wantHeaders: []string{"Host: collector.acme.com:8080", "Accept: */*", "User-Agent: node"},
		},
		{
			name:        "forwarded for",
			headers:     [][2]string{{"X-Forwarded-For", "198.51.100.1, 10.0.0.1"}, {"X-Forwarded-For", "10.0.0.2"}},
			remote:      "10.0.0.3:1",
			wantIP:      "198.51.100.1",
			wantHeaders: []string{"Host: collector.acme.com:8080", "X-Forwarded-For: 198.51.100.1, 10.0.0.1", "X-Forwarded-For: 10.0.0.2"},
		},
		{
			name:        "unparsable forwarded for",
			headers:     [][2]string{{"X-Forwarded-For", "unknown"}},
			remote:      "10.0.0.3:1",
			wantIP:      "unknown",
			wantHeaders: []string{"Host: collector.acme.com:8080", "X-Forwarded-For: unknown"},
		},
		{
			name:        "ipv6 peer",
			remote:      "[2001:db8::1]:443",
			wantIP:      "[2001:db8::1]",
			wantHeaders: []string{"Host: collector.acme.com:8080"},
		},
		{
			name:        "cookies re-rendered",
			headers:     [][2]string{{"Cookie", "sp=abc; _ga=GA1.2; bad=a\"b; x=y;"}, {"Cookie", "only=\"quoted\""}},
			remote:      "10.0.0.3:1",
			wantIP:      "10.0.0.3",
			wantHeaders: []string{"Host: collector.acme.com:8080", "Cookie: sp=abc;_ga=GA1.2;x=y"},
		},
		{
			name:        "anonymous",
			headers:     [][2]string{{"SP-Anonymous", "*"}, {"X-Forwarded-For", "198.51.100.1"}, {"X-Real-IP", "198.51.100.1"}, {"Cookie", "sp=abc"}, {"Referer", "https://a/"}},
			remote:      "10.0.0.3:1",
			wantIP:      "unknown",
			wantHeaders: []string{"Host: collector.acme.com:8080", "Referer: https://a/", "Sp-Anonymous: *"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, DefaultConfig())
			req := httptest.NewRequest("GET", "/i?e=pv", nil)
			req.Host = "collector.acme.com:8080"
			req.RemoteAddr = tt.remote
			for _, kv := range tt.headers {
				req.Header.Add(kv[0], kv[1])
			}
			h.do(req)
			p := h.onePayload(t)
			if p.IPAddress != tt.wantIP {
				t.Errorf("IPAddress = %q, want %q", p.IPAddress, tt.wantIP)
			}
			if diff := cmp.Diff(tt.wantHeaders, p.Headers); diff != "" {
				t.Errorf("Headers mismatch (-want +got):\n%s", diff)
			}
			if p.Hostname != "collector.acme.com" {
				t.Errorf("Hostname = %q, want collector.acme.com", p.Hostname)
			}
		})
	}
}

func TestPartitionKey(t *testing.T) {
	tests := []struct {
		name   string
		useIP  bool
		anon   bool
		wantIP bool
	}{
		{"random", false, false, false},
		{"ip", true, false, true},
		{"ip but anonymous", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.UseIPAddressAsPartitionKey = tt.useIP
			h := newHarness(t, cfg)
			req := httptest.NewRequest("GET", "/i?e=pv", nil)
			req.RemoteAddr = "203.0.113.9:5555"
			if tt.anon {
				req.Header.Set("SP-Anonymous", "*")
			}
			h.do(req)
			recs := readAll(t, h.raw)
			if len(recs) != 1 {
				t.Fatalf("raw stream holds %d records, want 1", len(recs))
			}
			pk := recs[0].PartitionKey
			if got := pk == "203.0.113.9"; got != tt.wantIP {
				t.Errorf("partition key = %q, want the client IP: %v", pk, tt.wantIP)
			}
			if !tt.wantIP && len(pk) != 36 {
				t.Errorf("partition key = %q, want a random UUID", pk)
			}
		})
	}
}

func TestCookies(t *testing.T) {
	const expires = "Expires=Sat, 01 Mar 2025 12:00:00 GMT"
	const expired = "Expires=Thu, 02 Mar 2023 12:00:00 GMT" // 365 days before a leap day
	tests := []struct {
		name        string
		modify      func(*Config)
		target      string
		headers     map[string]string
		wantNUID    string // "" means a fresh UUID
		wantCookies []string
	}{
		{
			name:        "new id",
			wantCookies: []string{"sp=NUID; " + expires + "; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name:        "request cookie",
			headers:     map[string]string{"Cookie": "a=1; sp=c6ef3124-b53a-4b13-a233-0088f79dcbcb"},
			wantNUID:    "c6ef3124-b53a-4b13-a233-0088f79dcbcb",
			wantCookies: []string{"sp=c6ef3124-b53a-4b13-a233-0088f79dcbcb; " + expires + "; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name:        "nuid parameter wins over cookie",
			target:      "/i?e=pv&nuid=7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
			headers:     map[string]string{"Cookie": "sp=c6ef3124-b53a-4b13-a233-0088f79dcbcb"},
			wantNUID:    "7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11",
			wantCookies: []string{"sp=7f0c2a4e-8a54-4c52-9d41-0e5b3a0c4e11; " + expires + "; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name:        "nuid parameter cannot inject attributes",
			target:      "/i?nuid=x%3B%20Domain%3Devil.com",
			wantNUID:    "x; Domain=evil.com",
			wantCookies: []string{"sp=xDomain=evil.com; " + expires + "; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name: "attributes",
			modify: func(c *Config) {
				c.Cookie = CookieConfig{Enabled: true, Name: "id", Expiration: Duration(time.Hour), SameSite: "Lax"}
			},
			wantCookies: []string{
				"id=NUID; Expires=Fri, 01 Mar 2024 13:00:00 GMT; Path=/; SameSite=Lax",
			},
		},
		{
			name:        "no same site",
			modify:      func(c *Config) { c.Cookie.SameSite = "" },
			wantCookies: []string{"sp=NUID; " + expires + "; Path=/; Secure; HttpOnly"},
		},
		{
			name: "domain from origin",
			modify: func(c *Config) {
				c.Cookie.Domains = []string{"foo.com", "acme.com"}
				c.Cookie.FallbackDomain = "fallback.com"
			},
			headers:     map[string]string{"Origin": "https://www.acme.com https://other.org"},
			wantCookies: []string{"sp=NUID; " + expires + "; Domain=acme.com; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name: "suffix that is not a subdomain",
			modify: func(c *Config) {
				c.Cookie.Domains = []string{"acme.com"}
				c.Cookie.FallbackDomain = "fallback.com"
			},
			headers:     map[string]string{"Origin": "https://notacme.com"},
			wantCookies: []string{"sp=NUID; " + expires + "; Domain=fallback.com; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name:        "fallback without domains",
			modify:      func(c *Config) { c.Cookie.FallbackDomain = "fallback.com" },
			wantCookies: []string{"sp=NUID; " + expires + "; Domain=fallback.com; Path=/; SameSite=None; Secure; HttpOnly"},
		},
		{
			name:   "client cookie",
			modify: func(c *Config) { c.Cookie.ClientCookieName = "sp_client" },
			wantCookies: []string{
				"sp=NUID; " + expires + "; Path=/; SameSite=None; Secure; HttpOnly",
				"sp_client=NUID; " + expires + "; Path=/; SameSite=None; Secure",
			},
		},
		{
			name:   "disabled",
			modify: func(c *Config) { c.Cookie.Enabled = false },
		},
		{
			name:     "anonymous without cookie",
			headers:  map[string]string{"SP-Anonymous": "*"},
			wantNUID: anonymousNetworkUserID,
		},
		{
			name:        "anonymous deletes the cookie",
			modify:      func(c *Config) { c.Cookie.ClientCookieName = "sp_client" },
			headers:     map[string]string{"SP-Anonymous": "*", "Cookie": "sp=abc; sp_client=abc"},
			wantNUID:    anonymousNetworkUserID,
			wantCookies: []string{"sp=; " + expired + "; Path=/; SameSite=None; Secure; HttpOnly", "sp_client=; " + expired + "; Path=/; SameSite=None; Secure"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tt.modify != nil {
				tt.modify(&cfg)
			}
			h := newHarness(t, cfg)
			target := tt.target
			if target == "" {
				target = "/i?e=pv"
			}
			req := httptest.NewRequest("GET", target, nil)
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp := h.do(req)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			p := h.onePayload(t)
			if tt.wantNUID != "" && p.NetworkUserID != tt.wantNUID {
				t.Errorf("NetworkUserID = %q, want %q", p.NetworkUserID, tt.wantNUID)
			}
			if tt.wantNUID == "" && len(p.NetworkUserID) != 36 {
				t.Errorf("NetworkUserID = %q, want a fresh UUID", p.NetworkUserID)
			}
			var want []string
			for _, c := range tt.wantCookies {
				want = append(want, strings.ReplaceAll(c, "NUID", p.NetworkUserID))
			}
			if diff := cmp.Diff(want, resp.Header.Values("Set-Cookie")); diff != "" {
				t.Errorf("Set-Cookie mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	tests := []struct{ origin, want string }{
		{"", "*"},
		{"null", "*"},
		{"https://www.acme.com", "https://www.acme.com"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"HTTPS://Acme.com", "https://Acme.com"},
		{"https://a.com https://b.com", "https://a.com"},
		{"garbage https://b.com", "https://b.com"},
		{"https://a.com/path", "*"},
		{"a.com", "*"},
	}
	h := newHarness(t, DefaultConfig())
	for _, tt := range tests {
		for _, method := range []string{"GET", "POST", "OPTIONS"} {
			req := newTP2Request(method, tp2Path, "application/json", "")
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			resp := h.do(req)
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.want {
				t.Errorf("%s with Origin %q: Access-Control-Allow-Origin = %q, want %q", method, tt.origin, got, tt.want)
			}
			if got := resp.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("%s with Origin %q: Access-Control-Allow-Credentials = %q, want true", method, tt.origin, got)
			}
		}
	}
}

func TestPreflight(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CORS.AccessControlMaxAge = Duration(90 * time.Second)
	h := newHarness(t, cfg)
	for _, target := range []string{tp2Path, "/i", "/r/tp2", "/anything/at/all", "/"} {
		req := httptest.NewRequest("OPTIONS", target, nil)
		req.Header.Set("Origin", "https://www.acme.com")
		resp := h.do(req)
		got := map[string]string{}
		for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Max-Age"} {
			got[k] = resp.Header.Get(k)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      "https://www.acme.com",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Allow-Headers":     "Content-Type, SP-Anonymous",
			"Access-Control-Max-Age":           "90",
		}
		if b := body(t, resp); resp.StatusCode != 200 || b != "" {
			t.Errorf("OPTIONS %s = %d %q, want 200 with no body", target, resp.StatusCode, b)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("OPTIONS %s headers mismatch (-want +got):\n%s", target, diff)
		}
	}
	if n := len(h.payloads(t)); n != 0 {
		t.Errorf("preflight recorded %d payloads, want 0", n)
	}
}

func TestPathMappings(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Paths = map[string]string{
		"/com.acme/track":    tp2Path,
		"/com.acme/redirect": "/r/tp2",
		"/com.acme/iglu":     "/com.snowplowanalytics.iglu/v1",
	}
	tests := []struct {
		method, target string
		wantCode       int
		wantPath       string
	}{
		{"POST", "/com.acme/track", 200, tp2Path},
		{"GET", "/com.acme/iglu?schema=iglu:com.acme/x/jsonschema/1-0-0", 200, "/com.snowplowanalytics.iglu/v1"},
		{"GET", "/com.acme/redirect?u=https%3A%2F%2Facme.com%2F", 302, "/r/tp2"},
		{"GET", "/com.acme/v1", 200, "/com.acme/v1"},
		{"GET", "/com.snowplowanalytics.snowplow/i", 200, "/com.snowplowanalytics.snowplow/i"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			h := newHarness(t, cfg)
			resp := h.do(newTP2Request(tt.method, tt.target, "application/json", ""))
			if resp.StatusCode != tt.wantCode {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.target, resp.StatusCode, tt.wantCode)
			}
			if p := h.onePayload(t); p.Path != tt.wantPath {
				t.Errorf("recorded path = %q, want %q", p.Path, tt.wantPath)
			}
		})
	}
}

func TestRedirect(t *testing.T) {
	tests := []struct {
		name         string
		domains      []string
		target       string
		wantCode     int
		wantLocation string
	}{
		{"allowed", nil, "/r/tp2?e=pv&u=https%3A%2F%2Fwww.acme.com%2Fpage%3Fa%3D1", 302, "https://www.acme.com/page?a=1"},
		{"any path segment", nil, "/r/click?u=https%3A%2F%2Fa.com%2F", 302, "https://a.com/"},
		{"in redirect domains", []string{"www.acme.com"}, "/r/tp2?u=https%3A%2F%2Fwww.acme.com%2F", 302, "https://www.acme.com/"},
		{"not in redirect domains", []string{"www.acme.com"}, "/r/tp2?u=https%3A%2F%2Fevil.com%2F", 400, ""},
		{"no target", nil, "/r/tp2?e=pv", 400, ""},
		{"unparsable target", nil, "/r/tp2?u=%25zz%3A%2F%2F", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.EnableDefaultRedirect = true
			cfg.RedirectDomains = tt.domains
			h := newHarness(t, cfg)
			resp := h.do(httptest.NewRequest("GET", tt.target, nil))
			if resp.StatusCode != tt.wantCode || resp.Header.Get("Location") != tt.wantLocation {
				t.Errorf("GET %s = %d Location %q, want %d %q", tt.target, resp.StatusCode, resp.Header.Get("Location"), tt.wantCode, tt.wantLocation)
			}
			if resp.Header.Get("Set-Cookie") == "" || resp.Header.Get("Cache-Control") != "" {
				t.Errorf("GET %s: Set-Cookie %q, Cache-Control %q, want a cookie and no Cache-Control",
					tt.target, resp.Header.Get("Set-Cookie"), resp.Header.Get("Cache-Control"))
			}
			p := h.onePayload(t)
			_, query, _ := strings.Cut(tt.target, "?")
			if !strings.HasPrefix(p.Path, "/r/") || p.Querystring != query {
				t.Errorf("recorded path %q query %q, want /r/… and %q", p.Path, p.Querystring, query)
			}
		})
	}
}

func TestDoNotTrack(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DoNotTrackCookie = DoNotTrackCookieConfig{Enabled: true, Name: "dnt", Value: "yes|true"}
	tests := []struct {
		cookie     string
		wantRecord bool
	}{
		{"dnt=yes", false},
		{"dnt=true", false},
		{"dnt=yesplease", true}, // the expression must match the whole value
		{"other=yes", true},
		{"", true},
	}
	for _, tt := range tests {
		for _, method := range []string{"GET", "POST"} {
			t.Run(method+" "+tt.cookie, func(t *testing.T) {
				h := newHarness(t, cfg)
				req := newTP2Request(method, tp2Path, "application/json", "")
				if method == "POST" {
					req = newTP2Request(method, tp2Path, "application/json", tp2Body)
				}
				if tt.cookie != "" {
					req.Header.Set("Cookie", tt.cookie)
				}
				resp := h.do(req)
				if resp.StatusCode != 200 {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
				if got := len(h.payloads(t)) == 1; got != tt.wantRecord {
					t.Errorf("recorded = %v, want %v", got, tt.wantRecord)
				}
				if got := resp.Header.Get("Set-Cookie") != ""; got != tt.wantRecord {
					t.Errorf("Set-Cookie sent = %v, want %v", got, tt.wantRecord)
				}
			})
		}
	}
}

func TestCookieBounce(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CookieBounce.Enabled = true
	tests := []struct {
		name         string
		method       string
		target       string
		cookie       string
		wantCode     int
		wantLocation string
		wantNUID     string // "" and wantCode 200: a fresh UUID; wantCode 302: nothing recorded
	}{
		{"bounce", "GET", "/i?e=pv", "", 302, "/i?e=pv&n3pc=true", ""},
		{"bounce without query", "GET", "/i", "", 302, "/i?n3pc=true", ""},
		{"bounced without cookie", "GET", "/i?e=pv&n3pc=true", "", 200, "", DefaultFallbackNetworkUserID},
		{"bounced with cookie", "GET", "/i?e=pv&n3pc=true", "sp=abc", 200, "", "abc"},
		{"cookie present", "GET", "/i?e=pv", "sp=abc", 200, "", "abc"},
		{"nuid present", "GET", "/i?nuid=def", "", 200, "", "def"},
		{"post is not bounced", "POST", tp2Path, "", 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, cfg)
			req := newTP2Request(tt.method, tt.target, "application/json", "")
			if tt.method == "POST" {
				req = newTP2Request(tt.method, tt.target, "application/json", tp2Body)
			}
			if tt.cookie != "" {
				req.Header.Set("Cookie", tt.cookie)
			}
			resp := h.do(req)
			if resp.StatusCode != tt.wantCode || resp.Header.Get("Location") != tt.wantLocation {
				t.Fatalf("%s %s = %d Location %q, want %d %q", tt.method, tt.target, resp.StatusCode, resp.Header.Get("Location"), tt.wantCode, tt.wantLocation)
			}
			ps := h.payloads(t)
			if tt.wantCode == 302 {
				if len(ps) != 0 {
					t.Errorf("bounce recorded %d payloads, want 0", len(ps))
				}
				if !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "sp=") {
					t.Errorf("bounce Set-Cookie = %q, want the sp cookie", resp.Header.Get("Set-Cookie"))
				}
				return
			}
			if len(ps) != 1 {
				t.Fatalf("recorded %d payloads, want 1", len(ps))
			}
			if tt.wantNUID != "" && ps[0].NetworkUserID != tt.wantNUID {
				t.Errorf("NetworkUserID = %q, want %q", ps[0].NetworkUserID, tt.wantNUID)
			}
		})
	}
}

func TestBodyLimits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Networking.DropPayloadSize = cfg.Networking.MaxPayloadSize
	h := newHarness(t, cfg)
	srv := httptest.NewServer(h.c.Handler())
	defer srv.Close()
	big := strings.Repeat("x", cfg.Networking.DropPayloadSize+1)
	tests := []struct {
		name    string
		chunked bool
	}{
		{"content length", false},
		{"chunked", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest("POST", srv.URL+tp2Path, strings.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			if tt.chunked {
				req.ContentLength = -1
				req.TransferEncoding = []string{"chunked"}
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if got := body(t, resp); resp.StatusCode != 413 {
				t.Errorf("POST of %d bytes = %d %q, want 413", len(big), resp.StatusCode, got)
			}
		})
	}
	if n := len(h.payloads(t)) + len(readAll(t, h.bad)); n != 0 {
		t.Errorf("dropped requests left %d records, want 0", n)
	}
}

// smallRecords returns a harness whose raw stream takes records of at most maxRecord
// bytes, so that splitting is cheap to exercise.
func smallRecords(t testing.TB, maxRecord, maxPayload int) *harness {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Networking.MaxPayloadSize = maxPayload
	cfg.Networking.DropPayloadSize = 4 * maxPayload
	h := newHarness(t, cfg)
	h.c.maxRecordBytes = maxRecord
	return h
}

func sdj(elems ...string) string {
	return `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` + strings.Join(elems, ",") + `]}`
}

func event(i, pad int) string {
	return fmt.Sprintf(`{"e":"pv","eid":"%04d","p":"web","tv":"js","url":"https://acme.com/%s"}`, i, strings.Repeat("a", pad))
}

func TestSplit(t *testing.T) {
	var elems []string
	for i := range 30 {
		elems = append(elems, event(i, 100))
	}
	h := smallRecords(t, 2000, 20000)
	resp := h.do(newTP2Request("POST", tp2Path, "application/json", sdj(elems...)))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	var got []string
	for _, r := range readAll(t, h.raw) {
		if size := len(r.Data) + len(r.PartitionKey); size >= 2000 {
			t.Errorf("record of %d bytes with its partition key, want < 2000", size)
		}
		p, err := payload.Decode(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path != tp2Path || p.ContentType != "application/json" {
			t.Errorf("split record path %q content type %q, want the original's", p.Path, p.ContentType)
		}
		got = append(got, p.Body)
	}
	if len(got) < 3 {
		t.Fatalf("split into %d records, want several", len(got))
	}
	// Records land on shards by partition key; all of one request share one key, so
	// they are in order on one shard.
	var all []string
	for _, b := range got {
		inner := strings.TrimSuffix(strings.TrimPrefix(b, sdj()[:len(sdj())-2]), "]}")
		all = append(all, strings.Split(strings.ReplaceAll(inner, "},{", "}\x00{"), "\x00")...)
	}
	if diff := cmp.Diff(elems, all); diff != "" {
		t.Errorf("split lost or reordered elements (-want +got):\n%s", diff)
	}
	if n := len(readAll(t, h.bad)); n != 0 {
		t.Errorf("bad stream holds %d records, want 0", n)
	}
}

// sizeViolation is the part of a size_violation bad row the tests check.
type sizeViolation struct {
	Schema string
	Data   struct {
		Processor struct{ Artifact, Version string }
		Failure   struct {
			Timestamp               string
			MaximumAllowedSizeBytes int
			ActualSizeBytes         int
			Expectation             string
		}
		Payload string
	}
}

func TestSizeViolations(t *testing.T) {
	tests := []struct {
		name            string
		method          string
		target          string
		body            string
		wantGood        int
		wantExpectation string
		wantMax         int // maxPayloadSize, or the record limit less the partition key (36 bytes)
	}{
		{"over max payload size", "POST", tp2Path, sdj(event(1, 21000)), 0,
			"oversized collector payload: Payload exceeds max size of 20000. Actual length: ", 20000},
		{"get", "GET", "/i?e=pv&x=" + strings.Repeat("a", 3000), "", 0,
			"oversized collector payload: GET requests cannot be split", 1964},
		{"not json", "POST", tp2Path, strings.Repeat("a", 3000), 0,
			"oversized collector payload: cannot split POST requests which are not json ", 1964},
		{"not self-describing", "POST", tp2Path, `{"data":["` + strings.Repeat("a", 3000) + `"]}`, 0,
			"oversized collector payload: cannot split POST requests which are not self-describing", 1964},
		{"no array", "POST", tp2Path, `{"schema":"iglu:a/b/jsonschema/1-0-0","data":"` + strings.Repeat("a", 3000) + `"}`, 0,
			"oversized collector payload: cannot split POST requests which do not contain a data array", 1964},
		{"too big without data", "POST", tp2Path + "?x=" + strings.Repeat("a", 3000), sdj(event(1, 0)), 0,
			`oversized collector payload: cannot split this POST request because event without "data" field is still too big`, 1964},
		{"one element too big", "POST", tp2Path, sdj(event(1, 10), event(2, 2500), event(3, 10)), 1,
			"oversized collector payload: this POST request split is still too large", 1964},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := smallRecords(t, 2000, 20000)
			resp := h.do(newTP2Request(tt.method, tt.target, "application/json", tt.body))
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if n := len(h.payloads(t)); n != tt.wantGood {
				t.Errorf("raw stream holds %d payloads, want %d", n, tt.wantGood)
			}
			bad := readAll(t, h.bad)
			if len(bad) != 1 {
				t.Fatalf("bad stream holds %d records, want 1", len(bad))
			}
			var row sizeViolation
			if err := json.Unmarshal(bad[0].Data, &row); err != nil {
				t.Fatalf("bad row %s: %v", bad[0].Data, err)
			}
			f := row.Data.Failure
			if row.Schema != "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0" ||
				row.Data.Processor.Artifact != "snowplow-mini-collector" || row.Data.Processor.Version != "0.1.0" ||
				f.Timestamp != "2024-03-01T12:00:00.123Z" || f.MaximumAllowedSizeBytes != tt.wantMax ||
				!strings.HasPrefix(f.Expectation, tt.wantExpectation) {
				t.Errorf("bad row = %s\nwant max %d and expectation %q…", bad[0].Data, tt.wantMax, tt.wantExpectation)
			}
			if !strings.HasPrefix(row.Data.Payload, "CollectorPayload(schema:"+payload.SchemaURI+", ipAddress:192.0.2.1, timestamp:1709294400123") ||
				len(row.Data.Payload) > tt.wantMax/10 {
				t.Errorf("bad row payload = %q, want the start of the toString, at most %d bytes", row.Data.Payload, tt.wantMax/10)
			}
			if got := counterValue(h.c.metrics.sizeViolations); got != 1 {
				t.Errorf("size violations metric = %v, want 1", got)
			}
		})
	}
}

func TestBackpressure(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCode  int
		wantRetry string
	}{
		{"full", fmt.Errorf("putting 1 records to stream %q: %w: %w", "raw", streams.ErrFull, context.DeadlineExceeded), 503, "1"},
		{"deadline", context.DeadlineExceeded, 503, "1"},
		{"closed", streams.ErrClosed, 503, "1"},
		{"other", errors.New("disk on fire"), 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := &fakeStream{name: streams.Raw}
			bad := &fakeStream{name: streams.Bad1}
			c, err := New(DefaultConfig(), Deps{Raw: raw, Bad: bad, Version: "0.1.0", Now: func() time.Time { return testNow }})
			if err != nil {
				t.Fatal(err)
			}
			do := func(method string) *http.Response {
				rec := httptest.NewRecorder()
				c.Handler().ServeHTTP(rec, newTP2Request(method, tp2Path, "application/json", tp2Body))
				return rec.Result()
			}
			raw.setErr(tt.err)
			for _, method := range []string{"POST", "GET"} {
				resp := do(method)
				if resp.StatusCode != tt.wantCode || resp.Header.Get("Retry-After") != tt.wantRetry {
					t.Errorf("%s with a failing stream = %d Retry-After %q, want %d %q",
						method, resp.StatusCode, resp.Header.Get("Retry-After"), tt.wantCode, tt.wantRetry)
				}
				if resp.Header.Get("Set-Cookie") != "" {
					t.Errorf("%s with a failing stream sent Set-Cookie", method)
				}
			}
			if c.Healthy() == nil {
				t.Errorf("Healthy() = nil after a failed put, want an error")
			}
			if resp := do("GET"); resp.StatusCode == 200 {
				t.Fatalf("GET still failing = 200")
			}
			rec := httptest.NewRecorder()
			c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/sink-health", nil))
			if rec.Code != 503 || rec.Body.String() != "Service Unavailable" {
				t.Errorf("GET /sink-health while failing = %d %q, want 503 Service Unavailable", rec.Code, rec.Body.String())
			}

			raw.setErr(nil)
			if resp := do("POST"); resp.StatusCode != 200 {
				t.Errorf("POST after recovery = %d, want 200", resp.StatusCode)
			}
			if err := c.Healthy(); err != nil {
				t.Errorf("Healthy() after a successful put = %v, want nil", err)
			}
			if raw.count() != 1 {
				t.Errorf("raw stream holds %d records, want 1 (only the answered-200 one)", raw.count())
			}
		})
	}
}

func TestBackpressureFromMemoryStream(t *testing.T) {
	cfg := streams.DefaultMemoryConfig()
	cfg.Name = streams.Raw
	cfg.MaxBytes = streams.MaxBytesPerPut
	cfg.ConsumerGroups = []string{"enrich"} // never reads: nothing may be dropped
	cfg.PutWait = 0
	raw, err := streams.NewMemory(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	bad := newMemory(t, streams.Bad1)
	c, err := New(DefaultConfig(), Deps{Raw: raw, Bad: bad, Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	handler := c.Handler()
	big := sdj(event(0, 500_000))
	codes := map[int]int{}
	for range 20 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, newTP2Request("POST", tp2Path, "application/json", big))
		codes[rec.Code]++
	}
	accepted := len(readAll(t, raw))
	if codes[200] != accepted || codes[503] != 20-accepted || accepted == 0 || accepted == 20 {
		t.Errorf("answers %v with %d records on the stream, want 200 exactly for each record and 503 for the rest", codes, accepted)
	}
	if c.Healthy() == nil {
		t.Errorf("Healthy() = nil with a full stream, want an error")
	}
}

func TestRegisterOnSharedRouter(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	r := chi.NewRouter()
	r.Get("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("main health")) })
	r.Get("/micro/all", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("micro")) })
	r.Get("/api/*", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("api")) })
	h.c.Register(r)
	tests := []struct{ method, target, want string }{
		{"GET", "/health", "main health"},
		{"GET", "/micro/all", "micro"},
		{"GET", "/api/schemas", "api"},
		{"POST", tp2Path, "ok"},
		{"OPTIONS", tp2Path, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, newTP2Request(tt.method, tt.target, "application/json", "{}"))
		if rec.Code != 200 || rec.Body.String() != tt.want {
			t.Errorf("%s %s = %d %q, want 200 %q", tt.method, tt.target, rec.Code, rec.Body.String(), tt.want)
		}
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/no/such/page", nil))
	if rec.Code != 404 {
		t.Errorf("GET /no/such/page on the shared router = %d, want 404", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	h := newHarness(t, DefaultConfig())
	h.do(newTP2Request("POST", tp2Path, "application/json", tp2Body))
	h.do(httptest.NewRequest("GET", "/i?e=pv", nil))
	h.do(httptest.NewRequest("OPTIONS", "/i", nil))
	h.do(httptest.NewRequest("GET", "/r/tp2", nil))
	h.do(httptest.NewRequest("GET", "/com.acme/v1", nil))
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"tp2 200", counterValue(h.c.metrics.requests.WithLabelValues("tp2", "200")), 1},
		{"pixel 200", counterValue(h.c.metrics.requests.WithLabelValues("pixel", "200")), 1},
		{"options 200", counterValue(h.c.metrics.requests.WithLabelValues("options", "200")), 1},
		{"redirect 404", counterValue(h.c.metrics.requests.WithLabelValues("redirect", "404")), 1},
		{"vendor 200", counterValue(h.c.metrics.requests.WithLabelValues("vendor", "200")), 1},
		{"records put raw", counterValue(h.c.metrics.recordsPut.WithLabelValues("raw")), 3},
		{"request bytes", counterValue(h.c.metrics.requestBytes), float64(len(tp2Body))},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("metric %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	want := []string{
		"snowplow_mini_collector_put_errors_total",
		"snowplow_mini_collector_records_put_total",
		"snowplow_mini_collector_request_body_bytes_total",
		"snowplow_mini_collector_requests_total",
		"snowplow_mini_collector_size_violations_total",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("registered metrics mismatch (-want +got):\n%s", diff)
	}
}

func TestHSTS(t *testing.T) {
	cfg := DefaultConfig()
	cfg.HSTS = HSTSConfig{Enable: true, MaxAge: Duration(24 * time.Hour)}
	h := newHarness(t, cfg)
	for _, target := range []string{"/i", "/robots.txt"} {
		resp := h.do(httptest.NewRequest("GET", target, nil))
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=86400" {
			t.Errorf("GET %s Strict-Transport-Security = %q, want max-age=86400", target, got)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestPutTimeout checks that a stream that would make a put wait for an hour is given
// up on after PutTimeout, with a 503.
func TestPutTimeout(t *testing.T) {
	mcfg := streams.DefaultMemoryConfig()
	mcfg.Name = streams.Raw
	mcfg.MaxBytes = streams.MaxBytesPerPut
	mcfg.ConsumerGroups = []string{"enrich"}
	mcfg.PutWait = time.Hour
	raw, err := streams.NewMemory(mcfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cfg := DefaultConfig()
	cfg.PutTimeout = Duration(50 * time.Millisecond)
	c, err := New(cfg, Deps{Raw: raw, Bad: newMemory(t, streams.Bad1), Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	handler := c.Handler()
	big := sdj(event(0, 900_000))
	for i := range 10 {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, newTP2Request("POST", tp2Path, "application/json", big))
		if rec.Code == http.StatusServiceUnavailable {
			if !strings.Contains(rec.Body.String(), "retry later") || rec.Header().Get("Retry-After") == "" {
				t.Errorf("503 answer = %q, Retry-After %q", rec.Body.String(), rec.Header().Get("Retry-After"))
			}
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d = %d, want 200 until the stream is full, then 503", i, rec.Code)
		}
	}
	t.Fatalf("10 requests of 900 kB into a 5 MiB stream nobody reads were all accepted")
}

func TestConfigFiles(t *testing.T) {
	want := DefaultConfig()
	want.Cookie.Expiration = Duration(30 * 24 * time.Hour)
	want.Cookie.SameSite = "Lax"
	want.Paths = map[string]string{"/com.acme/track": tp2Path}
	want.PutTimeout = Duration(250 * time.Millisecond)
	want.Networking.MaxPayloadSize = 500000

	yamlText := `
cookie:
  expiration: 720h
  sameSite: Lax
paths:
  /com.acme/track: /com.snowplowanalytics.snowplow/tp2
putTimeout: 250ms
networking:
  maxPayloadSize: 500000
`
	jsonText := `{"cookie":{"expiration":"720h","sameSite":"Lax"},"paths":{"/com.acme/track":"/com.snowplowanalytics.snowplow/tp2"},
		"putTimeout":"250ms","networking":{"maxPayloadSize":500000}}`
	tests := []struct {
		name   string
		decode func(*Config) error
	}{
		{"yaml", func(c *Config) error {
			dec := yaml.NewDecoder(strings.NewReader(yamlText))
			dec.KnownFields(true)
			return dec.Decode(c)
		}},
		{"json", func(c *Config) error {
			dec := json.NewDecoder(strings.NewReader(jsonText))
			dec.DisallowUnknownFields()
			return dec.Decode(c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultConfig()
			if err := tt.decode(&got); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded config mismatch (-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
	out, err := yaml.Marshal(DefaultConfig())
	if err != nil || !strings.Contains(string(out), "expiration: 8760h0m0s") {
		t.Errorf("yaml.Marshal(DefaultConfig()) = %s, %v, want durations as strings", out, err)
	}
}

func TestIsDottedQuad(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"127.0.0.1", true},
		{"255.255.255.255", true},
		{"0.0.0.0", true},
		{"256.0.0.1", false},
		{"01.2.3.4", false},
		{"1.2.3", false},
		{"1.2.3.4.5", false},
		{"1.2.3.", false},
		{"::1", false},
		{"a.b.c.d", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := isDottedQuad(tt.in); got != tt.want {
			t.Errorf("isDottedQuad(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
