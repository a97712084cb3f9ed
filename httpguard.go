package main

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HTTPConfig configures the one HTTP server of serve: its timeouts, its connection
// cap, and the checks that keep a laptop's pipeline to its owner (the Host check and
// the API key).
type HTTPConfig struct {
	// ReadHeaderTimeout bounds the reading of a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"readHeaderTimeout"`
	// ReadTimeout bounds the reading of a whole request, body included. The default,
	// 120s, lets the collector's largest body (2 MB, collector.networking.
	// dropPayloadSize) arrive at 17 KB/s (140 kbit/s); a client that stalls is
	// disconnected when it is over, and the memory of its body freed.
	ReadTimeout time.Duration `yaml:"readTimeout"`
	// WriteTimeout bounds a request from the end of its headers to the end of the
	// answer, so it covers the body's upload too: at least ReadTimeout, and longer than
	// web.wait.maxTimeout so that a /micro/wait can answer. Default 180s.
	WriteTimeout time.Duration `yaml:"writeTimeout"`
	// IdleTimeout closes a keep-alive connection that has no request for this long.
	// Default 120s.
	IdleTimeout time.Duration `yaml:"idleTimeout"`
	// MaxConnections caps the connections open at once; further ones wait in the
	// listen queue until one closes. Each may hold one request body in memory (up to
	// collector.networking.dropPayloadSize), so the cap bounds that memory too.
	// Default 256.
	MaxConnections int `yaml:"maxConnections"`
	// AllowedHosts are host names, besides localhost and IP addresses, that a request's
	// Host header may name while the server is bound to a loopback address: a web page
	// of another site that resolves its own name to 127.0.0.1 (DNS rebinding) is
	// refused with 403. "name" allows any port, "name:port" that port only.
	// Default none.
	AllowedHosts []string `yaml:"allowedHosts"`
	// APIKey, when set, is required on /micro/* (except the UI page) and on
	// /debug/pprof/*: in an X-API-Key header, or apikey. The collector and /health stay
	// open; /api/* (the Iglu Server API) checks its own keys (iglu.superApiKey).
	// Best given as SNOWPLOW_MINI_API_KEY. Default "" (no key).
	APIKey Secret `yaml:"apiKey"`
}

// Secret is a configuration value that is never printed (check-config shows it as
// "<redacted>").
type Secret string

// MarshalYAML hides the value.
func (s Secret) MarshalYAML() (any, error) {
	if s == "" {
		return "", nil
	}
	return "<redacted>", nil
}

// DefaultHTTPConfig returns the documented defaults.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       120 * time.Second,
		WriteTimeout:      180 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxConnections:    256,
	}
}

// minAPIKey is the shortest API key accepted.
const minAPIKey = 16

// validate reports every problem of c; waitMax is web.wait.maxTimeout.
func (c HTTPConfig) validate(waitMax time.Duration) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("http.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{{"readHeaderTimeout", c.ReadHeaderTimeout}, {"readTimeout", c.ReadTimeout}, {"writeTimeout", c.WriteTimeout}, {"idleTimeout", c.IdleTimeout}} {
		if t.d <= 0 {
			bad(t.key, "%s: must be positive", t.d)
		}
	}
	if c.ReadHeaderTimeout > c.ReadTimeout && c.ReadTimeout > 0 {
		bad("readHeaderTimeout", "%s: must not exceed http.readTimeout (%s)", c.ReadHeaderTimeout, c.ReadTimeout)
	}
	if c.WriteTimeout < c.ReadTimeout {
		bad("writeTimeout", "%s: must be at least http.readTimeout (%s): it runs while the body is read", c.WriteTimeout, c.ReadTimeout)
	}
	if c.WriteTimeout <= waitMax {
		bad("writeTimeout", "%s: must be longer than web.wait.maxTimeout (%s), or long waits cannot answer", c.WriteTimeout, waitMax)
	}
	if c.MaxConnections < 1 {
		bad("maxConnections", "%d: must be at least 1", c.MaxConnections)
	}
	for i, h := range c.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ \t@") {
			bad(fmt.Sprintf("allowedHosts[%d]", i), "%q: want a host name, optionally with :port", h)
		}
	}
	if k := string(c.APIKey); k != "" {
		if len(k) < minAPIKey {
			bad("apiKey", "must be at least %d characters (e.g. a UUID)", minAPIKey)
		}
		for i := 0; i < len(k); i++ {
			if k[i] <= ' ' || k[i] > '~' {
				bad("apiKey", "must be printable ASCII without spaces (it travels in a header)")
				break
			}
		}
	}
	return errors.Join(errs...)
}

