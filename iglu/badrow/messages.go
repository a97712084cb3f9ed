package badrow

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Message is one failure message of a bad row: one of the message types of this package.
// Which types a bad row accepts is said on its failure's Messages field.
type Message interface {
	json.Marshaler
	appendJSON(dst []byte) ([]byte, error)
}

// Str returns a pointer to s, for the optional string fields of messages.
func Str(s string) *string { return &s }

func appendOptString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return event.AppendJSONString(dst, *s)
}

// appendRawJSON appends the compacted JSON v, or null when v is empty.
func appendRawJSON(dst []byte, v []byte) ([]byte, error) {
	if len(v) == 0 {
		return append(dst, "null"...), nil
	}
	if isCompact(v) && json.Valid(v) {
		return append(dst, v...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, v); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

// isCompact reports whether v has no whitespace outside strings.
func isCompact(v []byte) bool {
	inStr, esc := false, false
	for _, c := range v {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case !inStr && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			return false
		}
	}
	return true
}

// appendMarshaler appends the compact JSON of m (null when m is nil).
func appendMarshaler(dst []byte, m json.Marshaler) ([]byte, error) {
	if m == nil {
		return append(dst, "null"...), nil
	}
	b, err := m.MarshalJSON()
	if err != nil {
		return dst, err
	}
	return appendRawJSON(dst, b)
}

func marshalMessage(m Message) ([]byte, error) { return m.appendJSON(nil) }

// InputData is a field whose value did not meet an expectation (adapter_failures,
// tracker_protocol_violations, and enrichment_failures messages):
// {"field","value","expectation"}.
type InputData struct {
	Field       string
	Value       *string // nil is null
	Expectation string
}

func (m InputData) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m InputData) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"field":`...)
	dst = event.AppendJSONString(dst, m.Field)
	dst = append(dst, `,"value":`...)
	dst = appendOptString(dst, m.Value)
	dst = append(dst, `,"expectation":`...)
	dst = event.AppendJSONString(dst, m.Expectation)
	return append(dst, '}'), nil
}

// NotJSON is a field that should hold JSON but does not: {"field","value","error"}.
type NotJSON struct {
	Field string
	Value *string // nil is null
	Error string
}

func (m NotJSON) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m NotJSON) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"field":`...)
	dst = event.AppendJSONString(dst, m.Field)
	dst = append(dst, `,"value":`...)
	dst = appendOptString(dst, m.Value)
	dst = append(dst, `,"error":`...)
	dst = event.AppendJSONString(dst, m.Error)
	return append(dst, '}'), nil
}

// NotIglu errors, the values of NotIglu.Error.
const (
	InvalidSchemaVer   = "INVALID_SCHEMAVER"
	InvalidIgluURI     = "INVALID_IGLUURI"
	InvalidDataPayload = "INVALID_DATA_PAYLOAD"
	InvalidSchema      = "INVALID_SCHEMA"
)

// NotIglu is JSON that is not self-describing: {"json","error"}; Error is one of
// InvalidSchemaVer, InvalidIgluURI, InvalidDataPayload, InvalidSchema.
type NotIglu struct {
	JSON  json.RawMessage
	Error string
}

func (m NotIglu) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m NotIglu) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"json":`...)
	dst, err := appendRawJSON(dst, m.JSON)
	if err != nil {
		return dst, fmt.Errorf("not-iglu message json: %w", err)
	}
	dst = append(dst, `,"error":`...)
	dst = event.AppendJSONString(dst, m.Error)
	return append(dst, '}'), nil
}

// CriterionMismatch is a schema that does not match the expected criterion:
// {"schemaKey","schemaCriterion"}, e.g. "iglu:com.acme/x/jsonschema/1-0-0" and
// "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-*-*".
type CriterionMismatch struct {
	SchemaKey       string
	SchemaCriterion string
}

func (m CriterionMismatch) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m CriterionMismatch) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"schemaKey":`...)
	dst = event.AppendJSONString(dst, m.SchemaKey)
	dst = append(dst, `,"schemaCriterion":`...)
	dst = event.AppendJSONString(dst, m.SchemaCriterion)
	return append(dst, '}'), nil
}

// IgluError is a schema that could not be resolved or data that is invalid against it:
// {"schemaKey","error"}. Error is the Iglu client error (the iglu package's ClientError, or
// its JSON as a json.RawMessage).
type IgluError struct {
	SchemaKey string
	Error     json.Marshaler
}

func (m IgluError) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m IgluError) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"schemaKey":`...)
	dst = event.AppendJSONString(dst, m.SchemaKey)
	dst = append(dst, `,"error":`...)
	dst, err := appendMarshaler(dst, m.Error)
	if err != nil {
		return dst, fmt.Errorf("iglu error of %s: %w", m.SchemaKey, err)
	}
	return append(dst, '}'), nil
}

// MappingEntry is one entry of SchemaMapping.ExpectedMapping: an adapter event type and the
// schema key it maps to.
type MappingEntry struct {
	EventType string
	SchemaKey string
}

// SchemaMapping is a webhook event type with no schema (adapter_failures):
// {"actual","expectedMapping":{type: schema,…},"expectation"}.
type SchemaMapping struct {
	Actual          *string // nil is null
	ExpectedMapping []MappingEntry
	Expectation     string
}

func (m SchemaMapping) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m SchemaMapping) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"actual":`...)
	dst = appendOptString(dst, m.Actual)
	dst = append(dst, `,"expectedMapping":{`...)
	for i, e := range m.ExpectedMapping {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = event.AppendJSONString(dst, e.EventType)
		dst = append(dst, ':')
		dst = event.AppendJSONString(dst, e.SchemaKey)
	}
	dst = append(dst, `},"expectation":`...)
	dst = event.AppendJSONString(dst, m.Expectation)
	return append(dst, '}'), nil
}

// EnrichmentError is an enrichment failing for a reason outside its input, e.g. a lookup
// error: {"error"} (the badrows library's "Simple" enrichment message).
type EnrichmentError struct {
	Error string
}

func (m EnrichmentError) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m EnrichmentError) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"error":`...)
	dst = event.AppendJSONString(dst, m.Error)
	return append(dst, '}'), nil
}

// CPFormatInputData is a collector payload field that did not meet an expectation
// (collector_payload_format_violation): {"payloadField","value","expectation"}.
type CPFormatInputData struct {
	PayloadField string
	Value        *string // nil is null
	Expectation  string
}

func (m CPFormatInputData) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m CPFormatInputData) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"payloadField":`...)
	dst = event.AppendJSONString(dst, m.PayloadField)
	dst = append(dst, `,"value":`...)
	dst = appendOptString(dst, m.Value)
	dst = append(dst, `,"expectation":`...)
	dst = event.AppendJSONString(dst, m.Expectation)
	return append(dst, '}'), nil
}

// CPFormatError is a collector payload that could not be read at all, e.g. undecodable
// Thrift (collector_payload_format_violation): {"error"}.
type CPFormatError struct {
	Error string
}

func (m CPFormatError) MarshalJSON() ([]byte, error) { return marshalMessage(m) }
func (m CPFormatError) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"error":`...)
	dst = event.AppendJSONString(dst, m.Error)
	return append(dst, '}'), nil
}

func appendMessages(dst []byte, ms []Message) ([]byte, error) {
	dst = append(dst, '[')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		if m == nil {
			return dst, fmt.Errorf("message %d is nil", i)
		}
		var err error
		if dst, err = m.appendJSON(dst); err != nil {
			return dst, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return append(dst, ']'), nil
}
