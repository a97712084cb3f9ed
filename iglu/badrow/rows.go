package badrow

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// SizeViolation is a record too big for its stream (size_violation 1-0-0), written by the
// collector for an oversized request and by enrich and the loaders for oversized output.
type SizeViolation struct {
	Processor               Processor
	Timestamp               time.Time
	MaximumAllowedSizeBytes int
	ActualSizeBytes         int
	Expectation             string // e.g. "oversized collector payload: …"
	Payload                 string // the start of the record, see TruncatePayload
}

// TruncatePayload returns the start of payload that a size_violation keeps: maxSizeBytes/10
// bytes, cut back to a UTF-8 character boundary.
func TruncatePayload(payload string, maxSizeBytes int) string {
	n := maxSizeBytes / 10
	if n < 0 {
		n = 0
	}
	if len(payload) <= n {
		return payload
	}
	for n > 0 && !utf8.RuneStart(payload[n]) {
		n--
	}
	return payload[:n]
}

// SchemaURI returns SizeViolationSchema.
func (*SizeViolation) SchemaURI() string { return SizeViolationSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *SizeViolation) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, SizeViolationSchema, r.Processor)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = append(dst, `,"maximumAllowedSizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(r.MaximumAllowedSizeBytes), 10)
	dst = append(dst, `,"actualSizeBytes":`...)
	dst = strconv.AppendInt(dst, int64(r.ActualSizeBytes), 10)
	dst = append(dst, `,"expectation":`...)
	dst = appendString(dst, r.Expectation)
	dst = append(dst, `},"payload":`...)
	dst = appendString(dst, r.Payload)
	return append(dst, "}}"...), nil
}

// LoaderThrift is the loader name of collector_payload_format_violation for Thrift records.
const LoaderThrift = "thrift"

// CollectorPayloadFormatViolation is a raw record that is not a usable CollectorPayload
// (collector_payload_format_violation 1-0-0), written by enrich.
type CollectorPayloadFormatViolation struct {
	Processor Processor
	Timestamp time.Time
	Loader    string  // LoaderThrift
	Message   Message // CPFormatInputData or CPFormatError
	Payload   []byte  // the raw record; written as standard base64
}

// SchemaURI returns CollectorPayloadFormatViolationSchema.
func (*CollectorPayloadFormatViolation) SchemaURI() string {
	return CollectorPayloadFormatViolationSchema
}

// Marshal returns the bad row as compact self-describing JSON.
func (r *CollectorPayloadFormatViolation) Marshal() ([]byte, error) {
	if r.Message == nil {
		return nil, fmt.Errorf("collector_payload_format_violation: no message")
	}
	dst := appendEnvelopeStart(nil, CollectorPayloadFormatViolationSchema, r.Processor)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = append(dst, `,"loader":`...)
	dst = appendString(dst, r.Loader)
	dst = append(dst, `,"message":`...)
	dst, err := r.Message.appendJSON(dst)
	if err != nil {
		return nil, fmt.Errorf("collector_payload_format_violation message: %w", err)
	}
	dst = append(dst, `},"payload":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, r.Payload)
	return append(dst, `"}}`...), nil
}

// AdapterFailures is a collector payload an adapter (webhook, tp1) could not turn into events
// (adapter_failures 1-0-0), written by enrich. Messages are InputData, NotJSON, NotIglu or
// SchemaMapping.
type AdapterFailures struct {
	Processor Processor
	Timestamp time.Time
	Vendor    string
	Version   string
	Messages  []Message
	Payload   CollectorPayload
}

// SchemaURI returns AdapterFailuresSchema.
func (*AdapterFailures) SchemaURI() string { return AdapterFailuresSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *AdapterFailures) Marshal() ([]byte, error) {
	return marshalAdapterRow(AdapterFailuresSchema, r.Processor, r.Timestamp, r.Vendor, r.Version, r.Messages, &r.Payload)
}

// TrackerProtocolViolations is a collector payload that breaks the tracker protocol
// (tracker_protocol_violations 1-0-1), written by enrich's tp2 and redirect adapters. Messages
// are InputData, NotJSON, NotIglu, CriterionMismatch or IgluError.
type TrackerProtocolViolations struct {
	Processor Processor
	Timestamp time.Time
	Vendor    string
	Version   string
	Messages  []Message
	Payload   CollectorPayload
}

