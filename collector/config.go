package collector

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/snowplow-mini/snowplow-mini/internal/config"
)

// Config configures the collector. Key names follow the Snowplow collector's own
// configuration (collector.cookie.*, collector.paths, …) so that a Snowplow config can be
// carried over by hand. Start from DefaultConfig; the zero value is not valid.
type Config struct {
	// Cookie is the network user id cookie (default: enabled, named sp, one year).
	Cookie CookieConfig `yaml:"cookie" json:"cookie"`

	// DoNotTrackCookie drops requests carrying a given cookie (default disabled).
	DoNotTrackCookie DoNotTrackCookieConfig `yaml:"doNotTrackCookie" json:"doNotTrackCookie"`

	// CookieBounce redirects cookie-less pixel requests once to test whether the browser
	// keeps third-party cookies (default disabled).
	CookieBounce CookieBounceConfig `yaml:"cookieBounce" json:"cookieBounce"`

	// CORS configures preflight answers.
	CORS CORSConfig `yaml:"cors" json:"cors"`

	// EnableDefaultRedirect turns on the click redirect at /r/{anything}. Default false:
	// /r/… answers 404 "redirects disabled" (a custom path mapped to /r/tp2 still
	// redirects).
	EnableDefaultRedirect bool `yaml:"enableDefaultRedirect" json:"enableDefaultRedirect"`

	// RedirectDomains, when not empty, restricts redirect targets to these hosts.
	// Default empty (any target).
	RedirectDomains []string `yaml:"redirectDomains" json:"redirectDomains"`

	// Paths maps custom two-segment paths to the path recorded in the payload, e.g.
	// "/com.acme/track": "/com.snowplowanalytics.snowplow/tp2". Default empty.
	Paths map[string]string `yaml:"paths" json:"paths"`

	// RootResponse answers GET / (default disabled: GET / is left to the rest of the
	// server).
	RootResponse RootResponseConfig `yaml:"rootResponse" json:"rootResponse"`

	// CrossDomain serves /crossdomain.xml (default disabled).
	CrossDomain CrossDomainConfig `yaml:"crossDomain" json:"crossDomain"`

	// Networking holds the request size limits.
	Networking NetworkingConfig `yaml:"networking" json:"networking"`

	// UseIPAddressAsPartitionKey partitions records by client IP instead of a random
	// UUID per request, so that one client's requests stay in order on one shard.
	// Default false.
	UseIPAddressAsPartitionKey bool `yaml:"useIpAddressAsPartitionKey" json:"useIpAddressAsPartitionKey"`

	// PutTimeout bounds how long a request waits for the raw (or bad) stream to accept
	// its records; past it the request is answered 503 with Retry-After. Default 1s.
	PutTimeout Duration `yaml:"putTimeout" json:"putTimeout"`

	// HSTS adds Strict-Transport-Security to every collector response (default
	// disabled).
	HSTS HSTSConfig `yaml:"hsts" json:"hsts"`
}

// CookieConfig is the network user id cookie (collector.cookie).
type CookieConfig struct {
	// Enabled sends the cookie. Default true.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Name of the cookie. Default "sp".
	Name string `yaml:"name" json:"name"`
	// Expiration is the cookie lifetime. Default 8760h (365 days).
	Expiration Duration `yaml:"expiration" json:"expiration"`
	// Domains: the first one that the request's Origin host equals or is a subdomain
	// of becomes the cookie Domain. Default empty.
	Domains []string `yaml:"domains" json:"domains"`
	// FallbackDomain is the cookie Domain when no entry of Domains matches. Default ""
	// (no Domain attribute).
	FallbackDomain string `yaml:"fallbackDomain" json:"fallbackDomain"`
	// Secure sets the Secure attribute. Default true.
	Secure bool `yaml:"secure" json:"secure"`
	// HTTPOnly sets the HttpOnly attribute. Default true.
	HTTPOnly bool `yaml:"httpOnly" json:"httpOnly"`
	// SameSite is None, Lax or Strict; "" leaves the attribute out. Default "None".
	SameSite string `yaml:"sameSite" json:"sameSite"`
	// ClientCookieName, when set, also sends the id in a second cookie of that name
	// without HttpOnly, readable by the page's scripts. Default "".
	ClientCookieName string `yaml:"clientCookieName" json:"clientCookieName"`
}

// DoNotTrackCookieConfig (collector.doNotTrackCookie): a request carrying cookie Name
// with a value that wholly matches the regular expression Value is answered as usual but
// not recorded, and gets no cookie.
type DoNotTrackCookieConfig struct {
	Enabled bool   `yaml:"enabled" json:"enabled"` // default false
	Name    string `yaml:"name" json:"name"`       // default ""
	Value   string `yaml:"value" json:"value"`     // regular expression (RE2), default ""
}

