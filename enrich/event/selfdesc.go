package event

import (
	"encoding/json"
	"errors"
	"fmt"
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
	if !json.Valid(data) {
		return SelfDescribing{}, fmt.Errorf("%w: invalid JSON", ErrNotSelfDescribing)
	}
	return parseSDJ(data)
}

// parseSDJ is ParseSelfDescribing for input already known to be valid JSON.
func parseSDJ(data []byte) (SelfDescribing, error) {
	var sd SelfDescribing
	var haveSchema, haveData bool
	ok := forEachMember(data, func(key string, val []byte) bool {
		switch key {
		case "schema":
			s, isStr := jsonStringValue(val)
			if !isStr {
				return false
			}
			sd.Schema, haveSchema = s, true
		case "data":
			sd.Data, haveData = val, true
		}
		return true
	})
	switch {
	case !ok:
		return SelfDescribing{}, fmt.Errorf("%w: expected an object with a string schema", ErrNotSelfDescribing)
	case !haveSchema:
		return SelfDescribing{}, fmt.Errorf("%w: no schema", ErrNotSelfDescribing)
	case !haveData:
		return SelfDescribing{}, fmt.Errorf("%w: no data", ErrNotSelfDescribing)
	}
	if _, ok := parseSchemaURI(sd.Schema); !ok {
		return SelfDescribing{}, fmt.Errorf("%w: schema %q is not an Iglu URI", ErrNotSelfDescribing, sd.Schema)
	}
	return sd, nil
}

// MarshalContexts returns the contexts / derived_contexts column text for entities: the
// contexts 1-0-1 envelope around them, or "" (null) when there are none.
func MarshalContexts(entities []SelfDescribing) string {
	if len(entities) == 0 {
		return ""
	}
	return string(AppendContexts(nil, entities))
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
	return string(AppendUnstruct(nil, ue))
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
	b := []byte(column)
	if !json.Valid(b) {
		return nil, fmt.Errorf("%w: invalid JSON", ErrNotSelfDescribing)
	}
	return parseContexts(b, nil)
}

// parseContexts appends the entities of a valid-JSON contexts column to dst.
func parseContexts(b []byte, dst []SelfDescribing) ([]SelfDescribing, error) {
	env, err := parseSDJ(b)
	if err != nil {
		return nil, err
	}
	var ierr error
	ok := forEachElement(env.Data, func(el []byte) bool {
		sd, err := parseSDJ(el)
		if err != nil {
			ierr = err
			return false
		}
		dst = append(dst, sd)
		return true
	})
	if ierr != nil {
		return nil, fmt.Errorf("contexts entity: %w", ierr)
	}
	if !ok {
		return nil, fmt.Errorf("%w: contexts data is not an array", ErrNotSelfDescribing)
	}
	return dst, nil
}

// ParseUnstruct reads an unstruct_event column and returns the event inside the envelope.
// "" gives ok == false.
func ParseUnstruct(column string) (ue SelfDescribing, ok bool, err error) {
	if column == "" {
		return SelfDescribing{}, false, nil
	}
	b := []byte(column)
	if !json.Valid(b) {
		return SelfDescribing{}, false, fmt.Errorf("%w: invalid JSON", ErrNotSelfDescribing)
	}
	ue, err = parseUnstruct(b)
	if err != nil {
		return SelfDescribing{}, false, err
	}
	return ue, true, nil
}

func parseUnstruct(b []byte) (SelfDescribing, error) {
	env, err := parseSDJ(b)
	if err != nil {
		return SelfDescribing{}, err
	}
	ue, err := parseSDJ(env.Data)
	if err != nil {
		return SelfDescribing{}, fmt.Errorf("unstruct_event data: %w", err)
	}
	return ue, nil
}
