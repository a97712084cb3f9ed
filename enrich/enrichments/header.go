package enrichments

import (
	"context"
	"strings"
	"time"

	"github.com/dlclark/regexp2/v2"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

const headerContextSchema = "iglu:org.ietf/http_header/jsonschema/1-0-0"

type headerConfig struct {
	HeadersPattern string `json:"headersPattern" required:"true"`
}

// headerExtractor adds an http_header context for each recorded header whose name fully
// matches a Java-style regular expression.
type headerExtractor struct {
	in Info
	re *regexp2.Regexp
}

func buildHeader(b *builder) (enrichment, error) {
	var c headerConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	re, err := compileJavaRegex(c.HeadersPattern, true)
	if err != nil {
		return nil, errorf("parameters.headersPattern: %w", err)
	}
	return &headerExtractor{in: b.info, re: re}, nil
}

// compileJavaRegex compiles a Java regular expression with a backtracking engine of the same
// syntax family; full requires the whole input to match (Java's Matcher.matches).
func compileJavaRegex(expr string, full bool) (*regexp2.Regexp, error) {
	if full {
		expr = `\A(?:` + expr + `)\z`
	}
	re, err := regexp2.Compile(expr, regexp2.None)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = 100 * time.Millisecond
	return re, nil
}

func (e *headerExtractor) info() Info { return e.in }

func (e *headerExtractor) enrich(_ context.Context, st *state) {
	for _, h := range st.raw.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			continue // the bare content type the collector appends to POST headers
		}
		if m, err := e.re.MatchString(name); err != nil || !m {
			continue
		}
		b := append([]byte(`{"name":`), event.AppendJSONString(nil, strings.TrimSpace(name))...)
		b = append(b, `,"value":`...)
		b = event.AppendJSONString(b, strings.TrimSpace(value))
		b = append(b, '}')
		st.derived = append(st.derived, event.SelfDescribing{Schema: headerContextSchema, Data: b})
	}
}
