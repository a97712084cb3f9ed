package iglu

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// fastCheck answers "is this instance valid?" for the schemas most events carry
// (objects of typed, bounded properties: web_page, client_session, browser_context,
// link_click, ua_parser_context, …) without the general validator's bookkeeping, which
// costs tens of microseconds and hundreds of allocations per instance.
//
// It is a shortcut, never a second opinion: it answers true only when the general
// validator (with strictInteger) certainly accepts the instance, and false whenever it
// is unsure — an invalid instance, a number on a bound, a value of a Go type the parser
// does not produce. On false the general validator runs and words the reports, so
// results are exactly those of the general validator. A schema using any keyword it does
// not implement gets no fastCheck at all (compileFastCheck returns nil).
type fastCheck struct {
	types uint8 // typeX bits; 0 allows any type

	// objects
	props    map[string]*fastCheck
	required []string
	noExtra  bool       // additionalProperties: false
	extra    *fastCheck // additionalProperties as a schema

	// strings
	minLen, maxLen int // -1: none
	pattern        *regexp.Regexp
	format         func(any) bool

	// numbers
	min, max           *bound
	exclMin, exclMax   bool
	enum               []any // strings, booleans and null only
	items              *fastCheck
	minItems, maxItems int // -1: none
}

const (
	typeNull uint8 = 1 << iota
	typeBoolean
	typeInteger // a number literal without fraction or exponent
	typeNumber
	typeString
	typeArray
	typeObject
)

// bound is minimum or maximum.
type bound struct {
	f     float64
	i     int64
	isInt bool // i holds the bound exactly
}

// draft04URI is the $schema of a plain draft-04 schema.
const draft04URI = "http://json-schema.org/draft-04/schema#"

// compileFastCheck builds the fastCheck of a decoded schema document, or returns nil when
// the document uses anything fastCheck does not implement.
func compileFastCheck(doc any) *fastCheck {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	if s, ok := m["$schema"]; ok && s != MetaSchemaURI && s != draft04URI {
		return nil
	}
	return compileFastNode(m)
}

func compileFastNode(m map[string]any) *fastCheck {
	c := &fastCheck{minLen: -1, maxLen: -1, minItems: -1, maxItems: -1}
	for k, v := range m {
		var ok bool
		switch k {
		case "$schema", "self", "description", "title", "default", "id", "definitions", "$comment", "examples":
			ok = true // annotations; without $ref, definitions are never used
		case "type":
			c.types, ok = fastTypes(v)
		case "properties":
			var props map[string]any
			if props, ok = v.(map[string]any); ok {
				c.props = make(map[string]*fastCheck, len(props))
				for name, p := range props {
					pm, isMap := p.(map[string]any)
					if !isMap {
						return nil
					}
					if c.props[name] = compileFastNode(pm); c.props[name] == nil {
						return nil
					}
				}
			}
		case "required":
			var list []any
			if list, ok = v.([]any); ok {
				for _, x := range list {
					s, isStr := x.(string)
					if !isStr {
						return nil
					}
					c.required = append(c.required, s)
				}
			}
		case "additionalProperties":
			switch a := v.(type) {
			case bool:
				c.noExtra, ok = !a, true
			case map[string]any:
				c.extra = compileFastNode(a)
				ok = c.extra != nil
			}
		case "minLength":
			c.minLen, ok = fastCount(v)
		case "maxLength":
			c.maxLen, ok = fastCount(v)
		case "minItems":
			c.minItems, ok = fastCount(v)
		case "maxItems":
			c.maxItems, ok = fastCount(v)
		case "pattern":
			var p string
			if p, ok = v.(string); ok {
				re, err := regexp.Compile(p)
				c.pattern, ok = re, err == nil
			}
		case "format":
			var f string
			if f, ok = v.(string); ok {
				c.format = jsonschema.Formats[f] // unknown formats assert nothing, as in the validator
			}
		case "minimum":
			c.min, ok = fastBound(v)
		case "maximum":
			c.max, ok = fastBound(v)
		case "exclusiveMinimum":
			c.exclMin, ok = v.(bool)
		case "exclusiveMaximum":
			c.exclMax, ok = v.(bool)
		case "enum":
			var list []any
			if list, ok = v.([]any); ok {
				for _, x := range list {
					switch x.(type) {
					case string, bool, nil:
					default:
						return nil
					}
				}
				c.enum = list
			}
		case "items":
			var im map[string]any
			if im, ok = v.(map[string]any); ok {
				c.items = compileFastNode(im)
				ok = c.items != nil
			}
		default:
			// Every other keyword the validator knows (or might, in another draft) is
			// left to it; anything else is an annotation it ignores.
			ok = !strings.HasPrefix(k, "$") && !validatorKeywords[k]
		}
		if !ok {
			return nil
		}
	}
	return c
}

