package enrichments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// inputConfig is one input of the API request and SQL query enrichments: an atomic field or
// a value inside a context or the self-describing event.
type inputConfig struct {
	Key         string `json:"key"`
	Placeholder *int   `json:"placeholder"`
	Pojo        *struct {
		Field string `json:"field" required:"true"`
	} `json:"pojo"`
	JSON *struct {
		Field           string `json:"field" required:"true" enum:"unstruct_event|contexts|derived_contexts"`
		SchemaCriterion string `json:"schemaCriterion" required:"true"`
		JSONPath        string `json:"jsonPath" required:"true"`
	} `json:"json"`
}

// input is a compiled inputConfig.
type input struct {
	field     event.Field // pojo
	pojo      bool
	jsonField string
	criterion iglu.Criterion
	path      *jsonPath
}

func compileInputs(ins []inputConfig, at func(i int) string) ([]input, []error) {
	var out []input
	var errs []error
	for i, c := range ins {
		switch {
		case (c.Pojo == nil) == (c.JSON == nil):
			errs = append(errs, fmt.Errorf("%s: want exactly one of pojo and json", at(i)))
		case c.Pojo != nil:
			f, ok := event.FieldByName(c.Pojo.Field)
			if !ok || f.Kind() == event.KindJSON {
				errs = append(errs, fmt.Errorf("%s.pojo.field: %q is not an atomic field", at(i), c.Pojo.Field))
				continue
			}
			out = append(out, input{field: f, pojo: true})
		default:
			crit, err := parseCriterion(c.JSON.SchemaCriterion)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.json.schemaCriterion: %w", at(i), err))
			}
			p, err := compileJSONPath(c.JSON.JSONPath)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.json.jsonPath: %w", at(i), err))
			}
			out = append(out, input{jsonField: c.JSON.Field, criterion: crit, path: p})
		}
	}
	return out, errs
}

// value extracts the input from the event; ok is false when it is absent.
func (in input) value(st *state) (string, bool) {
	if in.pojo {
		v := st.ev.Fields[in.field]
		return v, v != ""
	}
	var ents []event.SelfDescribing
	switch in.jsonField {
	case "contexts":
		ents = st.raw.contexts
	case "derived_contexts":
		ents = st.derived
	case "unstruct_event":
		if st.raw.unstruct != nil {
			ents = []event.SelfDescribing{*st.raw.unstruct}
		}
	}
	for _, e := range ents {
		if !criterionMatches(in.criterion, e.Schema) {
			continue
		}
		ms, err := in.path.find(e.Data)
		if err != nil || len(ms) == 0 {
			continue
		}
		return scalarText(e.Data[ms[0].start:ms[0].end])
	}
	return "", false
}

type apiRequestConfig struct {
	Inputs []inputConfig `json:"inputs" required:"true"`
	API    struct {
		HTTP *struct {
			Method         string `json:"method" required:"true" enum:"GET|POST|PUT"`
			URI            string `json:"uri" required:"true"`
			Timeout        int    `json:"timeout" required:"true"`
			Authentication struct {
				HTTPBasic *struct {
					Username string `json:"username" required:"true"`
					Password string `json:"password" required:"true"`
				} `json:"httpBasic"`
			} `json:"authentication" required:"true"`
		} `json:"http"`
	} `json:"api" required:"true"`
	Outputs []struct {
		Schema string `json:"schema" required:"true"`
		JSON   *struct {
			JSONPath string `json:"jsonPath" required:"true"`
		} `json:"json"`
	} `json:"outputs" required:"true"`
	Cache struct {
		Size int `json:"size" required:"true"`
		TTL  int `json:"ttl" required:"true"`
	} `json:"cache" required:"true"`
	IgnoreOnError *bool `json:"ignoreOnError"`
}

// apiRequest calls an HTTP API with values from the event and adds parts of the JSON answer
// as contexts.
type apiRequest struct {
	in            Info
	inputs        []input
	keys          []string
	method, uri   string
	timeout       time.Duration
	user, pass    string
	basic         bool
	outputs       []apiOutput
	cache         *lruCache[[]event.SelfDescribing]
	ignoreOnError bool
	client        *http.Client
}

type apiOutput struct {
	schema string
	path   *jsonPath
}

