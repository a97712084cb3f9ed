package enrichments

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ua-parser/uap-go/uaparser"
	"gopkg.in/yaml.v3"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// uaContextSchema is the schema of the context the UA parser adds.
const uaContextSchema = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"

// uaCacheSize is how many distinct user agents keep their parsed context. A miss costs
// 1–3 ms of regular expressions, so it is sized for real-world user-agent cardinality.
const uaCacheSize = 50_000

type uaParserConfig struct {
	Database string `json:"database"`
	URI      string `json:"uri"`
}

// uaParser adds a ua_parser_context built with the ua-parser rules.
type uaParser struct {
	in     Info
	parser func() (*uaparser.Parser, error) // blocks until the parser is built
	cache  *lruCache[json.RawMessage]
}

func buildUAParser(b *builder) (enrichment, error) {
	var c uaParserConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	var parser func() (*uaparser.Parser, error)
	switch {
	case c.URI == "" && c.Database == "":
		parser = b.defaultUAParser()
	case c.URI == "" || c.Database == "":
		return nil, fmt.Errorf("parameters: uri and database must be given together")
	default:
		path, err := b.assets.path(b.ctx, b.dir, asset{URI: c.URI, Database: c.Database})
		if err != nil {
			return nil, fmt.Errorf("parameters.database: %w", err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("parameters.database: %w", err)
		}
		var def uaparser.RegexDefinitions
		if err := yaml.Unmarshal(data, &def); err != nil {
			return nil, fmt.Errorf("parameters.database: %s: %w", path, err)
		}
		if len(def.UA) == 0 {
			return nil, fmt.Errorf("parameters.database: %s: no user_agent_parsers", path)
		}
		p, err := newUAParser(&def)
		if err != nil {
			return nil, fmt.Errorf("parameters.database: %s: %w", path, err)
		}
		parser = func() (*uaparser.Parser, error) { return p, nil }
	}
	return &uaParser{in: b.info, parser: parser, cache: newLRU[json.RawMessage](uaCacheSize, 0, b.deps.Now)}, nil
}

// newUAParser builds a parser; the rules' regular expressions are compiled by uap-go, which
// panics on an invalid one, so that is turned into an error.
func newUAParser(def *uaparser.RegexDefinitions) (p *uaparser.Parser, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid ua-parser rules: %v", r)
		}
	}()
	opts := []uaparser.Option{uaparser.WithCacheSize(16)}
	if def != nil {
		opts = append(opts, uaparser.WithRegexDefinitions(*def))
	}
	return uaparser.New(opts...)
}

func (e *uaParser) info() Info { return e.in }

func (e *uaParser) enrich(_ context.Context, st *state) {
	ua := st.ev.Fields[event.UserAgent]
	if ua == "" {
		return
	}
	data, err := e.context(ua)
	if err != nil {
		st.fail(e.in, "", Simple{Error: err.Error()})
		return
	}
	st.derived = append(st.derived, event.SelfDescribing{Schema: uaContextSchema, Data: data})
}

// context returns the ua_parser_context data of ua, from the cache when it was seen.
// The error is the bundled rules' failing to build, which their tests rule out.
func (e *uaParser) context(ua string) (json.RawMessage, error) {
	if data, ok := e.cache.get(ua); ok {
		return data, nil
	}
	p, err := e.parser()
	if err != nil {
		return nil, err
	}
	u := p.ParseUserAgent(ua)
	o := p.ParseOs(ua)
	d := p.ParseDevice(ua)
	b := make([]byte, 0, 384)
	b = append(b, `{"useragentFamily":`...)
	b = appendNullable(b, u.Family)
	b = append(b, `,"useragentMajor":`...)
	b = appendNullable(b, u.Major)
	b = append(b, `,"useragentMinor":`...)
	b = appendNullable(b, u.Minor)
	b = append(b, `,"useragentPatch":`...)
	b = appendNullable(b, u.Patch)
	b = append(b, `,"useragentVersion":`...)
	b = event.AppendJSONString(b, joinVersion(u.Family, u.Major, u.Minor, u.Patch))
	b = append(b, `,"osFamily":`...)
	b = appendNullable(b, o.Family)
	b = append(b, `,"osMajor":`...)
	b = appendNullable(b, o.Major)
	b = append(b, `,"osMinor":`...)
	b = appendNullable(b, o.Minor)
	b = append(b, `,"osPatch":`...)
	b = appendNullable(b, o.Patch)
	b = append(b, `,"osPatchMinor":`...)
	b = appendNullable(b, o.PatchMinor)
	b = append(b, `,"osVersion":`...)
	b = event.AppendJSONString(b, joinVersion(o.Family, o.Major, o.Minor, o.Patch, o.PatchMinor))
	b = append(b, `,"deviceFamily":`...)
	b = appendNullable(b, d.Family)
	b = append(b, '}')
	data := json.RawMessage(b)
	e.cache.put(ua, data)
	return data, nil
}

// joinVersion renders "Family major.minor.patch…" as Snowplow does: a space before the
// first version element, dots before the others, absent elements left out.
func joinVersion(family string, parts ...string) string {
	s := family
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i == 0 {
			s += " " + p
		} else {
			s += "." + p
		}
	}
	return s
}

// appendNullable appends s as a JSON string, or null when s is empty.
func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return event.AppendJSONString(b, s)
}
