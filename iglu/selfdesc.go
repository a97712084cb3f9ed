package iglu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxJSONDepth is the nesting limit enrich applies to tracker JSON before
// validation (Snowplow's validation.maxJsonDepth).
const DefaultMaxJSONDepth = 50

var (
	// ErrNotJSON is wrapped by errors for input that is not one well-formed JSON value.
	ErrNotJSON = errors.New("not valid JSON")
	// ErrJSONTooDeep is wrapped by errors for JSON nested deeper than the limit.
	ErrJSONTooDeep = errors.New("maximum allowed JSON depth exceeded")
)

// SelfDescribing is a self-describing JSON {"schema":"iglu:…","data":…} whose data is
// still undecoded.
type SelfDescribing struct {
	Schema SchemaKey
	Data   json.RawMessage
}

// ParseSelfDescribing reads a self-describing JSON. Input that is not JSON wraps
// ErrNotJSON; JSON that is not an object with a string "schema" and a "data" member
// (null counts) is a *ParseError INVALID_DATA_PAYLOAD; a schema that is not an Iglu URI
// is a *ParseError INVALID_IGLUURI or INVALID_SCHEMAVER. Other members are ignored, as
// Snowplow does. Data aliases data.
func ParseSelfDescribing(data []byte) (SelfDescribing, error) {
	if !json.Valid(data) {
		return SelfDescribing{}, fmt.Errorf("reading self-describing JSON: %w", ErrNotJSON)
	}
	// A map, not a struct: encoding/json matches struct fields case-insensitively and
	// Snowplow does not.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || raw == nil {
		// Valid JSON that is not an object.
		return SelfDescribing{}, &ParseError{Code: CodeInvalidDataPayload}
	}
	schema := raw["schema"]
	var uri string
	if len(schema) == 0 || schema[0] != '"' || json.Unmarshal(schema, &uri) != nil {
		return SelfDescribing{}, &ParseError{Code: CodeInvalidDataPayload}
	}
	key, err := ParseSchemaKey(uri)
	if err != nil {
		return SelfDescribing{}, err
	}
	d, ok := raw["data"]
	if !ok {
		return SelfDescribing{}, &ParseError{Code: CodeInvalidDataPayload, Input: uri}
	}
	return SelfDescribing{Schema: key, Data: d}, nil
}

// ParseSelfDescribingValue is ParseSelfDescribing for a value already decoded (by
// DecodeJSON or encoding/json): v must be a map with a string "schema" and a "data"
// member. It returns the key and the data value without copying.
func ParseSelfDescribingValue(v any) (SchemaKey, any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return SchemaKey{}, nil, &ParseError{Code: CodeInvalidDataPayload}
	}
	uri, ok := m["schema"].(string)
	if !ok {
		return SchemaKey{}, nil, &ParseError{Code: CodeInvalidDataPayload}
	}
	key, err := ParseSchemaKey(uri)
	if err != nil {
		return SchemaKey{}, nil, err
	}
	data, ok := m["data"]
	if !ok {
		return SchemaKey{}, nil, &ParseError{Code: CodeInvalidDataPayload, Input: uri}
	}
	return key, data, nil
}

// JSONDepth returns the deepest nesting of arrays and objects in a JSON text: 0 for a
// scalar, 1 for {} or [1], 2 for {"a":[]}. It does not validate the text; on malformed
// input the result is meaningless but the call is safe.
func JSONDepth(data []byte) int {
	depth, maxDepth := 0, 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > maxDepth {
				maxDepth = depth
			}
		case '}', ']':
			depth--
		}
	}
	return maxDepth
}

// CheckJSONDepth returns an error wrapping ErrJSONTooDeep if data nests deeper than max.
func CheckJSONDepth(data []byte, max int) error {
	if d := JSONDepth(data); d > max {
		return fmt.Errorf("JSON depth %d over the limit of %d: %w", d, max, ErrJSONTooDeep)
	}
	return nil
}

// DecodeJSON checks the nesting limit (maxDepth ≤ 0 means DefaultMaxJSONDepth) and
// decodes exactly one JSON value the way Validate expects instances: objects as
// map[string]any, arrays as []any, numbers as json.Number (so 1 and 1.0 stay different),
// strings, bools and nil. Errors wrap ErrJSONTooDeep or ErrNotJSON.
func DecodeJSON(data []byte, maxDepth int) (any, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxJSONDepth
	}
	if err := CheckJSONDepth(data, maxDepth); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the first JSON value", ErrNotJSON)
	}
	return v, nil
}