var templateKey = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_-]+)\s*\}\}`)

func buildAPIRequest(b *builder) (enrichment, error) {
	var c apiRequestConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	if c.API.HTTP == nil {
		return nil, errors.New("parameters.api: missing required key \"http\"")
	}
	e := &apiRequest{in: b.info, method: c.API.HTTP.Method, uri: c.API.HTTP.URI,
		timeout: time.Duration(c.API.HTTP.Timeout) * time.Millisecond, client: b.deps.HTTPClient,
		ignoreOnError: c.IgnoreOnError != nil && *c.IgnoreOnError}
	var errs []error
	var inErrs []error
	e.inputs, inErrs = compileInputs(c.Inputs, func(i int) string { return fmt.Sprintf("parameters.inputs[%d]", i) })
	errs = append(errs, inErrs...)
	for i, in := range c.Inputs {
		if in.Key == "" {
			errs = append(errs, fmt.Errorf("parameters.inputs[%d]: missing required key \"key\"", i))
		}
		e.keys = append(e.keys, in.Key)
	}
	if a := c.API.HTTP.Authentication.HTTPBasic; a != nil {
		e.basic, e.user, e.pass = true, a.Username, a.Password
	}
	if c.API.HTTP.Timeout < 1 {
		errs = append(errs, fmt.Errorf("parameters.api.http.timeout: %d is not a positive number of milliseconds", c.API.HTTP.Timeout))
	}
	if _, err := url.Parse(templateKey.ReplaceAllString(e.uri, "x")); err != nil {
		errs = append(errs, fmt.Errorf("parameters.api.http.uri: %w", err))
	}
	for i, o := range c.Outputs {
		if o.JSON == nil {
			errs = append(errs, fmt.Errorf("parameters.outputs[%d]: missing required key \"json\"", i))
			continue
		}
		p, err := compileJSONPath(o.JSON.JSONPath)
		if err != nil {
			errs = append(errs, fmt.Errorf("parameters.outputs[%d].json.jsonPath: %w", i, err))
		}
		if _, _, _, err := parseConfigSchema(o.Schema); err != nil {
			errs = append(errs, fmt.Errorf("parameters.outputs[%d].schema: %w", i, err))
		}
		e.outputs = append(e.outputs, apiOutput{schema: o.Schema, path: p})
	}
	if len(c.Outputs) == 0 {
		errs = append(errs, errors.New("parameters.outputs: must not be empty"))
	}
	if c.Cache.Size > 0 {
		e.cache = newLRU[[]event.SelfDescribing](c.Cache.Size, time.Duration(c.Cache.TTL)*time.Second, b.deps.Now)
	}
	return e, joinErrs(errs)
}

func (e *apiRequest) info() Info { return e.in }

func (e *apiRequest) enrich(ctx context.Context, st *state) {
	vals := make(map[string]string, len(e.inputs))
	for i, in := range e.inputs {
		v, ok := in.value(st)
		if !ok {
			return // Snowplow makes no request when an input is missing
		}
		vals[e.keys[i]] = v
	}
	uri := templateKey.ReplaceAllStringFunc(e.uri, func(m string) string {
		k := templateKey.FindStringSubmatch(m)[1]
		if v, ok := vals[k]; ok {
			return url.QueryEscape(v)
		}
		return m
	})
	var body []byte
	if e.method != http.MethodGet {
		body, _ = json.Marshal(vals)
	}
	key := e.method + " " + uri + " " + string(body)
	if e.cache != nil {
		if ctxs, ok := e.cache.get(key); ok {
			st.derived = append(st.derived, ctxs...)
			return
		}
	}
	ctxs, err := e.call(ctx, uri, body)
	if err != nil {
		if ctx.Err() != nil || e.ignoreOnError {
			return
		}
		st.fail(e.in, "api-request", Simple{Error: err.Error()})
		return
	}
	if e.cache != nil {
		e.cache.put(key, ctxs)
	}
	st.derived = append(st.derived, ctxs...)
}

func (e *apiRequest) call(ctx context.Context, uri string, body []byte) ([]event.SelfDescribing, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, e.method, uri, rd)
	if err != nil {
		return nil, fmt.Errorf("API request %s: %w", redactQuery(uri), err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if e.basic {
		req.SetBasicAuth(e.user, e.pass)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("API request %s: %w", redactQuery(uri), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, fmt.Errorf("API request %s: reading the response: %w", redactQuery(uri), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("API request %s: HTTP status %s: %s", redactQuery(uri), resp.Status, strings.TrimSpace(string(data[:min(len(data), 200)])))
	}
	var out []event.SelfDescribing
	for _, o := range e.outputs {
		ms, err := o.path.find(data)
		if err != nil {
			return nil, fmt.Errorf("API request %s: response is not JSON: %w", redactQuery(uri), err)
		}
		if len(ms) == 0 {
			return nil, fmt.Errorf("API request %s: JSONPath %s matches nothing in the response", redactQuery(uri), o.path.text)
		}
		var v []byte
		if len(ms) == 1 {
			v = append(v, data[ms[0].start:ms[0].end]...)
		} else {
			v = append(v, '[')
			for i, m := range ms {
				if i > 0 {
					v = append(v, ',')
				}
				v = append(v, data[m.start:m.end]...)
			}
			v = append(v, ']')
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err == nil {
			v = buf.Bytes()
		}
		out = append(out, event.SelfDescribing{Schema: o.schema, Data: v})
	}
	return out, nil
}

// redactQuery drops the query string, which often carries API keys, from messages.
func redactQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
