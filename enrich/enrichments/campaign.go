package enrichments

import (
	"context"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
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

// parse splits page_urlquery (a raw query java.net.URI accepted) and form-decodes names
// and values in the payload's encoding, as URLEncodedUtils.parse, which Snowplow uses. A
// name without "=" has the value "". Enrich has refused payloads in other encodings before
// any enrichment runs; UTF-8 stands in for them.
func (q *queryValues) parse(raw, encoding string) {
	cs, _, ok := jvm.LookupCharset(encoding)
	if !ok {
		cs = jvm.UTF8
	}
	for name, value := range jvm.SplitQuery(raw, cs) {
		v := ""
		if value != nil {
			v = *value
		}
		q.add(name, v)
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
