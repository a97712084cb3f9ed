package collector

import (
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// origin is one parsed entry of an Origin header.
type origin struct {
	rendered string // scheme://host[:port]
	host     string
}

// originHosts parses the first Origin header as the Snowplow collector does: its value
// split on spaces, each part scheme://host[:port]; "null" and unparsable parts are
// left out.
func originHosts(r *http.Request) []origin {
	vs := r.Header["Origin"]
	if len(vs) == 0 {
		return nil
	}
	var out []origin
	for part := range strings.SplitSeq(vs[0], " ") {
		if o, ok := parseOrigin(part); ok {
			out = append(out, o)
		}
	}
	return out
}

func parseOrigin(s string) (origin, bool) {
	if s == "" || s == "null" {
		return origin{}, false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil || u.Path != "" ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return origin{}, false
	}
	host := u.Hostname()
	if host == "" {
		return origin{}, false
	}
	if p := u.Port(); p != "" {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return origin{}, false
			}
		}
	}
	return origin{rendered: u.Scheme + "://" + u.Host, host: host}, true
}

// allowOrigin is the Access-Control-Allow-Origin value: the first Origin host, or "*".
func allowOrigin(r *http.Request) string {
	vs := r.Header["Origin"]
	if len(vs) == 0 {
		return "*"
	}
	// Usually one origin: parse only up to the first that works.
	for part := range strings.SplitSeq(vs[0], " ") {
		if o, ok := parseOrigin(part); ok {
			return o.rendered
		}
	}
	return "*"
}

// cookieIn returns the value of the first request cookie called name.
func cookieIn(r *http.Request, name string) (string, bool) {
	if len(r.Header["Cookie"]) == 0 || name == "" {
		return "", false
	}
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// queryParam returns the decoded value of the first parameter called key in a raw
// query string, as http4s's Query.params does ('+' is a space). It scans instead of
// building the whole map, since only a couple of keys are ever needed.
func queryParam(rawQuery, key string) (string, bool) {
	if key == "" {
		return "", false
	}
	for rawQuery != "" {
		var part string
		part, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(part, "=")
		if k != key {
			if !strings.ContainsAny(k, "%+") {
				continue
			}
			dk, err := url.QueryUnescape(k)
			if err != nil || dk != key {
				continue
			}
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		return dv, true
	}
	return "", false
}

// clientIP returns the client address as http4s's Request.from does: the first entry
// of X-Forwarded-For when the header is present (nothing when that entry is not an IP
// address), else the TCP peer. IPv6 addresses are bracketed, as ip4s renders them for
// URIs.
func clientIP(r *http.Request) (string, bool) {
	if xff := r.Header["X-Forwarded-For"]; len(xff) > 0 {
		first, _, _ := strings.Cut(xff[0], ",")
		a, err := netip.ParseAddr(strings.TrimSpace(first))
		if err != nil {
			return "unknown", false
		}
		return renderIP(a), true
	}
	// Fast path: the peer of an IPv4 connection, "a.b.c.d:port", is already in the
	// canonical form.
	if i := strings.LastIndexByte(r.RemoteAddr, ':'); i > 0 && isDottedQuad(r.RemoteAddr[:i]) {
		return r.RemoteAddr[:i], true
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return "unknown", false
	}
	return renderIP(ap.Addr()), true
}

// isDottedQuad reports whether s is an IPv4 address in canonical dotted-decimal form.
func isDottedQuad(s string) bool {
	parts := 0
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, ".")
		parts++
		if len(part) == 0 || len(part) > 3 || len(part) > 1 && part[0] == '0' {
			return false
		}
		v := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
			v = v*10 + int(part[i]-'0')
		}
		if v > 255 {
			return false
		}
	}
	return parts == 4
}

func renderIP(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func firstHeader(h http.Header, canonicalName string) string {
	if vs := h[canonicalName]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// hostname is the Host header without its port (IPv6 literals keep their brackets).
func hostname(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[:i+1]
		}
		return host
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		return host[:i]
	}
	return host
}

