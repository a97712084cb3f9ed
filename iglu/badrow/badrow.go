// Package badrow is the model of Snowplow's bad rows (failed events): self-describing JSON
// records of schema iglu:com.snowplowanalytics.snowplow.badrows/…, written by the collector
// (size_violation) and enrich to the bad-1 stream and by the loaders to bad-2, and read back
// by the loaders and the web UI / Micro-compatible test API.
//
// Each type of bad row emitted today has its own struct (SizeViolation, AdapterFailures,
// SchemaViolations, …) whose Marshal writes the exact JSON of the badrows library; Parse reads
// any bad row back into the generic BadRow.
//
// This is a leaf model package: any stage may import it. It builds on the enriched-event
// model (enrich/event: the pairs, events and JSON escaping it prints), which builds on
// iglu; it imports no stage and not the Thrift codec (the raw stream's format is
// collector/payload's business). main_test.go's TestFoundationsImportNoStage holds this.
package badrow

import (
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Schema URIs of the bad rows emitted today, at the versions the badrows library writes.
const (
	SizeViolationSchema                   = "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0"
	CollectorPayloadFormatViolationSchema = "iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0"
	AdapterFailuresSchema                 = "iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0"
	TrackerProtocolViolationsSchema       = "iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1"
	SchemaViolationsSchema                = "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1"
	EnrichmentFailuresSchema              = "iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1"
	LoaderParsingErrorSchema              = "iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0"
	LoaderIgluErrorSchema                 = "iglu:com.snowplowanalytics.snowplow.badrows/loader_iglu_error/jsonschema/2-0-1"
	LoaderRuntimeErrorSchema              = "iglu:com.snowplowanalytics.snowplow.badrows/loader_runtime_error/jsonschema/1-0-1"
	GenericErrorSchema                    = "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0"
)

// Vendor is the Iglu vendor of every bad-row schema.
const Vendor = "com.snowplowanalytics.snowplow.badrows"

// Processor identifies the application that wrote a bad row.
type Processor struct {
	Artifact string `json:"artifact"` // e.g. snowplow-mini-enrich
	Version  string `json:"version"`  // e.g. 0.1.0 (the schemas require N.N.N…)
}

func (p Processor) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"artifact":`...)
	dst = event.AppendJSONString(dst, p.Artifact)
	dst = append(dst, `,"version":`...)
	dst = event.AppendJSONString(dst, p.Version)
	return append(dst, '}')
}

// Row is a bad row of one of the types of this package.
type Row interface {
	// SchemaURI returns the bad row's Iglu schema URI.
	SchemaURI() string
	// Marshal returns the bad row as one compact self-describing JSON.
	Marshal() ([]byte, error)
}

// appendEnvelopeStart writes {"schema":…,"data":{"processor":…,"failure": and the caller
// continues with the failure, then appendEnvelopeEnd.
func appendEnvelopeStart(dst []byte, schema string, p Processor) []byte {
	dst = append(dst, `{"schema":"`...)
	dst = append(dst, schema...)
	dst = append(dst, `","data":{"processor":`...)
	dst = p.appendJSON(dst)
	return append(dst, `,"failure":`...)
}

func appendString(dst []byte, s string) []byte { return event.AppendJSONString(dst, s) }

func appendTimestamp(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = event.AppendISO(dst, t)
	return append(dst, '"')
}
