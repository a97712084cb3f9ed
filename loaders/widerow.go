package loaders

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// The wide-row layout (Snowflake and Databricks loaders) gives each self-describing type one
// column: contexts_<vendor>_<name>_<model> holds a JSON array of the data objects of every
// entity of that type in contexts and derived_contexts (the two share the column, contexts
// first), unstruct_event_<vendor>_<name>_<model> holds the event's data object.
//
// This file extracts those column values from the enriched event's JSON columns without
// decoding them: a single validating scan finds the byte span of each entity's data value,
// and the column value is those spans joined. The sink computes it for every event, so it
// has to be cheap.

// Column-name prefixes of the wide-row layout.
const (
	contextsPrefix      = "contexts"
	unstructEventPrefix = "unstruct_event"
)

// maxJSONDepth bounds nesting in the scanner (enrich itself rejects JSON deeper than 50).
const maxJSONDepth = 1000

// wideColumn is the value of one wide-row column of one event.
type wideColumn struct {
	name  string // e.g. contexts_com_snowplowanalytics_snowplow_web_page_1
	value string // JSON array (contexts) or object/value (unstruct_event)
}

// errNotSelfDescribing reports a JSON column that is valid JSON but not the expected
// self-describing envelope.
var errNotSelfDescribing = errors.New("not a self-describing JSON")

// wideColumns returns the wide-row columns of an event given the texts of its contexts,
// unstruct_event and derived_contexts fields ("" = null), in order of first appearance. An
// error names the field that is not a valid envelope.
func wideColumns(contexts, unstruct, derived string) ([]wideColumn, error) {
	var b wideBuilder
	if contexts != "" {
		if err := b.addContexts(contexts); err != nil {
			return nil, &fieldError{field: "contexts", err: err}
		}
	}
	if derived != "" {
		if err := b.addContexts(derived); err != nil {
			return nil, &fieldError{field: "derived_contexts", err: err}
		}
	}
	if unstruct != "" {
		if err := b.addUnstruct(unstruct); err != nil {
			return nil, &fieldError{field: "unstruct_event", err: err}
		}
	}
	return b.columns(), nil
}

// fieldError is a JSON column that could not be read.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// wideBuilder accumulates the entity data spans per column.
type wideBuilder struct {
	names []string
	parts [][]string // per column, the data spans
	// unstruct marks columns holding a single value rather than an array.
	unstruct []bool
}

func (b *wideBuilder) add(name, data string, single bool) {
	for i, n := range b.names {
		if n == name {
			b.parts[i] = append(b.parts[i], data)
			return
		}
	}
	b.names = append(b.names, name)
	b.parts = append(b.parts, []string{data})
	b.unstruct = append(b.unstruct, single)
}

func (b *wideBuilder) columns() []wideColumn {
	if len(b.names) == 0 {
		return nil
	}
	cols := make([]wideColumn, len(b.names))
	for i, name := range b.names {
		parts := b.parts[i]
		var v string
		switch {
		case b.unstruct[i]:
			v = parts[0]
		case len(parts) == 1:
			v = "[" + parts[0] + "]"
		default:
			v = "[" + strings.Join(parts, ",") + "]"
		}
		cols[i] = wideColumn{name: name, value: v}
	}
	return cols
}

// addContexts reads {"schema":"iglu:…/contexts/…","data":[{"schema":…,"data":…},…]}.
func (b *wideBuilder) addContexts(s string) error {
	_, data, err := scanSelfDescribing(s)
	if err != nil {
		return err
	}
	if data == "" || data[0] != '[' {
		return fmt.Errorf("%w: data of a contexts envelope must be an array", errNotSelfDescribing)
	}
	// Walk the array elements; scanSelfDescribing already validated the whole text.
	i := skipSpace(data, 1)
	if i < len(data) && data[i] == ']' {
		return nil
	}
	for i < len(data) {
		end, err := skipValue(data, i, 0)
		if err != nil {
			return err
		}
		schema, entity, err := scanSelfDescribing(data[i:end])
		if err != nil {
			return fmt.Errorf("entity: %w", err)
		}
		name, err := wideColumnName(contextsPrefix, schema)
		if err != nil {
			return err
		}
		b.add(name, entity, false)
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		break
	}
	return nil
}