// validatorKeywords are the keywords of any JSON Schema draft that fastCheck does not
// implement.
var validatorKeywords = map[string]bool{
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "patternProperties": true,
	"minProperties": true, "maxProperties": true, "dependencies": true, "additionalItems": true,
	"uniqueItems": true, "multipleOf": true, "const": true, "contains": true, "propertyNames": true,
	"if": true, "then": true, "else": true, "prefixItems": true, "unevaluatedProperties": true,
	"unevaluatedItems": true, "dependentRequired": true, "dependentSchemas": true,
	"minContains": true, "maxContains": true, "contentEncoding": true, "contentMediaType": true,
	"contentSchema": true, "strictInteger": true,
}

func fastTypes(v any) (uint8, bool) {
	var names []any
	switch t := v.(type) {
	case string:
		names = []any{t}
	case []any:
		names = t
	default:
		return 0, false
	}
	var bits uint8
	for _, n := range names {
		switch n {
		case "null":
			bits |= typeNull
		case "boolean":
			bits |= typeBoolean
		case "integer":
			bits |= typeInteger
		case "number":
			bits |= typeNumber | typeInteger
		case "string":
			bits |= typeString
		case "array":
			bits |= typeArray
		case "object":
			bits |= typeObject
		default:
			return 0, false
		}
	}
	return bits, bits != 0
}

func fastCount(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(n))
	return i, err == nil && i >= 0
}

func fastBound(v any) (*bound, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	b := &bound{}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, false
	}
	b.f = f
	if isIntegerLiteral(string(n)) {
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			b.i, b.isInt = i, true
		}
	}
	return b, true
}

// cmpBound compares the number literal n with b: -1, 0 or 1, and false when it cannot
// tell exactly (then the caller answers "unsure").
func cmpBound(n string, b *bound) (int, bool) {
	if b.isInt && isIntegerLiteral(n) && len(n) <= 18 {
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return 0, false
		}
		switch {
		case i < b.i:
			return -1, true
		case i > b.i:
			return 1, true
		}
		return 0, true
	}
	// Rounding to the nearest float64 is monotonic: a strict inequality between the
	// rounded values holds between the exact ones. Equal roundings are left undecided.
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return 0, false
	}
	switch {
	case f < b.f:
		return -1, true
	case f > b.f:
		return 1, true
	}
	return 0, false
}

// valid reports whether v is certainly valid; false means invalid or unsure.
func (c *fastCheck) valid(v any) bool {
	switch x := v.(type) {
	case nil:
		return c.allows(typeNull) && c.inEnum(v)
	case bool:
		return c.allows(typeBoolean) && c.inEnum(v)
	case string:
		if !c.allows(typeString) || !c.inEnum(v) {
			return false
		}
		if c.minLen >= 0 || c.maxLen >= 0 {
			n := utf8.RuneCountInString(x)
			if (c.minLen >= 0 && n < c.minLen) || (c.maxLen >= 0 && n > c.maxLen) {
				return false
			}
		}
		if c.pattern != nil && !c.pattern.MatchString(x) {
			return false
		}
		return c.format == nil || c.format(x)
	case json.Number:
		bit := typeNumber
		if isIntegerLiteral(string(x)) {
			bit = typeInteger
		}
		if !c.allows(bit) || c.enum != nil {
			return false
		}
		if c.min != nil {
			r, ok := cmpBound(string(x), c.min)
			if !ok || r < 0 || (r == 0 && c.exclMin) {
				return false
			}
		}
		if c.max != nil {
			r, ok := cmpBound(string(x), c.max)
			if !ok || r > 0 || (r == 0 && c.exclMax) {
				return false
			}
		}
		return c.format == nil || c.format(x)
	case []any:
		if !c.allows(typeArray) || c.enum != nil {
			return false
		}
		if (c.minItems >= 0 && len(x) < c.minItems) || (c.maxItems >= 0 && len(x) > c.maxItems) {
			return false
		}
		if c.items != nil {
			for _, e := range x {
				if !c.items.valid(e) {
					return false
				}
			}
		}
		return c.format == nil || c.format(x)
	case map[string]any:
		if !c.allows(typeObject) || c.enum != nil {
			return false
		}
		for _, r := range c.required {
			if _, ok := x[r]; !ok {
				return false
			}
		}
		for k, e := range x {
			if p, ok := c.props[k]; ok {
				if !p.valid(e) {
					return false
				}
				continue
			}
			if c.noExtra || (c.extra != nil && !c.extra.valid(e)) {
				return false
			}
		}
		return c.format == nil || c.format(x)
	}
	return false
}

func (c *fastCheck) allows(bit uint8) bool { return c.types == 0 || c.types&bit != 0 }

// inEnum reports whether v (a string, boolean or null) is in the enum, if there is one.
func (c *fastCheck) inEnum(v any) bool {
	if c.enum == nil {
		return true
	}
	for _, e := range c.enum {
		if e == v {
			return true
		}
	}
	return false
}
