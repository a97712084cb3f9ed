package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// originPolicy says which web origins may call /micro/* from a browser (see
// Config.AllowedOrigins).
type originPolicy struct {
	all     bool
	exact   map[string]bool // "scheme://host:port", lower case
	anyPort map[string]bool // "scheme://host", lower case
}

// validOriginPattern reports what is wrong with one entry of Config.AllowedOrigins.
func validOriginPattern(p string) error {
	if p == "*" {
		return nil
	}
	_, _, err := splitOriginPattern(p)
	return err
}

// splitOriginPattern parses "scheme://host[:port]" or "scheme://host:*" into its key
// (lower case) and whether any port matches.
func splitOriginPattern(p string) (key string, anyPort bool, err error) {
	rest, anyPort := strings.CutSuffix(p, ":*")
	u, err := url.Parse(rest)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false, errors.New(`want an origin such as "https://app.test", "http://localhost:*" (any port) or "*"`)
	}
	if anyPort && u.Port() != "" {
		return "", false, errors.New(`a port and ":*" cannot be combined`)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), anyPort, nil
}

func newOriginPolicy(patterns []string) *originPolicy {
	p := &originPolicy{exact: map[string]bool{}, anyPort: map[string]bool{}}
	for _, pat := range patterns {
		if pat == "*" {
			p.all = true
			continue
		}
		key, anyPort, err := splitOriginPattern(pat)
		switch {
		case err != nil: // Config.Validate reports it
		case anyPort:
			p.anyPort[key] = true
		default:
			p.exact[key] = true
		}
	}
	return p
}

// allows reports whether a page of origin may call the API on host (the request's Host
// header): origins from the same host are always allowed.
func (p *originPolicy) allows(origin, host string) bool {
	if p.all {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false // includes the opaque origin "null"
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	key := strings.ToLower(u.Scheme + "://" + u.Host)
	if p.exact[key] {
		return true
	}
	if port := u.Port(); port != "" {
		key = key[:len(key)-len(port)-1]
	}
	return p.anyPort[key]
}

// cors lets browser-side test code from an allowed origin call /micro/* with
// credentials: the Origin is echoed and preflights are answered here. Any other
// cross-origin request gets no CORS headers (the page cannot read the answer), and is
// refused with 403 unless it is a GET or HEAD, so that a page the developer happens to
// visit can neither read the captured events nor change them.
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		if !s.origins.allows(origin, r.Host) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				next.ServeHTTP(w, r)
				return
			}
			writeText(w, http.StatusForbidden, fmt.Sprintf("origin %q may not call /micro/*: allow it with --allowed-origins (web.allowedOrigins), or \"*\" for every origin", origin))
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			} else {
				h.Set("Access-Control-Allow-Headers", "Content-Type")
			}
			h.Set("Access-Control-Max-Age", "3600")
			w.WriteHeader(http.StatusOK)
			return
		}
		next.ServeHTTP(w, r)
	})
}