// SchemaURI returns TrackerProtocolViolationsSchema.
func (*TrackerProtocolViolations) SchemaURI() string { return TrackerProtocolViolationsSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *TrackerProtocolViolations) Marshal() ([]byte, error) {
	return marshalAdapterRow(TrackerProtocolViolationsSchema, r.Processor, r.Timestamp, r.Vendor, r.Version, r.Messages, &r.Payload)
}

func marshalAdapterRow(schema string, p Processor, ts time.Time, vendor, version string, ms []Message, cp *CollectorPayload) ([]byte, error) {
	dst := appendEnvelopeStart(nil, schema, p)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, ts)
	dst = append(dst, `,"vendor":`...)
	dst = appendString(dst, vendor)
	dst = append(dst, `,"version":`...)
	dst = appendString(dst, version)
	dst = append(dst, `,"messages":`...)
	dst, err := appendMessages(dst, ms)
	if err != nil {
		return nil, err
	}
	dst = append(dst, `},"payload":`...)
	dst = cp.AppendJSON(dst)
	return append(dst, "}}"...), nil
}

// SchemaViolations is an event whose tracker parameters, entities or derived contexts are
// invalid (schema_violations 2-0-1), written by enrich. Messages are NotJSON, NotIglu,
// CriterionMismatch or IgluError.
type SchemaViolations struct {
	Processor Processor
	Timestamp time.Time
	Messages  []Message
	Payload   EnrichmentPayload
}

// SchemaURI returns SchemaViolationsSchema.
func (*SchemaViolations) SchemaURI() string { return SchemaViolationsSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *SchemaViolations) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, SchemaViolationsSchema, r.Processor)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = append(dst, `,"messages":`...)
	dst, err := appendMessages(dst, r.Messages)
	if err != nil {
		return nil, fmt.Errorf("schema_violations: %w", err)
	}
	dst = append(dst, `},"payload":`...)
	if dst, err = r.Payload.appendJSON(dst); err != nil {
		return nil, fmt.Errorf("schema_violations: %w", err)
	}
	return append(dst, "}}"...), nil
}

// EnrichmentInfo identifies the enrichment that failed: its configuration schema and its
// identifier, e.g. "iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0"
// and "currency-conversion".
type EnrichmentInfo struct {
	SchemaKey  string
	Identifier string
}

// EnrichmentFailure is one message of enrichment_failures: the enrichment (nil for failures
// outside any enrichment) and the message: InputData, EnrichmentError or IgluError.
type EnrichmentFailure struct {
	Enrichment *EnrichmentInfo
	Message    Message
}

// MarshalJSON returns {"enrichment":{"schemaKey","identifier"}|null,"message":…}.
func (f EnrichmentFailure) MarshalJSON() ([]byte, error) { return f.appendJSON(nil) }

func (f EnrichmentFailure) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"enrichment":`...)
	if f.Enrichment == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"schemaKey":`...)
		dst = appendString(dst, f.Enrichment.SchemaKey)
		dst = append(dst, `,"identifier":`...)
		dst = appendString(dst, f.Enrichment.Identifier)
		dst = append(dst, '}')
	}
	dst = append(dst, `,"message":`...)
	if f.Message == nil {
		return dst, fmt.Errorf("enrichment failure without a message")
	}
	dst, err := f.Message.appendJSON(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, '}'), nil
}

// EnrichmentFailures is an event an enrichment could not process (enrichment_failures 2-0-1),
// written by enrich.
type EnrichmentFailures struct {
	Processor Processor
	Timestamp time.Time
	Messages  []EnrichmentFailure
	Payload   EnrichmentPayload
}

