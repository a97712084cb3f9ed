package enrichments

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// campaignConfig is the parameters of campaign_attribution 1-0-x.
type campaignConfig struct {
	// Mapping is accepted for compatibility; only "static" behaviour exists.
	Mapping *string `json:"mapping" enum:"static|script"`
	Fields  struct {
		MktMedium   []string       `json:"mktMedium" required:"true"`
		MktSource   []string       `json:"mktSource" required:"true"`
		MktTerm     []string       `json:"mktTerm" required:"true"`
		MktContent  []string       `json:"mktContent" required:"true"`
		MktCampaign []string       `json:"mktCampaign" required:"true"`
		MktClickID  orderedStrings `json:"mktClickId"`
	} `json:"fields" required:"true"`
}

// campaign sets the mkt_* fields from the page URL's query string.
type campaign struct {
	in      Info
	fields  [5][]string // medium, source, term, content, campaign
	clickID []kv        // query parameter -> network, in precedence order
}

var campaignTargets = [5]event.Field{event.MktMedium, event.MktSource, event.MktTerm, event.MktContent, event.MktCampaign}

func buildCampaign(b *builder) (enrichment, error) {
	var c campaignConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	e := &campaign{in: b.info}
	e.fields = [5][]string{c.Fields.MktMedium, c.Fields.MktSource, c.Fields.MktTerm, c.Fields.MktContent, c.Fields.MktCampaign}
	// Snowplow's built-in click ids come first; configured ones override their network or
	// are added after them.
	e.clickID = []kv{{"gclid", "Google"}, {"msclkid", "Microsoft"}, {"dclid", "DoubleClick"}}
	for _, p := range c.Fields.MktClickID {
		found := false
		for i := range e.clickID {
			if e.clickID[i].key == p.key {
				e.clickID[i].value, found = p.value, true
			}
		}
		if !found {
			e.clickID = append(e.clickID, p)
		}
	}
	return e, nil
}

func (e *campaign) info() Info { return e.in }

func (e *campaign) enrich(_ context.Context, st *state) {
	// Snowplow only attributes when the page URL parsed; enrich sets page_urlscheme then.
	if st.ev.Fields[event.PageURLScheme] == "" {
		return
	}
	q := st.ev.Fields[event.PageURLQuery]
	var vals queryValues
	vals.parse(q, st.raw.encoding)
	for i, names := range e.fields {
		v, ok := vals.first(names)
		if ok {
			st.ev.Fields[campaignTargets[i]] = tsvSafe(v)
		} else {
			st.ev.Fields[campaignTargets[i]] = ""
		}
	}
	st.ev.Fields[event.MktClickID], st.ev.Fields[event.MktNetwork] = "", ""
	for _, c := range e.clickID {
		if v, ok := vals.get(c.key); ok {
			st.ev.Fields[event.MktClickID] = tsvSafe(v)
			st.ev.Fields[event.MktNetwork] = tsvSafe(c.value)
			break
		}
	}
}

// queryValues is a decoded query string. Like Snowplow (a Map built from the parameter
// list), the last occurrence of a repeated name wins; a name without "=" has value "".
type queryValues struct {
	kvs [16]kv
	n   int
	ext []kv
}

func (q *queryValues) add(k, v string) {
	if q.n < len(q.kvs) {
		q.kvs[q.n] = kv{k, v}
		q.n++
		return
	}
	q.ext = append(q.ext, kv{k, v})
}

// get returns the value of the last parameter named name.
func (q *queryValues) get(name string) (string, bool) {
	for i := len(q.ext) - 1; i >= 0; i-- {
		if q.ext[i].key == name {
			return q.ext[i].value, true
		}
	}
	for i := q.n - 1; i >= 0; i-- {
		if q.kvs[i].key == name {
			return q.kvs[i].value, true
		}
	}
	return "", false
}

// first returns the value of the first name in names that is present.
func (q *queryValues) first(names []string) (string, bool) {
	for _, n := range names {
		if v, ok := q.get(n); ok {
			return v, true
		}
	}
	return "", false
}

// parse splits a raw query string on "&" and ";" (as Apache HttpClient's URLEncodedUtils,
// which Snowplow uses) and form-decodes names and values with the payload encoding.
func (q *queryValues) parse(raw, encoding string) {
	latin1 := isLatin1(encoding)
	for raw != "" {
		var part string
		if i := strings.IndexAny(raw, "&;"); i >= 0 {
			part, raw = raw[:i], raw[i+1:]
		} else {
			part, raw = raw, ""
		}
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name = formDecode(name, latin1)
		if name == "" {
			continue
		}
		q.add(name, formDecode(value, latin1))
	}
}

func isLatin1(encoding string) bool {
	switch strings.ToUpper(encoding) {
	case "ISO-8859-1", "ISO8859-1", "LATIN1", "US-ASCII", "WINDOWS-1252", "CP1252":
		return true
	}
	return false
}

// formDecode decodes application/x-www-form-urlencoded text: "+" is a space and %XX a byte;
// a malformed escape is kept as it is. The bytes are read as UTF-8 (invalid sequences become
// U+FFFD) or, for latin1, as ISO-8859-1.
func formDecode(s string, latin1 bool) string {
	if !strings.ContainsAny(s, "+%") && (latin1 && isASCII(s) || !latin1 && utf8.ValidString(s)) {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	if latin1 {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// tsvSafe makes s fit a TSV field: tabs become four spaces, other control characters are
// removed.
func tsvSafe(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t':
			b.WriteString("    ")
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
