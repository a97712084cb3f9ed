package iglu

import (
	"encoding/json"
	"math/bits"
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
	minLen, maxLen int               // -1: none
	pattern        func(string) bool // matches "pattern"
	format         func(any) bool
	formatString   func(string) bool // format on a string, when stringFormats has it

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
				c.pattern, ok = re.MatchString, err == nil
				if m := knownPatterns[p]; m != nil && ok {
					c.pattern = m
				}
			}
		case "format":
			var f string
			if f, ok = v.(string); ok {
				c.format = jsonschema.Formats[f] // unknown formats assert nothing, as in the validator
				if c.format != nil {
					c.formatString = stringFormats[f]
				}
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

// knownPatterns match as regexp would the patterns of the contexts trackers send with
// every event, several times faster (TestKnownPatterns and FuzzKnownPatterns hold them
// to regexp).
var knownPatterns = map[string]func(string) bool{
	// client_session's userId.
	`^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$|^[0-9a-f]{16}$`: func(s string) bool {
		return len(s) == 16 && lowerHex(s) ||
			len(s) == 36 && s[8] == '-' && s[13] == '-' && s[18] == '-' && s[23] == '-' &&
				lowerHex(s[:8]) && lowerHex(s[9:13]) && lowerHex(s[14:18]) && lowerHex(s[19:23]) && lowerHex(s[24:])
	},
}

// stringFormats check as jsonschema.Formats would the string formats of the contexts
// trackers send with every event, without boxing the string into an interface (an
// allocation per call). TestStringFormats and FuzzStringFormats hold them to
// jsonschema.Formats.
var stringFormats = map[string]func(string) bool{
	// web_page's id, browser_context's tabId, client_session's ids: 8-4-4-4-12 hex
	// digits of either case.
	"uuid": func(s string) bool {
		if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		for i := 0; i < len(s); i++ {
			switch i {
			case 8, 13, 18, 23:
				continue
			}
			if c := s[i]; !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
				return false
			}
		}
		return true
	},
	// client_session's firstEventTimestamp, as Date.toISOString gives it
	// (2026-12-06T04:11:32.736Z); other shapes go to jsonschema's check.
	"date-time": func(s string) bool {
		if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
			return jsonschema.Formats["date-time"](s)
		}
		year, ok1 := decimal(s[0:4])
		month, ok2 := decimal(s[5:7])
		day, ok3 := decimal(s[8:10])
		hour, ok4 := decimal(s[11:13])
		minute, ok5 := decimal(s[14:16])
		sec, ok6 := decimal(s[17:19])
		_, ok7 := decimal(s[20:23])
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || sec > 59 {
			return jsonschema.Formats["date-time"](s) // a leap second is checked there
		}
		return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year) && hour <= 23 && minute <= 59
	},
}

