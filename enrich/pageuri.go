package enrich

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// uriParts are the components Snowplow's ConversionUtils.explodeUri takes from a URI.
type uriParts struct {
	uri                   string // the URI as java.net.URI.toString prints it
	scheme, host          string
	port                  string
	path, query, fragment string
}

// stringToURI parses s as ConversionUtils.stringToUri: spaces become %20 and java.net.URI
// parses the result; if it refuses, a lenient parse (Snowplow falls back to a Scala URI
// library) percent-encodes the characters java.net.URI does not allow in each component
// and tries again. The error text is Snowplow's message when both fail.
func stringToURI(s string) (javaURI, string) {
	in := strings.ReplaceAll(s, " ", "%20")
	u, err := parseJavaURI(in)
	if err == nil {
		return u, ""
	}
	if lu, lerr := parseJavaURI(lenientEncode(s)); lerr == nil {
		return lu, ""
	}
	return javaURI{}, "Provided URI [" + s + "] could not be parsed, neither by Java parsing (error: [" + err.Error() + "]) nor by Scala parsing (error: [Invalid URI could not be parsed.])."
}

// explode is ConversionUtils.explodeUri: scheme, host, port (80, or 443 for https, when
// absent), raw path, query and fragment with tabs and control characters removed ("" is
// null).
func explode(u javaURI) uriParts {
	p := uriParts{uri: u.input, scheme: u.scheme, host: u.host}
	switch {
	case u.port >= 0:
		p.port = strconv.Itoa(u.port)
	case u.scheme == "https":
		p.port = "443"
	default:
		p.port = "80"
	}
	if u.hasPath {
		p.path = tsvSafe(u.path)
	}
	if u.hasQuery {
		p.query = tsvSafe(u.query)
	}
	if u.hasFrag {
		p.fragment = tsvSafe(u.fragment)
	}
	return p
}

func (p uriParts) setPage(ev *event.EnrichedEvent) {
	f := &ev.Fields
	f[event.PageURL] = p.uri
	f[event.PageURLScheme] = p.scheme
	f[event.PageURLHost] = p.host
	f[event.PageURLPort] = p.port
	f[event.PageURLPath] = p.path
	f[event.PageURLQuery] = p.query
	f[event.PageURLFragment] = p.fragment
}

func (p uriParts) setReferrer(ev *event.EnrichedEvent) {
	f := &ev.Fields
	f[event.RefrURLScheme] = p.scheme
	f[event.RefrURLHost] = p.host
	f[event.RefrURLPort] = p.port
	f[event.RefrURLPath] = p.path
	f[event.RefrURLQuery] = p.query
	f[event.RefrURLFragment] = p.fragment
}

// lenientEncode percent-encodes, component by component, the characters java.net.URI
// refuses: in the path anything but path characters, in the query and fragment anything
// but URI characters, '%' not starting an escape pair, and non-ASCII text (as UTF-8
// bytes). The scheme and authority are kept as they are.
func lenientEncode(s string) string {
	var b strings.Builder
	rest := s
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], "/?#") {
		j := i + 3
		k := j
		for k < len(s) && s[k] != '/' && s[k] != '?' && s[k] != '#' {
			k++
		}
		b.WriteString(s[:k])
		rest = s[k:]
	}
	frag := ""
	hasFrag := false
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		frag, hasFrag = rest[i+1:], true
		rest = rest[:i]
	}
	query := ""
	hasQuery := false
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		query, hasQuery = rest[i+1:], true
		rest = rest[:i]
	}
	encodeInto(&b, rest, uPath)
	if hasQuery {
		b.WriteByte('?')
		encodeInto(&b, query, uURIC)
	}
	if hasFrag {
		b.WriteByte('#')
		encodeInto(&b, frag, uURIC)
	}
	return b.String()
}

func encodeInto(b *strings.Builder, s string, m uriMask) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0:
			b.WriteByte(c)
		case c < utf8.RuneSelf && m.match(rune(c)):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
}

// crossNavigation reads the _sp parameter of the page URL's query as Snowplow's
// CrossNavigationEnrichment.parseCrossDomain: duid.tstamp[.session.user.source.platform.
// reason], at most seven parts (more: nothing is read). It returns the domain user id, the
// timestamp text, and a failure message about sp_dtm.
func crossNavigation(query string, cs charset) (duid, tstamp string, failValue, failMsg string) {
	if query == "" || !strings.Contains(query, "_sp") {
		return "", "", "", ""
	}
	var sp *string
	for _, kv := range splitQuery(query, cs) {
		if kv.Name == "_sp" {
			v := ""
			if kv.Value != nil {
				v = *kv.Value
			}
			sp = &v
		}
	}
	if sp == nil || *sp == "" {
		return "", "", "", ""
	}
	parts := strings.Split(*sp, ".")
	if len(parts) > 7 {
		return "", "", "", ""
	}
	duid = tsvSafe(parts[0])
	if len(parts) > 1 && parts[1] != "" {
		ts, msg := convTstamp(parts[1])
		if msg != "" {
			return "", "", parts[1], msg
		}
		tstamp = ts
	}
	return duid, tstamp, "", ""
}