// CookieBounceConfig (collector.cookieBounce).
type CookieBounceConfig struct {
	// Enabled: a pixel GET without cookie and without nuid is answered 302 to the same
	// URL plus Name=true, recording nothing. Default false.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Name of the query parameter that marks the bounced request. Default "n3pc".
	Name string `yaml:"name" json:"name"`
	// FallbackNetworkUserID is recorded when the bounced request still has no cookie.
	// Default "00000000-0000-4000-A000-000000000000".
	FallbackNetworkUserID string `yaml:"fallbackNetworkUserId" json:"fallbackNetworkUserId"`
}

// CORSConfig (collector.cors).
type CORSConfig struct {
	// AccessControlMaxAge is sent as Access-Control-Max-Age on preflight answers.
	// Default 60m.
	AccessControlMaxAge Duration `yaml:"accessControlMaxAge" json:"accessControlMaxAge"`
}

// RootResponseConfig (collector.rootResponse) answers GET /.
type RootResponseConfig struct {
	Enabled    bool              `yaml:"enabled" json:"enabled"`       // default false
	StatusCode int               `yaml:"statusCode" json:"statusCode"` // default 302
	Headers    map[string]string `yaml:"headers" json:"headers"`       // default none
	Body       string            `yaml:"body" json:"body"`             // default ""
}

// CrossDomainConfig (collector.crossDomain) serves /crossdomain.xml.
type CrossDomainConfig struct {
	Enabled bool     `yaml:"enabled" json:"enabled"` // default false
	Domains []string `yaml:"domains" json:"domains"` // default ["*"]
	Secure  bool     `yaml:"secure" json:"secure"`   // default true
}

// NetworkingConfig (collector.networking) holds the request size limits. Connection
// limits and timeouts belong to the HTTP server, which the collector does not own.
type NetworkingConfig struct {
	// MaxPayloadSize: a request whose serialised payload is larger becomes a
	// size_violation bad row instead of being split. Default 1048576.
	MaxPayloadSize int `yaml:"maxPayloadSize" json:"maxPayloadSize"`
	// DropPayloadSize: a request body larger than this is answered 413 and dropped
	// without being read whole. Default 2097152.
	DropPayloadSize int `yaml:"dropPayloadSize" json:"dropPayloadSize"`
}

// HSTSConfig (collector.hsts).
type HSTSConfig struct {
	Enable bool     `yaml:"enable" json:"enable"` // default false
	MaxAge Duration `yaml:"maxAge" json:"maxAge"` // default 8760h (365 days)
}

// Duration is a time.Duration written in configuration files as a Go duration string
// ("1s", "8760h"); see config.Duration.
type Duration = config.Duration

// DefaultFallbackNetworkUserID is Snowplow's default cookieBounce.fallbackNetworkUserId.
const DefaultFallbackNetworkUserID = "00000000-0000-4000-A000-000000000000"

// DefaultConfig returns the documented defaults, those of the Snowplow collector.
func DefaultConfig() Config {
	return Config{
		Cookie: CookieConfig{
			Enabled:    true,
			Name:       "sp",
			Expiration: Duration(365 * 24 * time.Hour),
			Secure:     true,
			HTTPOnly:   true,
			SameSite:   "None",
		},
		CookieBounce: CookieBounceConfig{
			Name:                  "n3pc",
			FallbackNetworkUserID: DefaultFallbackNetworkUserID,
		},
		CORS:         CORSConfig{AccessControlMaxAge: Duration(60 * time.Minute)},
		RootResponse: RootResponseConfig{StatusCode: http.StatusFound},
		CrossDomain:  CrossDomainConfig{Domains: []string{"*"}, Secure: true},
		Networking: NetworkingConfig{
			MaxPayloadSize:  1048576,
			DropPayloadSize: 2097152,
		},
		PutTimeout: Duration(time.Second),
		HSTS:       HSTSConfig{MaxAge: Duration(365 * 24 * time.Hour)},
	}
}

// maxPayloadSizeLimit keeps a split payload within one stream Put: the records of one
// request, plus their partition keys, must fit in streams.MaxBytesPerPut.
const maxPayloadSizeLimit = 4 << 20

var twoSegmentPath = regexp.MustCompile(`^/[^/]+/[^/]+$`)