// decimal reads s, ASCII digits only.
func decimal(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn is the number of days of month in year (proleptic Gregorian, as time.Parse).
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
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
		return c.validString(x)
	case json.Number:
		return c.validNumber(x)
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

// validString is valid of a string.
func (c *fastCheck) validString(x string) bool {
	if !c.allows(typeString) {
		return false
	}
	if c.enum != nil && !c.inEnum(x) {
		return false
	}
	if c.minLen >= 0 || c.maxLen >= 0 {
		n := utf8.RuneCountInString(x)
		if (c.minLen >= 0 && n < c.minLen) || (c.maxLen >= 0 && n > c.maxLen) {
			return false
		}
	}
	if c.pattern != nil && !c.pattern(x) {
		return false
	}
	if c.formatString != nil {
		return c.formatString(x)
	}
	return c.format == nil || c.format(x)
}

// validNumber is valid of a number.
func (c *fastCheck) validNumber(x json.Number) bool {
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

// validText is valid on the JSON text s itself, for an instance that was never decoded:
// it reports whether the value at s[i:] (after any whitespace) is certainly valid, and
// the index after it. s must be valid JSON (valid UTF-8): on anything else the answer
// means nothing, though it never panics. It is unsure (false) wherever reading the text
// would take more than slicing it: a string with an escape sequence, a format on an
// object or array. A repeated key is checked with every value it has, so the value a
// decoder keeps (the last) is checked too.
func (c *fastCheck) validText(s string, i int) (int, bool) {
	i = skipJSONSpace(s, i)
	if i >= len(s) {
		return i, false
	}
	switch ch := s[i]; {
	case ch == '"':
		j := quoteOrBackslash(s, i+1)
		if j >= len(s) || s[j] != '"' {
			return j, false
		}
		return j + 1, c.validString(s[i+1 : j])
	case ch == '-' || ch >= '0' && ch <= '9':
		j := i + 1
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || s[j] == '+' || s[j] == '-') {
			j++
		}
		return j, c.validNumber(json.Number(s[i:j]))
	case ch == 't':
		return i + 4, strings.HasPrefix(s[i:], "true") && c.valid(true)
	case ch == 'f':
		return i + 5, strings.HasPrefix(s[i:], "false") && c.valid(false)
	case ch == 'n':
		return i + 4, strings.HasPrefix(s[i:], "null") && c.valid(nil)
	case ch == '[':
		if !c.allows(typeArray) || c.enum != nil || c.format != nil {
			return i, false
		}
		n := 0
		i = skipJSONSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, c.minItems <= 0
		}
		for {
			var ok bool
			if c.items != nil {
				i, ok = c.items.validText(s, i)
			} else {
				i, ok = skipJSONValue(s, i)
			}
			if !ok {
				return i, false
			}
			n++
			i = skipJSONSpace(s, i)
			if i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i++
				continue
			case ']':
				return i + 1, (c.minItems < 0 || n >= c.minItems) && (c.maxItems < 0 || n <= c.maxItems)
			}
			return i, false
		}
	case ch == '{':
		if !c.allows(typeObject) || c.enum != nil || c.format != nil || len(c.required) > 64 {
			return i, false
		}
		var seen uint64 // required members present, by index in c.required
		i = skipJSONSpace(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1, len(c.required) == 0
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return i, false
			}
			j := quoteOrBackslash(s, i+1)
			if j >= len(s) || s[j] != '"' {
				return j, false
			}
			key := s[i+1 : j]
			for r, name := range c.required {
				if name == key {
					seen |= 1 << r
				}
			}
			i = skipJSONSpace(s, j+1)
			if i >= len(s) || s[i] != ':' {
				return i, false
			}
			var ok bool
			switch p, known := c.props[key]; {
			case known:
				i, ok = p.validText(s, i+1)
			case c.noExtra:
				return i, false
			case c.extra != nil:
				i, ok = c.extra.validText(s, i+1)
			default:
				i, ok = skipJSONValue(s, i+1)
			}
			if !ok {
				return i, false
			}
			i = skipJSONSpace(s, i)
			if i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i = skipJSONSpace(s, i+1)
				continue
			case '}':
				return i + 1, seen == 1<<len(c.required)-1
			}
			return i, false
		}
	}
	return i, false
}

// quoteOrBackslash returns the index of the first quote or backslash at or after i (or
// len(s)), the end of a string without escapes: eight bytes at a time, as most strings
// of an instance are UUIDs, URLs and other texts longer than a few bytes.
func quoteOrBackslash(s string, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ (ones * '"')
		b := x ^ (ones * '\\')
		// A zero byte of q or b borrows its high bit; a borrow can flag a byte wrongly
		// only above a rightly flagged one, so the lowest flag is right.
		if m := ((q-ones)&^q | (b-ones)&^b) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			return i
		}
	}
	return i
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// skipJSONValue returns the index after the value at s[i:] (after any whitespace) of
// the valid JSON s, and false when s ends first.
func skipJSONValue(s string, i int) (int, bool) {
	i = skipJSONSpace(s, i)
	if i >= len(s) {
		return i, false
	}
	switch s[i] {
	case '"':
		return skipJSONString(s, i)
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				j, ok := skipJSONString(s, i)
				if !ok {
					return j, false
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1, true
				}
			}
		}
		return i, false
	}
	j := i // a number or a literal
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n' {
		j++
	}
	return j, j > i
}

// skipJSONString returns the index after the string whose quote is at s[i].
func skipJSONString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(s), false
}
