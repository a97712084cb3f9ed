package enrichments

import (
	"context"
	"slices"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

const cookieContextSchema = "iglu:org.ietf/http_cookie/jsonschema/1-0-0"

type cookieConfig struct {
	Cookies []string `json:"cookies" required:"true"`
}

// cookieExtractor adds an http_cookie context for each configured cookie in the Cookie
// headers the collector recorded.
type cookieExtractor struct {
	in      Info
	cookies []string
}

func buildCookie(b *builder) (enrichment, error) {
	var c cookieConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	return &cookieExtractor{in: b.info, cookies: c.Cookies}, nil
}

func (e *cookieExtractor) info() Info { return e.in }

func (e *cookieExtractor) enrich(_ context.Context, st *state) {
	for _, h := range st.raw.headers {
		if len(h) < 7 || !strings.EqualFold(h[:7], "cookie:") {
			continue
		}
		for part := range strings.SplitSeq(h[7:], ";") {
			name, value, hasValue := strings.Cut(strings.TrimSpace(part), "=")
			name = strings.TrimSpace(name)
			if name == "" || !slices.Contains(e.cookies, name) {
				continue
			}
			b := append([]byte(`{"name":`), event.AppendJSONString(nil, name)...)
			b = append(b, `,"value":`...)
			if hasValue {
				b = event.AppendJSONString(b, strings.TrimSpace(value))
			} else {
				b = append(b, "null"...)
			}
			b = append(b, '}')
			st.derived = append(st.derived, event.SelfDescribing{Schema: cookieContextSchema, Data: b})
		}
	}
}
