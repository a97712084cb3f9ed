package event

import (
	"encoding/json"
	"errors"
	"unsafe"
)

// Envelope schemas of the JSON columns.
const (
	ContextsSchema      = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
	UnstructEventSchema = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
)

// SelfDescribing is a self-describing JSON: an Iglu schema URI and the data it describes.
// Data is kept as the bytes received (key order, numbers and escapes untouched).
type SelfDescribing struct {
	Schema string
	Data   json.RawMessage
}

// MarshalJSON returns {"schema":…,"data":…} with no spaces; Data is copied as it is
// (null when empty).
func (s SelfDescribing) MarshalJSON() ([]byte, error) {
	return s.AppendJSON(nil), nil
}

// AppendJSON appends the compact JSON of s to dst.
func (s SelfDescribing) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"schema":`...)
	dst = AppendJSONString(dst, s.Schema)
	dst = append(dst, `,"data":`...)
	if len(s.Data) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, s.Data...)
	}
	return append(dst, '}')
}

// UnmarshalJSON reads a self-describing JSON (see ParseSelfDescribing).
func (s *SelfDescribing) UnmarshalJSON(data []byte) error {
	v, err := ParseSelfDescribing(data)
	if err != nil {
		return err
	}
	v.Data = append(json.RawMessage(nil), v.Data...)
	*s = v
	return nil
}

// ErrNotSelfDescribing is wrapped by the errors of the self-describing JSON parsers.
var ErrNotSelfDescribing = errors.New("not a self-describing JSON")

// ParseSelfDescribing reads {"schema":"iglu:…","data":…}. The schema must be an Iglu URI
// (iglu:vendor/name/format/M-R-A); other keys are ignored. Data aliases data.
func ParseSelfDescribing(data []byte) (SelfDescribing, error) {
	r, err := scanWhole(data, false)
	if err != nil {
		return SelfDescribing{}, err
	}
	return SelfDescribing{Schema: r.schema, Data: r.data}, nil
}

// Entities are the self-describing entities behind an enriched event's three JSON
// fields, as enrich validated them, for a consumer in the same process that would
// otherwise read the fields' JSON again (the event store, splitting them into one
// column per type). Enrich writes contexts as MarshalContexts(Contexts),
// derived_contexts as MarshalContexts(Derived) and unstruct_event as
// MarshalUnstruct(*Unstruct) (null when nil), and every Data is one valid JSON value
// (or empty, for null): enrich validated it. An enrichment may still rewrite a field
// afterwards, so a consumer compares each field with its entities before it relies on
// them. The slices and the data they share belong to enrich: they are valid
// only during the call they are given to.
type Entities struct {
	Contexts []SelfDescribing
	Derived  []SelfDescribing
	Unstruct *SelfDescribing

	// Decoded are the event's cx and ue_px with the decoding enrich made of them, where
	// it found them exact (zero otherwise), for RawEvent.AppendCompactRow.
	Decoded [2]DecodedParam
}

// MarshalContexts returns the contexts / derived_contexts column text for entities: the
// contexts 1-0-1 envelope around them, or "" (null) when there are none.
func MarshalContexts(entities []SelfDescribing) string {
	if len(entities) == 0 {
		return ""
	}
	// Sized up front and handed over without a copy: growing from nil copied and
	// cleared the column several times, a share of enrich's CPU on events with contexts.
	n := len(`{"schema":"` + ContextsSchema + `","data":[]}`)
	for _, e := range entities {
		n += len(`{"schema":"","data":},`) + len(e.Schema) + max(len(e.Data), len("null"))
	}
	b := AppendContexts(make([]byte, 0, n), entities)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// AppendContexts appends the contexts 1-0-1 envelope around entities to dst (with an empty
// data array when there are none).
func AppendContexts(dst []byte, entities []SelfDescribing) []byte {
	dst = append(dst, `{"schema":"`+ContextsSchema+`","data":[`...)
	for i, e := range entities {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = e.AppendJSON(dst)
	}
	return append(dst, "]}"...)
}

// MarshalUnstruct returns the unstruct_event column text for ue: the unstruct_event 1-0-0
// envelope around it.
func MarshalUnstruct(ue SelfDescribing) string {
	n := len(`{"schema":"`+UnstructEventSchema+`","data":{"schema":"","data":}}`) + len(ue.Schema) + max(len(ue.Data), len("null"))
	b := AppendUnstruct(make([]byte, 0, n), ue)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// AppendUnstruct appends the unstruct_event 1-0-0 envelope around ue to dst.
func AppendUnstruct(dst []byte, ue SelfDescribing) []byte {
	dst = append(dst, `{"schema":"`+UnstructEventSchema+`","data":`...)
	dst = ue.AppendJSON(dst)
	return append(dst, '}')
}

// ParseContexts reads a contexts or derived_contexts column: a self-describing JSON whose
// data is an array of self-describing JSONs. "" gives no entities. The envelope schema is not
// checked beyond being an Iglu URI (enrich writes contexts 1-0-1; older producers 1-0-0).
func ParseContexts(column string) ([]SelfDescribing, error) {
	if column == "" {
		return nil, nil
	}
	b := []byte(column) // the entities' Data alias this private copy
	var out []SelfDescribing
	err := scanContexts(b, true, func(r sdjScan) {
		out = append(out, SelfDescribing{Schema: r.schema, Data: r.data})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseUnstruct reads an unstruct_event column and returns the event inside the envelope.
// "" gives ok == false.
func ParseUnstruct(column string) (ue SelfDescribing, ok bool, err error) {
	if column == "" {
		return SelfDescribing{}, false, nil
	}
	r, err := scanUnstruct([]byte(column), true)
	if err != nil {
		return SelfDescribing{}, false, err
	}
	return SelfDescribing{Schema: r.schema, Data: r.data}, true, nil
}