// guard puts the checks that apply before routing in front of h: the Host check when
// the server is bound to a loopback address, then the API key on protected routes.
func guard(h http.Handler, c HTTPConfig, loopback bool) http.Handler {
	hosts := newHostPolicy(c.AllowedHosts)
	key := []byte(c.APIKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if loopback && !hosts.allows(r.Host) {
			refuse(w, http.StatusForbidden, fmt.Sprintf("Host %q is not allowed: this server is bound to a loopback address and answers requests for localhost or an IP address (a page of another site must not reach it through its own name); add the name with --allowed-hosts", r.Host))
			return
		}
		if len(key) > 0 && needsAPIKey(r) && !hasAPIKey(r, key) {
			refuse(w, http.StatusUnauthorized, "this server requires an API key on "+protectedWhat(r)+": send it in an X-API-Key header (or apikey)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func refuse(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}

// needsAPIKey tells the routes an API key protects. Preflights never carry one; the
// UI page is static and asks for the key itself.
func needsAPIKey(r *http.Request) bool {
	p := r.URL.Path
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch {
	case r.Method == http.MethodOptions:
		return false
	case p == "/micro" || strings.HasPrefix(p, "/micro/"):
		uiPage := p == "/micro" || p == "/micro/" || p == "/micro/ui" || strings.HasPrefix(p, "/micro/ui/")
		return !(read && uiPage)
	case strings.HasPrefix(p, "/debug/pprof"):
		return true
	}
	// /api/* is Iglu Server's API, which authenticates its own writes with its keys
	// (iglu.superApiKey and the keys of /api/auth/keygen) in the same apikey header:
	// asking for this key as well would refuse igluctl, which sends one key.
	return false
}

func protectedWhat(r *http.Request) string {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/micro"):
		return "/micro/*"
	case strings.HasPrefix(p, "/debug/pprof"):
		return "/debug/pprof/*"
	default:
		return "/api/* writes"
	}
}

func hasAPIKey(r *http.Request, key []byte) bool {
	for _, name := range []string{"X-Api-Key", "Apikey"} {
		if v := r.Header.Get(name); v != "" && subtle.ConstantTimeCompare([]byte(v), key) == 1 {
			return true
		}
	}
	return false
}

// hostPolicy is the Host check of a server bound to a loopback address.
type hostPolicy struct {
	anyPort map[string]bool // lower-case host names
	exact   map[string]bool // lower-case host:port
}

func newHostPolicy(allowed []string) *hostPolicy {
	p := &hostPolicy{anyPort: map[string]bool{}, exact: map[string]bool{}}
	for _, h := range allowed {
		h = strings.ToLower(h)
		if _, _, err := net.SplitHostPort(h); err == nil {
			p.exact[h] = true
		} else {
			p.anyPort[strings.Trim(h, "[]")] = true
		}
	}
	return p
}

// allows reports whether a request for host (the Host header) may be answered. An IP
// address cannot be rebound and localhost (with its subdomains, RFC 6761) always
// resolves to the machine itself; anything else must be listed. A request without
// Host (HTTP/1.0) does not come from a browser.
func (p *hostPolicy) allows(host string) bool {
	if host == "" {
		return true
	}
	host = strings.ToLower(host)
	if p.exact[host] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	if net.ParseIP(name) != nil || name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	return p.anyPort[name]
}

// isLoopback reports whether addr is a loopback address.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// serverURLs returns the base URLs a user can open for a server listening on addr.
// For a wildcard address (0.0.0.0, ::) that is localhost and each address of the
// machine's interfaces; interfaces lists them (net.InterfaceAddrs).
func serverURLs(addr net.Addr, interfaces func() ([]net.Addr, error)) []string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return []string{"http://" + addr.String()}
	}
	port := strconv.Itoa(tcp.Port)
	if !tcp.IP.IsUnspecified() {
		return []string{"http://" + net.JoinHostPort(tcp.IP.String(), port)}
	}
	urls := []string{"http://localhost:" + port}
	ipv4Only := tcp.IP.To4() != nil
	addrs, _ := interfaces()
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() || n.IP.IsLinkLocalUnicast() || !n.IP.IsGlobalUnicast() || (ipv4Only && n.IP.To4() == nil) {
			continue
		}
		u := "http://" + net.JoinHostPort(n.IP.String(), port)
		if !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	if len(urls) == 1 {
		urls = append(urls, "http://<this-host>:"+port)
	}
	return urls
}

// limitListener caps the connections open at once: Accept waits while max are open,
// so further clients wait in the listen queue.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	log       *slog.Logger
	warned    sync.Once
}

func newLimitListener(ln net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, sem: make(chan struct{}, max), done: make(chan struct{}), log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	default:
		l.warned.Do(func() {
			l.log.Warn("connection cap reached: new connections wait until one closes", "max_connections", cap(l.sem))
		})
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
