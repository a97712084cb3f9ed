package badrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// ErrNotBadRow is wrapped by Parse's errors.
var ErrNotBadRow = errors.New("not a bad row")

// BadRow is any bad row as read back by Parse: its schema, processor, and failure and payload
// as the JSON they were written with.
type BadRow struct {
	Schema    string
	Processor Processor
	Failure   json.RawMessage
	Payload   json.RawMessage
}

// Parse reads one bad row: a self-describing JSON whose schema is in the badrows vendor and
// whose data is an object with failure and payload (and processor, absent in some
// loader_runtime_error rows). Any type and version is accepted, including types this package
// does not write.
func Parse(data []byte) (*BadRow, error) {
	var env struct {
		Schema *string `json:"schema"`
		Data   *struct {
			Processor *Processor      `json:"processor"`
			Failure   json.RawMessage `json:"failure"`
			Payload   json.RawMessage `json:"payload"`
		} `json:"data"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotBadRow, err)
	}
	switch {
	case env.Schema == nil:
		return nil, fmt.Errorf("%w: no schema", ErrNotBadRow)
	case !strings.HasPrefix(*env.Schema, "iglu:"+Vendor+"/"):
		return nil, fmt.Errorf("%w: schema %q is not in vendor %s", ErrNotBadRow, *env.Schema, Vendor)
	case env.Data == nil:
		return nil, fmt.Errorf("%w: no data", ErrNotBadRow)
	case env.Data.Failure == nil:
		return nil, fmt.Errorf("%w: no failure", ErrNotBadRow)
	case env.Data.Payload == nil:
		return nil, fmt.Errorf("%w: no payload", ErrNotBadRow)
	}
	b := &BadRow{Schema: *env.Schema, Failure: env.Data.Failure, Payload: env.Data.Payload}
	if env.Data.Processor != nil {
		b.Processor = *env.Data.Processor
	}
	return b, nil
}

// Name returns the bad-row type, e.g. "schema_violations".
func (b *BadRow) Name() string {
	rest := strings.TrimPrefix(b.Schema, "iglu:"+Vendor+"/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// SchemaURI returns b.Schema.
func (b *BadRow) SchemaURI() string { return b.Schema }

// Marshal writes the bad row back as compact self-describing JSON.
func (b *BadRow) Marshal() ([]byte, error) {
	dst := appendEnvelopeStart(nil, b.Schema, b.Processor)
	dst, err := appendRawJSON(dst, b.Failure)
	if err != nil {
		return nil, fmt.Errorf("bad row failure: %w", err)
	}
	dst = append(dst, `,"payload":`...)
	if dst, err = appendRawJSON(dst, b.Payload); err != nil {
		return nil, fmt.Errorf("bad row payload: %w", err)
	}
	return append(dst, "}}"...), nil
}

// RawEvent returns the raw event of a bad row whose payload is {"enriched":…,"raw":…}
// (schema_violations, enrichment_failures); ok is false for other payloads.
func (b *BadRow) RawEvent() (raw *event.RawEvent, ok bool, err error) {
	p, ok := b.enrichmentPayload()
	if !ok || isNull(p.Raw) {
		return nil, false, nil
	}
	raw = new(event.RawEvent)
	if err := raw.UnmarshalJSON(p.Raw); err != nil {
		return nil, false, fmt.Errorf("%s payload: %w", b.Name(), err)
	}
	return raw, true, nil
}

// Enriched returns the PartiallyEnrichedEvent JSON of a bad row whose payload is
// {"enriched":…,"raw":…}; ok is false for other payloads.
func (b *BadRow) Enriched() (json.RawMessage, bool) {
	p, ok := b.enrichmentPayload()
	if !ok || isNull(p.Enriched) {
		return nil, false
	}
	return p.Enriched, true
}

func (b *BadRow) enrichmentPayload() (EnrichmentPayload, bool) {
	var p struct {
		Enriched json.RawMessage `json:"enriched"`
		Raw      json.RawMessage `json:"raw"`
	}
	if !isObject(b.Payload) || json.Unmarshal(b.Payload, &p) != nil || (p.Raw == nil && p.Enriched == nil) {
		return EnrichmentPayload{}, false
	}
	return EnrichmentPayload(p), true
}

// CollectorPayload returns the collector payload of a bad row whose payload is a
// CollectorPayload object (adapter_failures, tracker_protocol_violations); ok is false for
// other payloads.
func (b *BadRow) CollectorPayload() (cp *CollectorPayload, ok bool, err error) {
	if !isObject(b.Payload) {
		return nil, false, nil
	}
	var probe struct {
		Vendor    *string         `json:"vendor"`
		Collector *string         `json:"collector"`
		Query     json.RawMessage `json:"querystring"`
	}
	if json.Unmarshal(b.Payload, &probe) != nil || probe.Vendor == nil || probe.Collector == nil {
		return nil, false, nil
	}
	cp = new(CollectorPayload)
	if err := cp.UnmarshalJSON(b.Payload); err != nil {
		return nil, false, fmt.Errorf("%s payload: %w", b.Name(), err)
	}
	return cp, true, nil
}

func isObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}
