package enrich

import (
	"strconv"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
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
func stringToURI(s string) (jvm.URI, string) {
	in := strings.ReplaceAll(s, " ", "%20")
	u, err := jvm.ParseURI(in)
	if err == nil {
		return u, ""
	}
	if lu, lerr := jvm.ParseURI(jvm.LenientEncode(s)); lerr == nil {
		return lu, ""
	}
	return jvm.URI{}, "Provided URI [" + s + "] could not be parsed, neither by Java parsing (error: [" + err.Error() + "]) nor by Scala parsing (error: [Invalid URI could not be parsed.])."
}

// explode is ConversionUtils.explodeUri: scheme, host, port (80, or 443 for https, when
// absent), raw path, query and fragment with tabs and control characters removed ("" is
// null).
func explode(u jvm.URI) uriParts {
	p := uriParts{uri: u.Input, scheme: u.Scheme, host: u.Host}
	switch {
	case u.Port >= 0:
		p.port = strconv.Itoa(u.Port)
	case u.Scheme == "https":
		p.port = "443"
	default:
		p.port = "80"
	}
	if u.HasPath {
		p.path = tsvSafe(u.Path)
	}
	if u.HasQuery {
		p.query = tsvSafe(u.Query)
	}
	if u.HasFragment {
		p.fragment = tsvSafe(u.Fragment)
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

// crossNavigation reads the _sp parameter of the page URL's query as Snowplow's
// CrossNavigationEnrichment.parseCrossDomain: duid.tstamp[.session.user.source.platform.
// reason], at most seven parts (more: nothing is read). It returns the domain user id, the
// timestamp text, and a failure message about sp_dtm.
func crossNavigation(query string, cs jvm.Charset) (duid, tstamp string, failValue, failMsg string) {
	if query == "" || !strings.Contains(query, "_sp") {
		return "", "", "", ""
	}
	var sp *string
	for name, value := range jvm.SplitQuery(query, cs) {
		if name == "_sp" {
			v := ""
			if value != nil {
				v = *value
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
