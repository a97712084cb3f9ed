package iglu

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// LintLevel is the severity of a lint message, as Iglu Server reports it.
type LintLevel string

// Lint levels. Only LintError refuses a schema at publication.
const (
	LintError   LintLevel = "ERROR"
	LintWarning LintLevel = "WARNING"
	LintInfo    LintLevel = "INFO"
)

// LintMessage is one finding about a schema: the entry of Iglu Server's report
// ({"message","level","pointer"}). Pointer is a JSON pointer into the schema ("/" is the
// root, "/properties/a" a property's subschema).
type LintMessage struct {
	Message string    `json:"message"`
	Level   LintLevel `json:"level"`
	Pointer string    `json:"pointer"`
	// Linter names the check (schema-ddl's linter name, or "selfDescribing" and
	// "jsonSchema" for the structural checks).
	Linter string `json:"-"`
}

// HasLintErrors reports whether msgs hold a message of level LintError.
func HasLintErrors(msgs []LintMessage) bool {
	return slices.ContainsFunc(msgs, func(m LintMessage) bool { return m.Level == LintError })
}

// Messages of the structural checks, as Iglu Server words them.
const (
	lintNotSelfDescribing = "JSON Schema is not self-describing"
	lintNotSchema         = "Cannot extract JSON Schema"
)

// knownFormats are the "format" values schema-ddl knows (others draw a warning).
var knownFormats = []string{"date-time", "date", "email", "hostname", "ipv4", "ipv6", "uri", "uuid"}

// compileOpts is the compilation setup Lint shares (the meta-schema never changes).
var compileOpts = sync.OnceValues(func() (compileOptions, error) {
	meta, err := embeddedSchema(metaSchemaKey())
	if err != nil {
		return compileOptions{}, fmt.Errorf("reading the embedded meta-schema: %w", err)
	}
	meta, err = metaSchemaForCompiler(meta)
	return compileOptions{metaSchema: meta}, err
})

// Lint checks a schema as Iglu Server does before publishing it and at
// POST /api/validation/validate/schema/jsonschema: the document must be a valid
// draft-04 JSON Schema (and, with the Iglu $schema, a valid self-describing one), must
// be self-describing, and goes through schema-ddl's linters:
//
//   - ERROR: numericMinimumMaximum, stringMinMaxLength, arrayMinMaxItems,
//     numericProperties, stringProperties, arrayProperties, objectProperties,
//     requiredPropertiesExist, schemaUri;
//   - WARNING: rootObject, unknownFormats, numericMinMax, stringLength,
//     stringMaxLengthRange, bqDisallowedCharacters, bqIllegalStart;
//   - INFO: optionalNull, description.
//
// The linters visit the root and every subschema under items, additionalItems,
// properties, additionalProperties, patternProperties and oneOf, as schema-ddl does
// (not allOf, anyOf or not). Messages come in that order, root first. A nil result
// means the schema is clean; any LintError refuses it.
func Lint(raw []byte) []LintMessage {
	var out []LintMessage
	doc, err := decodeNumbers(raw)
	obj, isObj := doc.(map[string]any)
	if err != nil || !isObj {
		out = append(out, LintMessage{Message: lintNotSchema, Level: LintError, Pointer: "/", Linter: "jsonSchema"})
		return append(out, LintMessage{Message: lintNotSelfDescribing, Level: LintError, Pointer: "/", Linter: "selfDescribing"})
	}
	opts, err := compileOpts()
	if err != nil {
		out = append(out, LintMessage{Message: err.Error(), Level: LintError, Pointer: "/", Linter: "jsonSchema"})
	} else if _, cerr := compileSchema(raw, opts); cerr != nil {
		for _, is := range cerr.SchemaIssues {
			out = append(out, LintMessage{Message: is.Message, Level: LintError, Pointer: jsonPathToPointer(is.Path), Linter: "jsonSchema"})
		}
	}
	out = lintNode(out, obj, "/", true)
	if _, err := schemaSelf(raw); err != nil {
		out = append(out, LintMessage{Message: lintNotSelfDescribing, Level: LintError, Pointer: "/", Linter: "selfDescribing"})
	}
	return out
}