// contentType renders a Content-Type value as http4s does before the Snowplow collector
// lower-cases it: "type/subtype; name=value", so that application/json;charset=UTF-8
// becomes application/json; charset=utf-8. Parameters come out sorted by name. A value
// that does not parse is kept, lower-cased.
func contentType(v string) string {
	if v == "" {
		return ""
	}
	switch v {
	// The values trackers send, answered without parsing.
	case "application/json; charset=UTF-8", "application/json; charset=utf-8", "application/json":
		return strings.ToLower(v)
	}
	t, params, err := mime.ParseMediaType(v)
	if err == nil {
		if s := mime.FormatMediaType(t, params); s != "" {
			return strings.ToLower(s)
		}
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// headerList renders the request headers for the payload as "Name: value".
//
// Snowplow records headers in request order with their original case. net/http keeps
// neither: it stores headers in a map under canonical names (Host apart, in r.Host). The
// closest deterministic rendering is Host first, then the other headers sorted by
// canonical name, each name's values in request order. Enrich matches header names
// case-insensitively, so only the order and case differ from Snowplow's.
//
// Cookie headers keep only their RFC 6265-valid parts; with SP-Anonymous,
// X-Forwarded-For, X-Real-Ip and Cookie are left out. For a POST the lower-cased
// content type follows as a bare string.
func headerList(r *http.Request, anonymous bool, contentType string) []string {
	var keyArr [32]string
	keys := keyArr[:0]
	for k := range r.Header {
		if anonymous && (k == "X-Forwarded-For" || k == "X-Real-Ip" || k == "Cookie") {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	// Render every "Name: value" into one string and hand out slices of it: one
	// allocation instead of one per header.
	type line struct{ name, value string }
	var lineArr [32]line
	lines := lineArr[:0]
	size := 0
	add := func(name, value string) {
		lines = append(lines, line{name, value})
		size += len(name) + 2 + len(value)
	}
	if r.Host != "" {
		add("Host", r.Host)
	}
	for _, k := range keys {
		for _, v := range r.Header[k] {
			if k == "Cookie" {
				var ok bool
				if v, ok = rfc6265Cookie(v); !ok {
					continue
				}
			}
			add(k, v)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, l := range lines {
		b.WriteString(l.name)
		b.WriteString(": ")
		b.WriteString(l.value)
	}
	all := b.String()
	out := make([]string, 0, len(lines)+1)
	off := 0
	for _, l := range lines {
		n := len(l.name) + 2 + len(l.value)
		out = append(out, all[off:off+n])
		off += n
	}
	if contentType != "" {
		out = append(out, contentType)
	}
	return out
}

// rfc6265Cookie re-renders a Cookie header as the Snowplow collector does: spaces
// removed, split on ';', parts holding a character outside RFC 6265's cookie-octets (plus
// '=') dropped, the rest joined with ';'. ok is false when nothing is left.
func rfc6265Cookie(v string) (string, bool) {
	v = strings.ReplaceAll(v, " ", "")
	parts := strings.Split(v, ";")
	// Java's String.split drops trailing empty strings.
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	kept := parts[:0]
	for _, p := range parts {
		if allCookieOctets(p) {
			kept = append(kept, p)
		}
	}
	s := strings.Join(kept, ";")
	return s, s != ""
}

func allCookieOctets(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isCookieOctet(s[i]) {
			return false
		}
	}
	return true
}

// isCookieOctet reports whether c is a cookie-octet of RFC 6265 (which includes '=').
func isCookieOctet(c byte) bool {
	return c == 0x21 || 0x23 <= c && c <= 0x2b || 0x2d <= c && c <= 0x3a || 0x3c <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e
}

// sanitizeCookieValue drops the bytes that may not appear in a Set-Cookie value, so that
// a nuid taken from the query string cannot add cookie attributes.
func sanitizeCookieValue(v string) string {
	if allCookieOctets(v) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if isCookieOctet(v[i]) {
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

// toValidUTF8 replaces each byte that is not part of valid UTF-8 with U+FFFD, as the
// JVM's UTF-8 decoder does when the Snowplow collector reads a body as text.
func toValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		b.WriteRune(r) // an invalid byte ranges as utf8.RuneError, written as U+FFFD
	}
	return b.String()
}

// redirectAllowed reports whether target is a URI that the redirect may send to.
func redirectAllowed(target string, domains []string) bool {
	u, err := url.Parse(target)
	if err != nil {
		return false
	}
	if len(domains) == 0 {
		return true
	}
	return slices.Contains(domains, u.Hostname())
}