// addUnstruct reads {"schema":"iglu:…/unstruct_event/…","data":{"schema":…,"data":…}}.
func (b *wideBuilder) addUnstruct(s string) error {
	_, data, err := scanSelfDescribing(s)
	if err != nil {
		return err
	}
	schema, event, err := scanSelfDescribing(data)
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	name, err := wideColumnName(unstructEventPrefix, schema)
	if err != nil {
		return err
	}
	b.add(name, event, true)
	return nil
}

// scanSelfDescribing validates s as one JSON object with a string "schema" and a "data"
// member (other members are ignored, as Iglu clients do) and returns the schema and the raw
// text of the data value.
func scanSelfDescribing(s string) (schema, data string, err error) {
	i := skipSpace(s, 0)
	if i >= len(s) || s[i] != '{' {
		if _, verr := skipValue(s, i, 0); verr != nil {
			return "", "", verr
		}
		return "", "", fmt.Errorf("%w: not an object", errNotSelfDescribing)
	}
	var haveSchema, haveData bool
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		i++
	} else {
		for {
			if i >= len(s) || s[i] != '"' {
				return "", "", syntaxError(s, i, "expected object key")
			}
			kend, err := skipString(s, i)
			if err != nil {
				return "", "", err
			}
			key := s[i+1 : kend-1]
			i = skipSpace(s, kend)
			if i >= len(s) || s[i] != ':' {
				return "", "", syntaxError(s, i, "expected ':'")
			}
			i = skipSpace(s, i+1)
			vend, err := skipValue(s, i, 1)
			if err != nil {
				return "", "", err
			}
			switch key {
			case "schema":
				if s[i] != '"' {
					return "", "", fmt.Errorf("%w: schema is not a string", errNotSelfDescribing)
				}
				schema, err = unquote(s[i:vend])
				if err != nil {
					return "", "", err
				}
				haveSchema = true
			case "data":
				data = s[i:vend]
				haveData = true
			}
			i = skipSpace(s, vend)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			return "", "", syntaxError(s, i, "expected ',' or '}'")
		}
	}
	if i = skipSpace(s, i); i != len(s) {
		return "", "", syntaxError(s, i, "trailing data")
	}
	if !haveSchema || !haveData {
		return "", "", fmt.Errorf("%w: schema and data are required", errNotSelfDescribing)
	}
	return schema, data, nil
}

// wideColumnName returns the wide-row column of the entities of an Iglu schema:
// <prefix>_<vendor>_<name>_<model> with Snowplow's naming rule (event.ShredColumnName, the
// keys of the Analytics-SDK JSON).
func wideColumnName(prefix, uri string) (string, error) {
	rest, ok := strings.CutPrefix(uri, "iglu:")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", fmt.Errorf("%w: schema %q is not an Iglu URI", errNotSelfDescribing, uri)
	}
	vendor, name := parts[0], parts[1]
	m, _, _ := strings.Cut(parts[3], "-")
	model, err := strconv.Atoi(m)
	if err != nil || model < 0 || !validIgluPart(vendor, true) || !validIgluPart(name, false) {
		return "", fmt.Errorf("%w: schema %q is not an Iglu URI", errNotSelfDescribing, uri)
	}
	return event.ShredColumnName(prefix, vendor, name, model), nil
}

// validIgluPart reports whether s is a valid Iglu vendor (dots allowed) or name.
func validIgluPart(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && dots:
		default:
			return false
		}
	}
	return true
}

// isWideColumn reports whether a column of the events table is a wide-row column.
func isWideColumn(name string) bool {
	return strings.HasPrefix(name, contextsPrefix+"_") || strings.HasPrefix(name, unstructEventPrefix+"_")
}