// lintNode runs the linters on one (sub)schema, then on its subschemas.
func lintNode(out []LintMessage, s map[string]any, ptr string, root bool) []LintMessage {
	add := func(linter string, level LintLevel, format string, args ...any) {
		out = append(out, LintMessage{Message: fmt.Sprintf(format, args...), Level: level, Pointer: ptr, Linter: linter})
	}
	types := typeSet(s["type"])
	withType := func(t string) bool { return types != nil && slices.Contains(types, t) }
	withoutType := func(t string) bool { return types != nil && !slices.Contains(types, t) }
	present := func(keys ...string) []string {
		var p []string
		for _, k := range keys {
			if _, ok := s[k]; ok {
				p = append(p, k)
			}
		}
		return p
	}

	// ERROR level.
	if min, max, ok := numberPair(s, "minimum", "maximum"); ok && max.Cmp(min) < 0 {
		add("numericMinimumMaximum", LintError, "A field with numeric type has a minimum value [%s] greater than the maximum value [%s]", numText(s["minimum"]), numText(s["maximum"]))
	}
	if min, max, ok := numberPair(s, "minLength", "maxLength"); ok && max.Cmp(min) < 0 {
		add("stringMinMaxLength", LintError, `A string type with "minLength" and "maxLength" property values has a minimum value [%s] higher than the maximum [%s]`, numText(s["minLength"]), numText(s["maxLength"]))
	}
	if min, max, ok := numberPair(s, "minItems", "maxItems"); ok && max.Cmp(min) < 0 {
		add("arrayMinMaxItems", LintError, `A field of array type has a "minItems" value [%s] with a greater value than the "maxItems" [%s]`, numText(s["minItems"]), numText(s["maxItems"]))
	}
	if keys := present("multipleOf", "minimum", "maximum"); len(keys) > 0 && withoutType("number") && withoutType("integer") {
		add("numericProperties", LintError, "Numeric properties [%s] require either a number, integer or absent values", strings.Join(keys, ","))
	}
	if keys := present("maxLength", "minLength", "pattern", "format"); len(keys) > 0 && withoutType("string") {
		add("stringProperties", LintError, "String properties [%s] require either string or absent values", strings.Join(keys, ","))
	}
	if keys := present("items", "additionalItems", "minItems", "maxItems"); len(keys) > 0 && withoutType("array") {
		add("arrayProperties", LintError, "Array properties [%s] require either array or absent values", strings.Join(keys, ","))
	}
	if keys := present("properties", "additionalProperties", "required", "patternProperties"); len(keys) > 0 && withoutType("object") {
		add("objectProperties", LintError, "Object properties [%s] require either object or absent values", strings.Join(keys, ","))
	}
	props, _ := s["properties"].(map[string]any)
	required := stringList(s["required"])
	if ap, ok := s["additionalProperties"].(bool); ok && !ap && s["required"] != nil && props != nil && s["patternProperties"] == nil {
		var missing []string
		for _, k := range required {
			if _, ok := props[k]; !ok && !slices.Contains(missing, k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			add("requiredPropertiesExist", LintError, "Elements specified as required [%s] don't exist in schema properties", strings.Join(missing, ","))
		}
	}
	if root {
		switch uri, ok := s["$schema"].(string); {
		case !ok && s["$schema"] == nil:
			add("schemaUri", LintError, "No $schema field in top-level of schema")
		case uri != MetaSchemaURI:
			add("schemaUri", LintError, "Given $schema is not %s", MetaSchemaURI)
		}
	}

	// WARNING level.
	if root && (props == nil || !isExactlyType(s["type"], "object")) {
		add("rootObject", LintWarning, `At the root level, the schema should have a "type" property set to "object" and have a "properties" property`)
	}
	format, hasFormat := s["format"].(string)
	if hasFormat && !slices.Contains(knownFormats, format) {
		add("unknownFormats", LintWarning, "Unknown format [%s] detected. Known formats are: date-time, date, email, hostname, ipv4, ipv6 or uri", format)
	}
	if withType("number") || withType("integer") {
		if _, _, ok := numberPair(s, "minimum", "maximum"); !ok {
			add("numericMinMax", LintWarning, `A numeric property should have "minimum" and "maximum" properties`)
		}
	}
	_, hasEnum := s["enum"]
	_, hasMaxLength := s["maxLength"]
	if withType("string") && !hasEnum && !hasMaxLength && (!hasFormat || !slices.Contains(knownFormats, format)) {
		add("stringLength", LintWarning, `A string type in the schema doesn't contain "maxLength" or format which is required`)
	}
	if withType("string") {
		if n, ok := bigNumber(s["maxLength"]); ok && n.Cmp(big.NewFloat(65535)) > 0 {
			add("stringMaxLengthRange", LintWarning, `A string property has a "maxLength" [%s] greater than the Redshift VARCHAR maximum of 65535`, numText(s["maxLength"]))
		}
	}
	if props != nil {
		names := sortedKeys(props)
		var disallowed, badStart []string
		for _, k := range names {
			if strings.ContainsFunc(k, func(r rune) bool { return !isColumnRune(r) }) {
				disallowed = append(disallowed, k)
			}
			if k == "" || !(k[0] == '_' || k[0] >= 'a' && k[0] <= 'z' || k[0] >= 'A' && k[0] <= 'Z') {
				badStart = append(badStart, k)
			}
		}
		if len(disallowed) > 0 {
			add("bqDisallowedCharacters", LintWarning, "Following properties contain disallowed characters for BigQuery column name: [%s]", strings.Join(disallowed, ", "))
		}
		if len(badStart) > 0 {
			add("bqIllegalStart", LintWarning, "Following properties start with illegal character for BigQuery column name: [%s]", strings.Join(badStart, ", "))
		}
	}

	// INFO level.
	if s["required"] != nil && props != nil {
		var optional []string
		for _, k := range sortedKeys(props) {
			if slices.Contains(required, k) {
				continue
			}
			sub, _ := props[k].(map[string]any)
			if sub == nil || !slices.Contains(typeSet(sub["type"]), "null") {
				optional = append(optional, k)
			}
		}
		if len(optional) > 0 {
			add("optionalNull", LintInfo, `Use "type: null" to indicate a field as optional for properties %s`, strings.Join(optional, ","))
		}
	}
	if _, ok := s["description"]; !ok {
		add("description", LintInfo, `The schema is missing the "description" property`)
	}

	// Subschemas, in schema-ddl's order.
	switch items := s["items"].(type) {
	case map[string]any:
		out = lintNode(out, items, childPointer(ptr, "items"), false)
	case []any:
		for i, it := range items {
			if m, ok := it.(map[string]any); ok {
				out = lintNode(out, m, childPointer(childPointer(ptr, "items"), strconv.Itoa(i)), false)
			}
		}
	}
	if m, ok := s["additionalItems"].(map[string]any); ok {
		out = lintNode(out, m, childPointer(ptr, "additionalItems"), false)
	}
	for _, k := range sortedKeys(props) {
		if m, ok := props[k].(map[string]any); ok {
			out = lintNode(out, m, childPointer(childPointer(ptr, "properties"), k), false)
		}
	}
	if m, ok := s["additionalProperties"].(map[string]any); ok {
		out = lintNode(out, m, childPointer(ptr, "additionalProperties"), false)
	}
	pp, _ := s["patternProperties"].(map[string]any)
	for _, k := range sortedKeys(pp) {
		if m, ok := pp[k].(map[string]any); ok {
			out = lintNode(out, m, childPointer(childPointer(ptr, "patternProperties"), k), false)
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		for i, it := range one {
			if m, ok := it.(map[string]any); ok {
				out = lintNode(out, m, childPointer(childPointer(ptr, "oneOf"), strconv.Itoa(i)), false)
			}
		}
	}
	return out
}

// childPointer appends one token to a pointer. Like schema-ddl, tokens are not escaped.
func childPointer(ptr, tok string) string {
	if ptr == "/" {
		return "/" + tok
	}
	return ptr + "/" + tok
}

// typeSet returns the types a "type" keyword allows; nil when it is absent or unusable.
func typeSet(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func isExactlyType(v any, t string) bool {
	s, ok := v.(string)
	return ok && s == t
}

func bigNumber(v any) (*big.Float, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(string(n), 10, 200, big.ToNearestEven)
	return f, err == nil
}

// numberPair returns the two numeric keywords of s when both are numbers.
func numberPair(s map[string]any, lo, hi string) (*big.Float, *big.Float, bool) {
	a, ok1 := bigNumber(s[lo])
	b, ok2 := bigNumber(s[hi])
	return a, b, ok1 && ok2
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isColumnRune: BigQuery column names are letters, digits and underscores.
func isColumnRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// SchemaSelf returns the key a self-describing schema names in its "self". The error is
// a *ParseError (INVALID_SCHEMA) when there is no valid self.
func SchemaSelf(raw []byte) (SchemaKey, error) { return schemaSelf(raw) }

// IsZero reports whether k is the zero key.
func (k SchemaKey) IsZero() bool { return k == SchemaKey{} }