// SchemaURI returns EnrichmentFailuresSchema.
func (*EnrichmentFailures) SchemaURI() string { return EnrichmentFailuresSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *EnrichmentFailures) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, EnrichmentFailuresSchema, r.Processor)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = append(dst, `,"messages":[`...)
	var err error
	for i, m := range r.Messages {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = m.appendJSON(dst); err != nil {
			return nil, fmt.Errorf("enrichment_failures message %d: %w", i, err)
		}
	}
	dst = append(dst, `]},"payload":`...)
	if dst, err = r.Payload.appendJSON(dst); err != nil {
		return nil, fmt.Errorf("enrichment_failures: %w", err)
	}
	return append(dst, "}}"...), nil
}

// LoaderParsingError is an enriched-stream record that is not a valid enriched event
// (loader_parsing_error 2-0-0), written by the loaders.
type LoaderParsingError struct {
	Processor Processor
	Error     json.Marshaler // the analytics-SDK ParsingError: an event.ParsingError, or its JSON
	Payload   string         // the record
}

// SchemaURI returns LoaderParsingErrorSchema.
func (*LoaderParsingError) SchemaURI() string { return LoaderParsingErrorSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *LoaderParsingError) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, LoaderParsingErrorSchema, r.Processor)
	if r.Error == nil {
		return nil, fmt.Errorf("loader_parsing_error: no error")
	}
	dst, err := appendMarshaler(dst, r.Error)
	if err != nil {
		return nil, fmt.Errorf("loader_parsing_error failure: %w", err)
	}
	dst = append(dst, `,"payload":`...)
	dst = appendString(dst, r.Payload)
	return append(dst, "}}"...), nil
}

// LoaderIgluError is an enriched event whose entities' schemas a loader could not resolve or
// use (loader_iglu_error 2-0-1). Errors are IgluError messages.
type LoaderIgluError struct {
	Processor Processor
	Errors    []Message
	Payload   json.RawMessage // the event as event.(*EnrichedEvent).AppendFullJSON writes it
}

// SchemaURI returns LoaderIgluErrorSchema.
func (*LoaderIgluError) SchemaURI() string { return LoaderIgluErrorSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *LoaderIgluError) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, LoaderIgluErrorSchema, r.Processor)
	dst, err := appendMessages(dst, r.Errors)
	if err != nil {
		return nil, fmt.Errorf("loader_iglu_error: %w", err)
	}
	dst = append(dst, `,"payload":`...)
	if dst, err = appendRawJSON(dst, r.Payload); err != nil {
		return nil, fmt.Errorf("loader_iglu_error payload: %w", err)
	}
	return append(dst, "}}"...), nil
}

// LoaderRuntimeError is an enriched event a loader could not write for a reason of its own
// (loader_runtime_error 1-0-1).
type LoaderRuntimeError struct {
	Processor Processor
	Error     string
	Payload   json.RawMessage // the event as event.(*EnrichedEvent).AppendFullJSON writes it
}

// SchemaURI returns LoaderRuntimeErrorSchema.
func (*LoaderRuntimeError) SchemaURI() string { return LoaderRuntimeErrorSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *LoaderRuntimeError) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, LoaderRuntimeErrorSchema, r.Processor)
	dst = appendString(dst, r.Error)
	dst = append(dst, `,"payload":`...)
	dst, err := appendRawJSON(dst, r.Payload)
	if err != nil {
		return nil, fmt.Errorf("loader_runtime_error payload: %w", err)
	}
	return append(dst, "}}"...), nil
}

// GenericError is any other failure (generic_error 1-0-0).
type GenericError struct {
	Processor Processor
	Timestamp time.Time
	Errors    []string // at least one
	Payload   string
}

// SchemaURI returns GenericErrorSchema.
func (*GenericError) SchemaURI() string { return GenericErrorSchema }

// Marshal returns the bad row as compact self-describing JSON.
func (r *GenericError) Marshal() ([]byte, error) {
	if len(r.Errors) == 0 {
		return nil, fmt.Errorf("generic_error: no errors")
	}
	dst := appendEnvelopeStart(nil, GenericErrorSchema, r.Processor)
	dst = append(dst, `{"timestamp":`...)
	dst = appendTimestamp(dst, r.Timestamp)
	dst = append(dst, `,"errors":[`...)
	for i, e := range r.Errors {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, e)
	}
	dst = append(dst, `]},"payload":`...)
	dst = appendString(dst, r.Payload)
	return append(dst, "}}"...), nil
}