// Validate reports every problem of c, each with its key path under "collector.".
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("collector.%s: %s", key, fmt.Sprintf(format, args...)))
	}

	ck := c.Cookie
	if !validToken(ck.Name) {
		bad("cookie.name", "must be a cookie name (letters, digits and !#$%%&'*+-.^_`|~), got %q", ck.Name)
	}
	if ck.Expiration < 0 {
		bad("cookie.expiration", "must not be negative, got %s", ck.Expiration.Std())
	}
	for i, d := range ck.Domains {
		if !validDomain(d) {
			bad(fmt.Sprintf("cookie.domains[%d]", i), "must be a domain name, got %q", d)
		}
	}
	if ck.FallbackDomain != "" && !validDomain(ck.FallbackDomain) {
		bad("cookie.fallbackDomain", "must be a domain name or empty, got %q", ck.FallbackDomain)
	}
	if !slices.Contains([]string{"", "None", "Lax", "Strict"}, ck.SameSite) {
		bad("cookie.sameSite", "must be one of None, Lax, Strict, got %q", ck.SameSite)
	}
	if ck.ClientCookieName != "" {
		if !validToken(ck.ClientCookieName) {
			bad("cookie.clientCookieName", "must be a cookie name or empty, got %q", ck.ClientCookieName)
		} else if ck.ClientCookieName == ck.Name {
			bad("cookie.clientCookieName", "must differ from cookie.name, got %q", ck.ClientCookieName)
		}
	}

	if d := c.DoNotTrackCookie; d.Enabled {
		if !validToken(d.Name) {
			bad("doNotTrackCookie.name", "must be a cookie name when enabled, got %q", d.Name)
		}
		if _, err := regexp.Compile(d.Value); err != nil {
			bad("doNotTrackCookie.value", "must be a regular expression: %v", err)
		}
	}

	if b := c.CookieBounce; b.Enabled {
		if !validToken(b.Name) || strings.ContainsAny(b.Name, "&=+%") {
			bad("cookieBounce.name", "must be a query parameter name when enabled, got %q", b.Name)
		}
		if err := uuid.Validate(b.FallbackNetworkUserID); err != nil || len(b.FallbackNetworkUserID) != 36 {
			bad("cookieBounce.fallbackNetworkUserId", "must be a UUID, got %q", b.FallbackNetworkUserID)
		}
	}

	if c.CORS.AccessControlMaxAge < 0 {
		bad("cors.accessControlMaxAge", "must not be negative, got %s", c.CORS.AccessControlMaxAge.Std())
	}
	for i, d := range c.RedirectDomains {
		if d == "" {
			bad(fmt.Sprintf("redirectDomains[%d]", i), "must not be empty")
		}
	}
	for _, from := range slices.Sorted(maps.Keys(c.Paths)) {
		if !twoSegmentPath.MatchString(from) {
			bad("paths", "key must be a path /vendor/version, got %q", from)
		}
		if to := c.Paths[from]; !twoSegmentPath.MatchString(to) {
			bad(fmt.Sprintf("paths[%q]", from), "must be a path /vendor/version, got %q", to)
		}
	}
	if rr := c.RootResponse; rr.Enabled {
		if rr.StatusCode < 100 || rr.StatusCode > 599 {
			bad("rootResponse.statusCode", "must be an HTTP status 100..599, got %d", rr.StatusCode)
		}
		for _, k := range slices.Sorted(maps.Keys(rr.Headers)) {
			if !validToken(k) {
				bad("rootResponse.headers", "must have header names as keys, got %q", k)
			}
		}
	}
	if cd := c.CrossDomain; cd.Enabled {
		if len(cd.Domains) == 0 {
			bad("crossDomain.domains", "must not be empty when enabled")
		}
		for i, d := range cd.Domains {
			if d == "" || strings.ContainsAny(d, `"<>&`) {
				bad(fmt.Sprintf("crossDomain.domains[%d]", i), "must be a domain pattern, got %q", d)
			}
		}
	}
	n := c.Networking
	if n.MaxPayloadSize < 1 || n.MaxPayloadSize > maxPayloadSizeLimit {
		bad("networking.maxPayloadSize", "must be 1..%d, got %d", maxPayloadSizeLimit, n.MaxPayloadSize)
	}
	if n.DropPayloadSize < n.MaxPayloadSize {
		bad("networking.dropPayloadSize", "must be at least networking.maxPayloadSize (%d), got %d", n.MaxPayloadSize, n.DropPayloadSize)
	}
	if c.PutTimeout <= 0 {
		bad("putTimeout", "must be positive, got %s", c.PutTimeout.Std())
	}
	if c.HSTS.Enable && c.HSTS.MaxAge < 0 {
		bad("hsts.maxAge", "must not be negative, got %s", c.HSTS.MaxAge.Std())
	}
	return errors.Join(errs...)
}

// validToken reports whether s is an RFC 7230 token, what cookie and header names are.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validDomain accepts what may follow Domain= in a Set-Cookie header.
func validDomain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}
