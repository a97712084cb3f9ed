package iglu

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// MetaSchemaURI is the $schema of every self-describing JSON Schema.
const MetaSchemaURI = "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"

// metaSchemaKey is the key of the meta-schema in the embedded set.
func metaSchemaKey() SchemaKey {
	return SchemaKey{Vendor: "com.snowplowanalytics.self-desc", Name: "schema", Format: FormatJSONSchema, Version: SchemaVer{1, 0, 0}}
}

// validator is a compiled schema plus its decoded document, which is needed to word
// error messages the way Snowplow does (the keyword's value, the enum list, …).
type validator struct {
	schema *jsonschema.Schema
	doc    any
	fast   *fastCheck // nil when the schema uses keywords fastCheck does not implement
}

// compileOptions holds what every compilation shares.
type compileOptions struct {
	// metaSchema is the meta-schema document (self-desc/schema 1-0-0) served when a
	// schema's $schema names it, so that nothing is fetched.
	metaSchema []byte
}

// compileSchema compiles a JSON Schema (draft-04) the way Snowplow's validator reads it:
// the schema must be valid against the draft-04 meta-schema, $schema may be the Iglu
// meta-schema, "self" is ignored, and any $ref that leaves the document accepts
// anything (it is replaced by {} and never fetched). The error is a ValidationError
// with SchemaIssues.
func compileSchema(raw []byte, opts compileOptions) (*validator, *ClientError) {
	doc, err := decodeNumbers(raw)
	if err != nil {
		return nil, schemaIssue("$", "schema is not valid JSON: "+err.Error())
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, schemaIssue("$", "schema is not a JSON object")
	}
	src := raw
	if hasRemoteRef(doc) {
		doc = dropRemoteRefs(doc)
		if src, err = json.Marshal(doc); err != nil {
			return nil, schemaIssue("$", err.Error())
		}
	}

	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	c.LoadURL = func(s string) (io.ReadCloser, error) {
		if strings.TrimSuffix(s, "#") == strings.TrimSuffix(MetaSchemaURI, "#") && opts.metaSchema != nil {
			return io.NopCloser(bytes.NewReader(opts.metaSchema)), nil
		}
		// Remote documents are never fetched; an unknown $schema reads as draft-04.
		return io.NopCloser(strings.NewReader("{}")), nil
	}
	c.RegisterExtension("strictInteger", nil, strictIntegerCompiler{})
	if err := c.AddResource(compileURL, bytes.NewReader(src)); err != nil {
		return nil, schemaIssue("$", strings.ReplaceAll(err.Error(), compileURL, "schema"))
	}
	s, err := c.Compile(compileURL)
	if err != nil {
		return nil, compileIssues(err)
	}
	return &validator{schema: s, doc: doc, fast: compileFastCheck(doc)}, nil
}

// compileURL is the base URI every schema is compiled under. It never resolves: a
// schema's own "id" may change the base, and remote references are dropped.
const compileURL = "http://iglu.invalid/schema.json"

// metaSchemaForCompiler turns the Iglu meta-schema (whose $schema is itself) into a
// document the compiler can read as draft-04.
func metaSchemaForCompiler(raw []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading the embedded meta-schema: %w", err)
	}
	m["$schema"] = "http://json-schema.org/draft-04/schema#"
	return json.Marshal(m)
}

func schemaIssue(path, msg string) *ClientError {
	return &ClientError{Kind: ValidationError, SchemaIssues: []SchemaIssue{{Path: path, Message: msg}}}
}

// compileIssues turns a compilation error into schema issues: meta-schema violations
// become one issue per failure at the JSONPath of the offending part of the schema.
func compileIssues(err error) *ClientError {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		msg := err.Error()
		if se := (*jsonschema.SchemaError)(nil); errors.As(err, &se) && se.Err != nil {
			msg = se.Err.Error()
		}
		return schemaIssue("$", strings.ReplaceAll(strings.TrimPrefix(msg, "jsonschema: "), compileURL, "schema"))
	}
	var issues []SchemaIssue
	for _, leaf := range leaves(ve, nil) {
		path, _ := jsonPath(nil, leaf.InstanceLocation)
		issues = append(issues, SchemaIssue{Path: path, Message: path + ": " + leaf.Message})
	}
	slices.SortStableFunc(issues, func(a, b SchemaIssue) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Message, b.Message))
	})
	issues = slices.Compact(issues)
	return &ClientError{Kind: ValidationError, SchemaIssues: issues}
}

