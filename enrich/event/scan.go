package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// A small validating JSON scanner for the three JSON columns: it finds the schema and the
// data of self-describing JSONs in one pass, checking the syntax as encoding/json's Valid
// does (without building values), so the hot paths need neither json.Valid nor decoding.

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

var errSyntax = errors.New("invalid JSON")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanValue returns the index just after the JSON value starting at b[i] (no leading
// space), or -1 when it is not valid.
func scanValue(b []byte, i, depth int) int {
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		if depth >= maxDepth {
			return -1
		}
		return scanObject(b, i, depth+1, nil)
	case c == '[':
		if depth >= maxDepth {
			return -1
		}
		return scanArray(b, i, depth+1, nil)
	case c == '-' || c >= '0' && c <= '9':
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return -1
}

func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

func scanNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return -1
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return -1
		}
	}
	return i
}

// scanString returns the index just after the string literal starting at b[i], or -1.
func scanString(b []byte, i int) int {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					return -1
				}
				for _, h := range b[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
	return -1
}

// scanObject scans the object starting at b[i], calling member (when not nil) with the raw
// key literal and the value span of every member; member returning false stops the scan with
// -1. It returns the index just after the object, or -1.
func scanObject(b []byte, i, depth int, member func(key []byte, vs, ve int) bool) int {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1
		}
		ks := i
		if i = scanString(b, i); i < 0 {
			return -1
		}
		ke := i
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return -1
		}
		vs := skipSpace(b, i+1)
		ve := scanValue(b, vs, depth)
		if ve < 0 {
			return -1
		}
		if member != nil && !member(b[ks:ke], vs, ve) {
			return -1
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// scanArray scans the array starting at b[i], calling element (when not nil) with the start
// of every element; element returns the element's end, or -1 to stop the scan. Without
// element, elements are scanned as any value. It returns the index just after the array, or
// -1.
func scanArray(b []byte, i, depth int, element func(vs int) int) int {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		var ve int
		if element != nil {
			ve = element(i)
		} else {
			ve = scanValue(b, i, depth)
		}
		if ve < 0 {
			return -1
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1
		default:
			return -1
		}
	}
}

// keyIs reports whether the raw key literal k is "name" (keys with escapes are decoded).
func keyIs(k []byte, name string) bool {
	if len(k) == len(name)+2 && string(k[1:len(k)-1]) == name {
		return true
	}
	for _, c := range k {
		if c == '\\' {
			s, ok := jsonStringValue(k)
			return ok && s == name
		}
	}
	return false
}

// jsonStringValue decodes a valid JSON string literal.
func jsonStringValue(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", false
	}
	inner := b[1 : len(b)-1]
	escaped := false
	for _, c := range inner {
		if c == '\\' {
			escaped = true
			break
		}
	}
	if !escaped {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", false
	}
	return s, true
}

// sdjScan is the result of scanning one self-describing JSON.
type sdjScan struct {
	schema string // aliases the input when alias was set and the literal has no escapes
	data   []byte
	key    iglu.SchemaKey
}

// scanSDJ scans the self-describing JSON starting at b[i] (no leading space). With alias, the
// schema string may share memory with b, which the caller guarantees is never modified.
func scanSDJ(b []byte, i int, alias bool) (sdjScan, int, error) {
	var r sdjScan
	if i >= len(b) || b[i] != '{' {
		return r, -1, fmt.Errorf("%w: expected an object", ErrNotSelfDescribing)
	}
	var haveSchema, haveData, badSchema bool
	end := scanObject(b, i, 1, func(k []byte, vs, ve int) bool {
		switch {
		case keyIs(k, "schema"):
			if b[vs] != '"' {
				badSchema = true
				return false
			}
			lit := b[vs:ve]
			plain := true
			for _, c := range lit[1 : len(lit)-1] {
				if c == '\\' {
					plain = false
					break
				}
			}
			if plain && alias {
				r.schema = unsafe.String(&lit[1], len(lit)-2)
			} else if plain {
				r.schema = string(lit[1 : len(lit)-1])
			} else {
				r.schema, _ = jsonStringValue(lit)
			}
			haveSchema = true
		case keyIs(k, "data"):
			r.data = b[vs:ve]
			haveData = true
		}
		return true
	})
	switch {
	case badSchema:
		return r, -1, fmt.Errorf("%w: schema is not a string", ErrNotSelfDescribing)
	case end < 0:
		return r, -1, fmt.Errorf("%w: %w", ErrNotSelfDescribing, errSyntax)
	case !haveSchema:
		return r, -1, fmt.Errorf("%w: no schema", ErrNotSelfDescribing)
	case !haveData:
		return r, -1, fmt.Errorf("%w: no data", ErrNotSelfDescribing)
	}
	key, err := iglu.ParseSchemaKey(r.schema)
	if err != nil {
		return r, -1, fmt.Errorf("%w: schema %q is not an Iglu URI", ErrNotSelfDescribing, r.schema)
	}
	r.key = key
	return r, end, nil
}

// scanWhole scans a whole input holding one self-describing JSON.
func scanWhole(b []byte, alias bool) (sdjScan, error) {
	r, end, err := scanSDJ(b, skipSpace(b, 0), alias)
	if err != nil {
		return r, err
	}
	if skipSpace(b, end) != len(b) {
		return r, fmt.Errorf("%w: %w: data after the object", ErrNotSelfDescribing, errSyntax)
	}
	return r, nil
}

// scanContexts scans a contexts column, calling fn with every entity.
func scanContexts(b []byte, alias bool, fn func(sdjScan)) error {
	env, err := scanWhole(b, alias)
	if err != nil {
		return err
	}
	d := env.data
	if d[0] != '[' {
		return fmt.Errorf("%w: contexts data is not an array", ErrNotSelfDescribing)
	}
	var ierr error
	end := scanArray(d, 0, 1, func(vs int) int {
		ent, end, err := scanSDJ(d, vs, alias)
		if err != nil {
			ierr = fmt.Errorf("contexts entity: %w", err)
			return -1
		}
		if fn != nil {
			fn(ent)
		}
		return end
	})
	if end < 0 && ierr == nil {
		ierr = fmt.Errorf("%w: %w", ErrNotSelfDescribing, errSyntax)
	}
	return ierr
}

// scanUnstruct scans an unstruct_event column and returns the event inside the envelope.
func scanUnstruct(b []byte, alias bool) (sdjScan, error) {
	env, err := scanWhole(b, alias)
	if err != nil {
		return env, err
	}
	ue, _, err := scanSDJ(env.data, 0, alias)
	if err != nil {
		return ue, fmt.Errorf("unstruct_event data: %w", err)
	}
	return ue, nil
}

// bytesOf returns the bytes of s without copying. The result must only be read.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
