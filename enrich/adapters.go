package enrich

import (
	"context"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// Vendors and versions with an adapter (Snowplow's AdapterRegistry, tracker protocol and
// Iglu webhook only).
const (
	vendorSnowplow = "com.snowplowanalytics.snowplow"
	vendorRedirect = "r"
	vendorIglu     = "com.snowplowanalytics.iglu"
)

// Adapter messages.
const (
	msgEmptyBodyTP   = "empty body: not a valid tracker protocol event"
	msgEmptyQSTP     = "empty querystring: not a valid tracker protocol event"
	msgEmptyBodyCT   = "empty body: not a valid track protocol event"
	msgTP2CT         = "expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8"
	msgEmptyQSRedir  = "empty querystring: not a valid URI redirect"
	msgMissingU      = "missing `u` parameter: not a valid URI redirect"
	msgIgluCT3       = "expected one of application/json, application/json; charset=utf-8, application/x-www-form-urlencoded"
	msgIgluCT2       = "expected one of application/json, application/json; charset=utf-8"
	msgNotSupported  = "vendor/version combination is not supported"
	igluTracker      = "com.snowplowanalytics.iglu-v1"
	redirectTracker  = "r-tp2"
	unstructEnvelope = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
	contextsEnvelope = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
	uriRedirect      = "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
)

// isTrackerProtocol reports whether failures of vendor/version are
// tracker_protocol_violations (else adapter_failures).
func isTrackerProtocol(vendor, version string) bool {
	return version == "tp2" && (vendor == vendorSnowplow || vendor == vendorRedirect)
}

// adapt turns a loaded payload into the parameters of its events, or failure messages.
func (p *pipeline) adapt(ctx context.Context, l *loaded) ([]params, []badrow.Message, error) {
	switch {
	case l.vendor == vendorSnowplow && l.version == "tp1":
		return p.adaptTP1(l)
	case l.vendor == vendorSnowplow && l.version == "tp2":
		return p.adaptTP2(ctx, l)
	case l.vendor == vendorRedirect && l.version == "tp2":
		return p.adaptRedirect(l)
	case l.vendor == vendorIglu && l.version == "v1":
		return p.adaptIglu(l)
	}
	return nil, []badrow.Message{badrow.InputData{
		Field: "vendor/version", Value: badrow.Str(l.vendor + "/" + l.version), Expectation: msgNotSupported,
	}}, nil
}

func (p *pipeline) adaptTP1(l *loaded) ([]params, []badrow.Message, error) {
	ps := toParams(l.qs)
	if len(ps) == 0 {
		return nil, []badrow.Message{badrow.InputData{Field: "querystring", Expectation: msgEmptyQSRedir}}, nil
	}
	return []params{ps}, nil, nil
}

func isTP2ContentType(ct string) bool {
	return ct == "application/json" || ct == "application/json; charset=utf-8" || ct == "application/json; charset=UTF-8"
}

func (p *pipeline) adaptTP2(ctx context.Context, l *loaded) ([]params, []badrow.Message, error) {
	qs := toParams(l.qs)
	body, ct := l.cp.Body, l.cp.ContentType
	switch {
	case body == "" && len(qs) == 0:
		return nil, []badrow.Message{
			badrow.InputData{Field: "body", Expectation: msgEmptyBodyTP},
			badrow.InputData{Field: "querystring", Expectation: msgEmptyQSTP},
		}, nil
	case ct != "" && !isTP2ContentType(ct):
		return nil, []badrow.Message{badrow.InputData{Field: "contentType", Value: badrow.Str(ct), Expectation: msgTP2CT}}, nil
	case body != "" && ct == "":
		return nil, []badrow.Message{badrow.InputData{Field: "contentType", Expectation: msgTP2CT}}, nil
	case body == "" && ct != "":
		return nil, []badrow.Message{badrow.InputData{Field: "body", Expectation: msgEmptyBodyCT}}, nil
	case body == "":
		return []params{qs}, nil, nil
	}

	// Body: a self-describing payload_data JSON. The body is checked without being
	// decoded; it is decoded for the validator only when it is not a plainly valid
	// instance of a published payload_data schema. Trackers' bodies are read in one pass.
	if evs, ok := p.plainBody(body, qs, l.bufs); ok {
		return evs, nil, nil
	}
	var members []jvm.KeyVal
	if jerr := jvm.CheckJSON(body, p.maxDepth, &members); jerr != nil {
		return nil, []badrow.Message{badrow.NotJSON{Field: "body", Value: badrow.Str(body), Error: jerr.Error()}}, nil
	}
	key, dataRaw, code := rawSDJ(members)
	if code != "" {
		return nil, []badrow.Message{notIglu(body, code)}, nil
	}
	if evs, ok := p.plainPayloadData(key, dataRaw, qs, l.bufs); ok {
		return evs, nil, nil
	}
	{
		data, _ := jvm.ParseJSON(dataRaw, p.maxDepth)
		_, ce, err := p.validate(ctx, key, data)
		if err != nil {
			return nil, nil, err
		}
		if ce != nil {
			return nil, []badrow.Message{badrow.IgluError{SchemaKey: key.String(), Error: ce}}, nil
		}
	}
	if !p.payloadDataCriterion.Matches(key) {
		return nil, []badrow.Message{badrow.CriterionMismatch{SchemaKey: key.String(), SchemaCriterion: p.payloadDataCriterion.String()}}, nil
	}
	return tp2Events(dataRaw, qs)
}

// tp2Events reads the data array of payload_data: one event per object, every value a
// string, the query-string parameters merged over each event.
func tp2Events(data string, qs params) ([]params, []badrow.Message, error) {
	notArray := func() ([]params, []badrow.Message, error) {
		return nil, []badrow.Message{badrow.InputData{Field: "body", Value: badrow.Str(string(jvm.AppendCanonical(nil, data))), Expectation: "json is not an array"}}, nil
	}
	var events []params
	var msgs []badrow.Message
	allObjects := true
	isArray := jvm.RawElements(data, func(el string) bool {
		if el[0] != '{' {
			allObjects = false
			return false
		}
		ev := make(params, 0, 24)
		jvm.RawMembers(el, func(k, val string) bool {
			ev.set(k, strPtr(val))
			return true
		})
		// Check the values after merging repeated keys, as circe keeps only the last.
		for i := range ev {
			raw := *ev[i].Value
			switch raw[0] {
			case '"':
				s := jvm.RawString(raw)
				ev[i].Value = &s
			case 'n':
				msgs = append(msgs, badrow.InputData{Field: ev[i].Name, Expectation: "value cannot be null"})
			default:
				msgs = append(msgs, badrow.InputData{Field: ev[i].Name, Value: badrow.Str(string(jvm.AppendCanonical(nil, raw))), Expectation: "value is not a string"})
			}
		}
		events = append(events, ev.merged(qs))
		return true
	})
	if !isArray || !allObjects {
		return notArray()
	}
	if len(msgs) > 0 {
		return nil, msgs, nil
	}
	if len(events) == 0 {
		return nil, []badrow.Message{badrow.InputData{Field: "body", Value: badrow.Str(string(jvm.AppendCanonical(nil, data))), Expectation: "empty list of events"}}, nil
	}
	return events, nil, nil
}

func strPtr(s string) *string { return &s }

func (p *pipeline) adaptRedirect(l *loaded) ([]params, []badrow.Message, error) {
	orig := toParams(l.qs)
	if len(orig) == 0 {
		return nil, []badrow.Message{badrow.InputData{Field: "querystring", Expectation: msgEmptyQSRedir}}, nil
	}
	u, ok := orig.str("u")
	if !ok {
		var b strings.Builder
		for i, kv := range orig {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(kv.Name)
			b.WriteByte('=')
			if kv.Value == nil {
				b.WriteString("null")
			} else {
				b.WriteString(*kv.Value)
			}
		}
		return nil, []badrow.Message{badrow.InputData{Field: "querystring", Value: badrow.Str(b.String()), Expectation: msgMissingU}}, nil
	}
	entity := jvm.AppendCirceString([]byte(`{"schema":"`+uriRedirect+`","data":{"uri":`), u)
	entity = append(entity, "}}"...)

	out := orig.without("u")
	if _, hasE := orig.get("e"); hasE {
		newCo := `{"schema":"` + contextsEnvelope + `","data":[` + string(entity) + `]}`
		cx, hasCx := orig.get("cx")
		co, hasCo := orig.get("co")
		switch {
		case hasCx && cx != nil:
			decoded := string(jvm.DecodeBase64(nil, *cx))
			merged, m := addToContexts(decoded, entity)
			if m != nil {
				return nil, []badrow.Message{m}, nil
			}
			out.setStr("cx", jvm.EncodeBase64URL([]byte(merged)))
		case hasCo && co != nil && *co != "":
			merged, m := addToContexts(*co, entity)
			if m != nil {
				return nil, []badrow.Message{m}, nil
			}
			out.setStr("co", merged)
		default:
			out.setStr("co", newCo)
		}
	} else {
		out.setStr("e", "ue")
		out.setStr("ue_pr", `{"schema":"`+unstructEnvelope+`","data":`+string(entity)+`}`)
	}
	out.setStr("tv", redirectTracker)
	if pv, ok := orig.get("p"); ok {
		out.set("p", pv)
	} else {
		out.setStr("p", "web")
	}
	return []params{out}, nil, nil
}

// addToContexts prepends entity to the data array of the contexts JSON existing (left as
// it is when there is no data array), printed compactly.
func addToContexts(existing string, entity []byte) (string, badrow.Message) {
	if _, jerr := jvm.ParseJSON(existing, 1<<30); jerr != nil {
		return "", badrow.NotJSON{Field: "co|cx", Value: badrow.Str(existing), Error: jerr.Error()}
	}
	data, ok := jvm.RawMember(existing, "data")
	if !ok || jvm.SkipWS(data, 0) >= len(data) || data[jvm.SkipWS(data, 0)] != '[' {
		return string(jvm.AppendCanonical(nil, existing)), nil
	}
	var b []byte
	b = append(b, '{')
	n := 0
	var seen []string
	jvm.RawMembers(existing, func(k, v string) bool {
		for _, s := range seen {
			if s == k {
				return true
			}
		}
		seen = append(seen, k)
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = jvm.AppendCirceString(b, k)
		b = append(b, ':')
		last, _ := jvm.RawMember(existing, k)
		if k == "data" {
			b = append(b, '[')
			b = append(b, entity...)
			jvm.RawElements(last, func(el string) bool {
				b = append(b, ',')
				b = jvm.AppendCanonical(b, el)
				return true
			})
			b = append(b, ']')
		} else {
			b = jvm.AppendCanonical(b, last)
		}
		return true
	})
	b = append(b, '}')
	return string(b), nil
}

func (p *pipeline) adaptIglu(l *loaded) ([]params, []badrow.Message, error) {
	ps := toParams(l.qs)
	body, ct := l.cp.Body, l.cp.ContentType
	schema, hasSchema := ps.str("schema")
	switch {
	case body != "" && ct == "":
		return nil, []badrow.Message{badrow.InputData{Field: "contentType", Expectation: msgIgluCT3}}, nil
	case !hasSchema && body != "":
		if ct != "application/json" && ct != "application/json; charset=utf-8" {
			return nil, []badrow.Message{badrow.InputData{Field: "contentType", Value: badrow.Str(ct), Expectation: msgIgluCT2}}, nil
		}
		v, jerr := jvm.ParseJSON(body, p.maxDepth)
		if jerr != nil {
			return nil, []badrow.Message{badrow.NotJSON{Field: "body", Value: badrow.Str(body), Error: jerr.Error()}}, nil
		}
		s, code := parseSDJ(v, body)
		if code != "" {
			return nil, []badrow.Message{notIglu(body, code)}, nil
		}
		return []params{igluEventParams(ps, s.key.String(), jvm.AppendCanonical(nil, s.dataRaw), "app")}, nil, nil
	case !hasSchema:
		return nil, []badrow.Message{
			badrow.InputData{Field: "schema", Expectation: "empty `schema` field"},
			badrow.InputData{Field: "body", Expectation: "empty body"},
		}, nil
	}
	key, err := iglu.ParseSchemaKey(schema)
	if err != nil {
		code := iglu.CodeInvalidIgluURI
		if pe, ok := err.(*iglu.ParseError); ok {
			code = pe.Code
		}
		return nil, []badrow.Message{badrow.InputData{Field: "schema", Value: badrow.Str(schema), Expectation: code}}, nil
	}
	uri := key.String()
	rest := ps.without("schema")
	switch {
	case body == "":
		// The query-string parameters are the event (minus nuid, aid, cv and p), as strings
		// ("" as null).
		obj := []byte{'{'}
		n := 0
		for _, kv := range rest.without("nuid", "aid", "cv", "p") {
			if n > 0 {
				obj = append(obj, ',')
			}
			n++
			obj = jvm.AppendCirceString(obj, kv.Name)
			obj = append(obj, ':')
			if kv.Value == nil || *kv.Value == "" {
				obj = append(obj, "null"...)
			} else {
				obj = jvm.AppendCirceString(obj, *kv.Value)
			}
		}
		obj = append(obj, '}')
		return []params{igluEventParams(rest, uri, obj, "app")}, nil, nil
	case ct == "":
		return nil, []badrow.Message{badrow.InputData{Field: "contentType", Expectation: msgIgluCT3}}, nil
	case ct == "application/json" || ct == "application/json; charset=utf-8":
		if _, jerr := jvm.ParseJSON(body, p.maxDepth); jerr != nil {
			return nil, []badrow.Message{badrow.NotJSON{Field: "body", Value: badrow.Str(body), Error: jerr.Error()}}, nil
		}
		i := jvm.SkipWS(body, 0)
		switch body[i] {
		case '[':
			var events []params
			jvm.RawElements(body, func(el string) bool {
				events = append(events, igluEventParams(rest, uri, jvm.AppendCanonical(nil, el), "app"))
				return true
			})
			if len(events) == 0 {
				return nil, []badrow.Message{badrow.InputData{Field: "body", Value: badrow.Str(body), Expectation: "empty array of events"}}, nil
			}
			return events, nil, nil
		case '{':
			empty := true
			jvm.RawMembers(body, func(string, string) bool { empty = false; return false })
			if !empty {
				return []params{igluEventParams(rest, uri, jvm.AppendCanonical(nil, body), "app")}, nil, nil
			}
		}
		return nil, []badrow.Message{badrow.InputData{Field: "body", Value: badrow.Str(body), Expectation: "has no key-value pairs"}}, nil
	case ct == "application/x-www-form-urlencoded":
		form, ferr := parseQueryString(body, jvm.UTF8)
		if ferr != nil {
			return nil, []badrow.Message{badrow.InputData{Field: "body", Value: badrow.Str(body), Expectation: ferr.Error()}}, nil
		}
		obj := []byte{'{'}
		for i, kv := range toParams(form) {
			if i > 0 {
				obj = append(obj, ',')
			}
			obj = jvm.AppendCirceString(obj, kv.Name)
			obj = append(obj, ':')
			if kv.Value == nil {
				obj = append(obj, "null"...)
			} else {
				obj = jvm.AppendCirceString(obj, *kv.Value)
			}
		}
		obj = append(obj, '}')
		return []params{igluEventParams(rest, uri, obj, "srv")}, nil, nil
	}
	return nil, []badrow.Message{badrow.InputData{Field: "contentType", Value: badrow.Str(ct), Expectation: msgIgluCT3}}, nil
}

// igluEventParams is Adapter.buildUnstructEventParams: tv, e=ue, p (the query's p, else
// platform), ue_pr wrapping data with schema, plus the query parameters nuid, aid, cv, eid,
// ttm and url.
func igluEventParams(qs params, schema string, data []byte, platform string) params {
	ue := []byte(`{"schema":"` + unstructEnvelope + `","data":{"schema":`)
	ue = jvm.AppendCirceString(ue, schema)
	ue = append(ue, `,"data":`...)
	ue = append(ue, data...)
	ue = append(ue, "}}"...)
	out := make(params, 0, 10)
	out.setStr("tv", igluTracker)
	out.setStr("e", "ue")
	if pv, ok := qs.get("p"); ok {
		out.set("p", pv)
	} else {
		out.setStr("p", platform)
	}
	out.setStr("ue_pr", string(ue))
	for _, kv := range qs {
		switch kv.Name {
		case "nuid", "aid", "cv", "eid", "ttm", "url":
			out.set(kv.Name, kv.Value)
		}
	}
	return out
}