// validate returns nil when instance is valid, else the reports in Snowplow's wording.
func (v *validator) validate(instance any) ([]DataReport, error) {
	if v.fast != nil && v.fast.valid(instance) {
		return nil, nil
	}
	err := v.schema.Validate(instance)
	if err == nil {
		return nil, nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		// Not a JSON value the validator understands (e.g. a Go struct).
		return nil, fmt.Errorf("validating instance: %w", err)
	}
	var reports []DataReport
	for _, leaf := range leaves(ve, nil) {
		reports = append(reports, v.report(leaf, instance)...)
	}
	slices.SortStableFunc(reports, func(a, b DataReport) int {
		return cmp.Or(strings.Compare(deref(a.Path), deref(b.Path)), strings.Compare(a.Message, b.Message))
	})
	reports = slices.CompactFunc(reports, func(a, b DataReport) bool {
		return a.Message == b.Message && deref(a.Path) == deref(b.Path) && deref(a.Keyword) == deref(b.Keyword)
	})
	return reports, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// leaves collects the failures that have no causes: the keywords that actually failed
// (allOf/anyOf/oneOf/$ref nodes only group them).
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// report words one failed keyword like Snowplow's validator (json-schema-validator
// message templates, as frozen by iglu-scala-client).
func (v *validator) report(leaf *jsonschema.ValidationError, instance any) []DataReport {
	path, value := jsonPath(instance, leaf.InstanceLocation)
	tokens := schemaPointer(leaf.AbsoluteKeywordLocation)
	keyword := ""
	if n := len(tokens); n > 0 {
		keyword = tokens[n-1]
		if n >= 3 && tokens[n-3] == "dependencies" {
			keyword = "dependencies"
			tokens = tokens[:n-2]
		}
		tokens = tokens[:len(tokens)-1]
	}
	parent, _ := pointerGet(v.doc, tokens).(map[string]any)
	mk := func(kw, msg string, targets ...string) DataReport {
		if targets == nil {
			targets = []string{}
		}
		return DataReport{Message: msg, Path: ptr(path), Keyword: ptr(kw), Targets: targets}
	}
	switch keyword {
	case "type":
		found := jsonTypeName(value)
		types := schemaTypes(parent)
		if len(types) == 1 {
			return []DataReport{mk("type", fmt.Sprintf("%s: %s found, %s expected", path, found, types[0]), found, types[0])}
		}
		list := "[" + strings.Join(types, ", ") + "]"
		return []DataReport{mk("type", fmt.Sprintf("%s: %s found, but %s is required", path, found, list), found, list)}
	case "required":
		obj, _ := value.(map[string]any)
		var out []DataReport
		for _, name := range stringList(parent["required"]) {
			if _, ok := obj[name]; !ok {
				out = append(out, mk("required", childPath(path, name)+": is missing but it is required", name))
			}
		}
		if out != nil {
			return out
		}
	case "additionalProperties":
		obj, _ := value.(map[string]any)
		props, _ := parent["properties"].(map[string]any)
		patterns, _ := parent["patternProperties"].(map[string]any)
		var extra []string
		for name := range obj {
			if _, ok := props[name]; ok || matchesAny(patterns, name) {
				continue
			}
			extra = append(extra, name)
		}
		slices.Sort(extra)
		var out []DataReport
		for _, name := range extra {
			out = append(out, mk("additionalProperties", childPath(path, name)+": is not defined in the schema and the schema does not allow additional properties", name))
		}
		if out != nil {
			return out
		}
	case "maxLength":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: may only be %s characters long", path, n), n)}
	case "minLength":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: must be at least %s characters long", path, n), n)}
	case "maximum", "exclusiveMaximum":
		n := numText(parent["maximum"])
		return []DataReport{mk("maximum", fmt.Sprintf("%s: must have a maximum value of %s", path, n), n)}
	case "minimum", "exclusiveMinimum":
		n := numText(parent["minimum"])
		return []DataReport{mk("minimum", fmt.Sprintf("%s: must have a minimum value of %s", path, n), n)}
	case "multipleOf":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: must be multiple of %s", path, n), n)}
	case "maxItems":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: there must be a maximum of %s items in the array", path, n), n)}
	case "minItems":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: there must be a minimum of %s items in the array", path, n), n)}
	case "maxProperties":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: may only have a maximum of %s properties", path, n), n)}
	case "minProperties":
		n := numText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: should have a minimum of %s properties", path, n), n)}
	case "uniqueItems":
		return []DataReport{mk(keyword, path+": the items in the array must be unique")}
	case "enum":
		list := enumText(parent[keyword])
		return []DataReport{mk(keyword, fmt.Sprintf("%s: does not have a value in the enumeration %s", path, list), list)}
	case "pattern":
		p, _ := parent[keyword].(string)
		return []DataReport{mk(keyword, fmt.Sprintf("%s: does not match the regex pattern %s", path, p), p)}
	case "format":
		f, _ := parent[keyword].(string)
		if f == "date-time" {
			s, _ := value.(string)
			return []DataReport{mk(keyword, fmt.Sprintf("%s: %s is an invalid %s", path, s, f), s, f)}
		}
		return []DataReport{mk(keyword, fmt.Sprintf("%s: does not match the %s pattern", path, f), f)}
	case "dependencies":
		dep := dependencyText(parent)
		return []DataReport{mk(keyword, fmt.Sprintf("%s: has an error with dependencies %s", path, dep), dep)}
	case "additionalItems":
		items, _ := parent["items"].([]any)
		arr, _ := value.([]any)
		var out []DataReport
		for i := len(items); i < len(arr); i++ {
			idx := strconv.Itoa(i)
			out = append(out, mk(keyword, fmt.Sprintf("%s[%s]: no validator found at this index", path, idx), idx))
		}
		if out != nil {
			return out
		}
	case "oneOf":
		var sb strings.Builder
		branches, _ := parent[keyword].([]any)
		for _, b := range branches {
			enc, _ := json.Marshal(b)
			sb.Write(enc)
		}
		return []DataReport{mk(keyword, fmt.Sprintf("%s: should be valid to one and only one of schema, but more than one are valid: %s", path, sb.String()), sb.String())}
	case "not":
		enc, _ := json.Marshal(parent[keyword])
		arg := `"not" : ` + string(enc)
		return []DataReport{mk(keyword, fmt.Sprintf("%s: should not be valid to the schema %s", path, arg), arg)}
	}
	return []DataReport{mk(keyword, path+": "+leaf.Message)}
}

func ptr(s string) *string { return &s }

// jsonTypeName names a value's JSON type as Snowplow's validator does: a number
// written without fraction or exponent is "integer".
func jsonTypeName(v any) string {
	switch n := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if isIntegerLiteral(string(n)) {
			return "integer"
		}
		return "number"
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) {
			return "integer"
		}
		return "number"
	case float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "integer"
	}
	return "unknown"
}