// JSON scanning. These functions validate RFC 8259 syntax while skipping over values,
// returning the index just past the value.

func skipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func syntaxError(s string, i int, what string) error {
	if i >= len(s) {
		return fmt.Errorf("invalid JSON: %s at end of input", what)
	}
	return fmt.Errorf("invalid JSON: %s at offset %d", what, i)
}

func skipValue(s string, i, depth int) (int, error) {
	if depth > maxJSONDepth {
		return 0, fmt.Errorf("invalid JSON: nested deeper than %d", maxJSONDepth)
	}
	if i >= len(s) {
		return 0, syntaxError(s, i, "expected a value")
	}
	switch c := s[i]; {
	case c == '"':
		return skipString(s, i)
	case c == '{':
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return 0, syntaxError(s, i, "expected object key")
			}
			end, err := skipString(s, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(s, end)
			if i >= len(s) || s[i] != ':' {
				return 0, syntaxError(s, i, "expected ':'")
			}
			if i, err = skipValue(s, skipSpace(s, i+1), depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(s, i)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == '}' {
				return i + 1, nil
			}
			return 0, syntaxError(s, i, "expected ',' or '}'")
		}
	case c == '[':
		i = skipSpace(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(s, i, depth+1); err != nil {
				return 0, err
			}
			i = skipSpace(s, i)
			if i < len(s) && s[i] == ',' {
				i = skipSpace(s, i+1)
				continue
			}
			if i < len(s) && s[i] == ']' {
				return i + 1, nil
			}
			return 0, syntaxError(s, i, "expected ',' or ']'")
		}
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(s, i)
	case strings.HasPrefix(s[i:], "true"):
		return i + 4, nil
	case strings.HasPrefix(s[i:], "false"):
		return i + 5, nil
	case strings.HasPrefix(s[i:], "null"):
		return i + 4, nil
	default:
		return 0, syntaxError(s, i, "unexpected character")
	}
}

func skipString(s string, i int) (int, error) {
	start := i
	i++
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(s) {
				return 0, syntaxError(s, i, "unterminated escape")
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex4(s[i+2:i+6]) {
					return 0, syntaxError(s, i, "invalid \\u escape")
				}
				i += 6
			default:
				return 0, syntaxError(s, i, "invalid escape")
			}
		case c < 0x20:
			return 0, syntaxError(s, i, "control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, syntaxError(s, i, "invalid UTF-8")
			}
			i += size
		}
	}
	return 0, syntaxError(s, start, "unterminated string")
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func skipNumber(s string, i int) (int, error) {
	start := i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return 0, syntaxError(s, start, "invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, syntaxError(s, start, "invalid number")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return 0, syntaxError(s, start, "invalid number")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i, nil
}

// unquote decodes a JSON string literal that skipString accepted.
func unquote(lit string) (string, error) {
	body := lit[1 : len(lit)-1]
	if !strings.Contains(body, `\`) {
		return body, nil
	}
	var sb strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if c != '\\' {
			sb.WriteByte(c)
			i++
			continue
		}
		switch body[i+1] {
		case '"', '\\', '/':
			sb.WriteByte(body[i+1])
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'n':
			sb.WriteByte('\n')
		case 'r':
			sb.WriteByte('\r')
		case 't':
			sb.WriteByte('\t')
		case 'u':
			n, err := strconv.ParseUint(body[i+2:i+6], 16, 16)
			if err != nil {
				return "", fmt.Errorf("invalid JSON: %w", err)
			}
			r := rune(n)
			i += 6
			if r >= 0xD800 && r < 0xDC00 && i+6 <= len(body) && body[i] == '\\' && body[i+1] == 'u' {
				if lo, err := strconv.ParseUint(body[i+2:i+6], 16, 16); err == nil && lo >= 0xDC00 && lo < 0xE000 {
					r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
					i += 6
				}
			}
			sb.WriteRune(r)
			continue
		}
		i += 2
	}
	return sb.String(), nil
}