// isIntegerLiteral reports whether a JSON number literal has no fraction or exponent:
// Jackson reads 1.0 and 1e2 as floating-point, so draft-04 "integer" rejects them.
func isIntegerLiteral(s string) bool {
	return !strings.ContainsAny(s, ".eE")
}

func schemaTypes(parent map[string]any) []string {
	switch t := parent["type"].(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	}
	return []string{"unknown"}
}

func stringList(v any) []string {
	arr, _ := v.([]any)
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func numText(v any) string {
	switch n := v.(type) {
	case json.Number:
		return n.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// enumText renders an enum list as [a, b, 1, null]: strings unquoted, other values as
// compact JSON.
func enumText(v any) string {
	arr, _ := v.([]any)
	parts := make([]string, len(arr))
	for i, x := range arr {
		if s, ok := x.(string); ok {
			parts[i] = s
			continue
		}
		enc, _ := json.Marshal(x)
		parts[i] = string(enc)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// dependencyText renders the dependencies keyword as {a=[b, c], d=…}, names sorted.
func dependencyText(parent map[string]any) string {
	deps, _ := parent["dependencies"].(map[string]any)
	names := make([]string, 0, len(deps))
	for k := range deps {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		if list, ok := deps[k].([]any); ok {
			parts[i] = k + "=[" + strings.Join(stringList(list), ", ") + "]"
		} else {
			enc, _ := json.Marshal(deps[k])
			parts[i] = k + "=" + string(enc)
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func matchesAny(patterns map[string]any, name string) bool {
	for p := range patterns {
		if re, err := regexp.Compile(p); err == nil && re.MatchString(name) {
			return true
		}
	}
	return false
}

// schemaPointer returns the decoded JSON-pointer tokens of the fragment of an absolute
// keyword location ("http://…#/properties/a/type" → [properties a type]).
func schemaPointer(loc string) []string {
	_, frag, _ := strings.Cut(loc, "#")
	return pointerTokens(frag)
}

// pointerTokens splits a JSON pointer as the validator writes it (tokens escaped with
// ~0 ~1 and then URL path escaping).
func pointerTokens(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	parts := strings.Split(p, "/")
	for i, t := range parts {
		if u, err := url.PathUnescape(t); err == nil {
			t = u
		}
		t = strings.ReplaceAll(t, "~1", "/")
		parts[i] = strings.ReplaceAll(t, "~0", "~")
	}
	return parts
}

func pointerGet(doc any, tokens []string) any {
	cur := doc
	for _, t := range tokens {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[t]
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// jsonPath converts an instance location (JSON pointer) to Snowplow's JSONPath form
// ($.a.b[0]), using the instance to tell array indexes from object keys, and returns
// the value found there.
func jsonPath(instance any, loc string) (string, any) {
	path := "$"
	cur := instance
	for _, t := range pointerTokens(loc) {
		switch c := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(c) {
				path += "[" + t + "]"
				cur = c[i]
				continue
			}
			path = childPath(path, t)
			cur = nil
		case map[string]any:
			path = childPath(path, t)
			cur = c[t]
		default:
			path = childPath(path, t)
			cur = nil
		}
	}
	return path, cur
}

// childPath appends a member name to a JSONPath: .name for plain names, ['name'] for
// names with other characters.
func childPath(path, name string) string {
	plain := name != ""
	for i := 0; i < len(name) && plain; i++ {
		c := name[i]
		plain = c == '_' || c == '-' || c == '$' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
	}
	if plain {
		return path + "." + name
	}
	return path + "['" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "']"
}

// strictIntegerCompiler adds draft-04's reading of "integer" to the validator, which
// otherwise accepts 1.0: a number written with a fraction or an exponent is not an
// integer (as with Jackson in Snowplow's validator).
type strictIntegerCompiler struct{}

func (strictIntegerCompiler) Compile(_ jsonschema.CompilerContext, m map[string]any) (jsonschema.ExtSchema, error) {
	integer, number := false, false
	switch t := m["type"].(type) {
	case string:
		integer = t == "integer"
	case []any:
		for _, x := range t {
			integer = integer || x == "integer"
			number = number || x == "number"
		}
	}
	if !integer || number {
		return nil, nil
	}
	return strictInteger{types: schemaTypes(m)}, nil
}

type strictInteger struct{ types []string }

func (s strictInteger) Validate(ctx jsonschema.ValidationContext, v any) error {
	if n, ok := v.(json.Number); ok && !isIntegerLiteral(string(n)) {
		return ctx.Error("type", "expected %s, but got number", strings.Join(s.types, " or "))
	}
	return nil
}

// decodeNumbers decodes JSON keeping numbers as json.Number.
func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// isDataKeyword reports whether a keyword holds data, not subschemas: a "$ref" inside
// it is not a reference.
func isDataKeyword(k string) bool {
	switch k {
	case "enum", "default", "examples", "const":
		return true
	}
	return false
}

func isRemoteRef(v any) bool {
	s, ok := v.(string)
	return ok && !strings.HasPrefix(s, "#")
}

func hasRemoteRef(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		if isRemoteRef(t["$ref"]) {
			return true
		}
		for k, x := range t {
			if !isDataKeyword(k) && hasRemoteRef(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if hasRemoteRef(x) {
				return true
			}
		}
	}
	return false
}

// dropRemoteRefs replaces every subschema whose $ref leaves the document with {} (in
// draft-04 the other members of a $ref object are ignored anyway).
func dropRemoteRefs(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if isRemoteRef(t["$ref"]) {
			return map[string]any{}
		}
		for k, x := range t {
			if !isDataKeyword(k) {
				t[k] = dropRemoteRefs(x)
			}
		}
	case []any:
		for i, x := range t {
			t[i] = dropRemoteRefs(x)
		}
	}
	return v
}
