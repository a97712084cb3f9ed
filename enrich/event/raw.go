package event

import (
	"encoding/json"
	"fmt"
	"time"
)

// NVP is one name-value pair of a query string or tracker payload. A nil Value is a name
// without a value ("?a&b=1" gives a: nil).
type NVP struct {
	Name  string
	Value *string
}

// NewNVP returns the pair name=value.
func NewNVP(name, value string) NVP { return NVP{Name: name, Value: &value} }

// MarshalJSON returns {"name":…,"value":…|null}.
func (p NVP) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

func (p NVP) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"name":`...)
	dst = AppendJSONString(dst, p.Name)
	dst = append(dst, `,"value":`...)
	if p.Value == nil {
		dst = append(dst, "null"...)
	} else {
		dst = AppendJSONString(dst, *p.Value)
	}
	return append(dst, '}')
}

// UnmarshalJSON reads {"name":…,"value":…|null}.
func (p *NVP) UnmarshalJSON(data []byte) error {
	var aux struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return err
	}
	if aux.Name == nil {
		return fmt.Errorf("name-value pair without a name")
	}
	p.Name, p.Value = *aux.Name, aux.Value
	return nil
}

// AppendNVPs appends ps as a JSON array of NVP objects (an empty array when there are none).
func AppendNVPs(dst []byte, ps []NVP) []byte {
	dst = append(dst, '[')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = p.appendJSON(dst)
	}
	return append(dst, ']')
}

// RawEvent is one event as a tracker-protocol adapter extracted it from a collector payload,
// before enrichment: the payload's metadata and the tracker parameters of this one event in
// the tracker's order. Optional strings use "" for absent; a zero Timestamp is absent.
type RawEvent struct {
	Vendor      string    // adapter vendor, e.g. com.snowplowanalytics.snowplow
	Version     string    // adapter version, e.g. tp2
	Parameters  []NVP     // tracker parameters of this event
	ContentType string    // optional
	LoaderName  string    // the CollectorPayload's collector field
	Encoding    string    // e.g. UTF-8
	Hostname    string    // optional
	Timestamp   time.Time // collector timestamp, optional
	IPAddress   string    // optional
	UserAgent   string    // optional
	RefererURI  string    // optional
	Headers     []string  // "Name: value"
	UserID      string    // network user id, optional
}

// Param returns the value of the last parameter called name.
func (r *RawEvent) Param(name string) (string, bool) {
	for i := len(r.Parameters) - 1; i >= 0; i-- {
		if p := r.Parameters[i]; p.Name == name {
			if p.Value == nil {
				return "", true
			}
			return *p.Value, true
		}
	}
	return "", false
}

// MarshalJSON returns the bad-row RawEvent object (see AppendJSON).
func (r *RawEvent) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }

// AppendJSON appends the RawEvent object of schema_violations and enrichment_failures bad rows:
// keys vendor, version, parameters (NVP array), contentType, loaderName, encoding, hostname,
// timestamp (ISO-8601, milliseconds), ipAddress, useragent, refererUri, headers, userId, in
// that order, absent values as null.
func (r *RawEvent) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"vendor":`...)
	dst = AppendJSONString(dst, r.Vendor)
	dst = append(dst, `,"version":`...)
	dst = AppendJSONString(dst, r.Version)
	dst = append(dst, `,"parameters":`...)
	dst = AppendNVPs(dst, r.Parameters)
	dst = append(dst, `,"contentType":`...)
	dst = appendNullableString(dst, r.ContentType)
	dst = append(dst, `,"loaderName":`...)
	dst = AppendJSONString(dst, r.LoaderName)
	dst = append(dst, `,"encoding":`...)
	dst = AppendJSONString(dst, r.Encoding)
	dst = append(dst, `,"hostname":`...)
	dst = appendNullableString(dst, r.Hostname)
	dst = append(dst, `,"timestamp":`...)
	dst = appendNullableTime(dst, r.Timestamp)
	dst = append(dst, `,"ipAddress":`...)
	dst = appendNullableString(dst, r.IPAddress)
	dst = append(dst, `,"useragent":`...)
	dst = appendNullableString(dst, r.UserAgent)
	dst = append(dst, `,"refererUri":`...)
	dst = appendNullableString(dst, r.RefererURI)
	dst = append(dst, `,"headers":`...)
	dst = AppendStrings(dst, r.Headers)
	dst = append(dst, `,"userId":`...)
	dst = appendNullableString(dst, r.UserID)
	return append(dst, '}')
}

// AppendMicroJSON appends the event as Snowplow Micro's RawEvent object:
// {"api":{"vendor","version"},"parameters":{name:value,…},"contentType",
// "source":{"name","encoding","hostname"},
// "context":{"timestamp","ipAddress","useragent","refererUri","headers","userId"}}.
// Parameters become an object in first-appearance order; when a name repeats, its last value
// wins. Absent values are null.
func (r *RawEvent) AppendMicroJSON(dst []byte) []byte {
	dst = append(dst, `{"api":{"vendor":`...)
	dst = AppendJSONString(dst, r.Vendor)
	dst = append(dst, `,"version":`...)
	dst = AppendJSONString(dst, r.Version)
	dst = append(dst, `},"parameters":`...)
	dst = AppendParamsObject(dst, r.Parameters)
	dst = append(dst, `,"contentType":`...)
	dst = appendNullableString(dst, r.ContentType)
	dst = append(dst, `,"source":{"name":`...)
	dst = AppendJSONString(dst, r.LoaderName)
	dst = append(dst, `,"encoding":`...)
	dst = AppendJSONString(dst, r.Encoding)
	dst = append(dst, `,"hostname":`...)
	dst = appendNullableString(dst, r.Hostname)
	dst = append(dst, `},"context":{"timestamp":`...)
	dst = appendNullableTime(dst, r.Timestamp)
	dst = append(dst, `,"ipAddress":`...)
	dst = appendNullableString(dst, r.IPAddress)
	dst = append(dst, `,"useragent":`...)
	dst = appendNullableString(dst, r.UserAgent)
	dst = append(dst, `,"refererUri":`...)
	dst = appendNullableString(dst, r.RefererURI)
	dst = append(dst, `,"headers":`...)
	dst = AppendStrings(dst, r.Headers)
	dst = append(dst, `,"userId":`...)
	dst = appendNullableString(dst, r.UserID)
	return append(dst, "}}"...)
}

// AppendParamsObject appends ps as a JSON object of name: value (null for a nil value), in
// first-appearance order, the last value winning for a repeated name.
func AppendParamsObject(dst []byte, ps []NVP) []byte {
	dst = append(dst, '{')
	n := 0
	for i, p := range ps {
		seen := false
		for _, q := range ps[:i] {
			if q.Name == p.Name {
				seen = true
				break
			}
		}
		if seen {
			continue
		}
		last := p
		for _, q := range ps[i+1:] {
			if q.Name == p.Name {
				last = q
			}
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = AppendJSONString(dst, p.Name)
		dst = append(dst, ':')
		if last.Value == nil {
			dst = append(dst, "null"...)
		} else {
			dst = AppendJSONString(dst, *last.Value)
		}
	}
	return append(dst, '}')
}

// AppendStrings appends ss as a JSON array of strings (an empty array when there are none).
func AppendStrings(dst []byte, ss []string) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendNullableTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = AppendISO(dst, t)
	return append(dst, '"')
}

// UnmarshalJSON reads the bad-row RawEvent object written by AppendJSON (null and missing
// optional keys give empty values).
func (r *RawEvent) UnmarshalJSON(data []byte) error {
	var aux struct {
		Vendor      string   `json:"vendor"`
		Version     string   `json:"version"`
		Parameters  []NVP    `json:"parameters"`
		ContentType *string  `json:"contentType"`
		LoaderName  string   `json:"loaderName"`
		Encoding    string   `json:"encoding"`
		Hostname    *string  `json:"hostname"`
		Timestamp   *string  `json:"timestamp"`
		IPAddress   *string  `json:"ipAddress"`
		UserAgent   *string  `json:"useragent"`
		RefererURI  *string  `json:"refererUri"`
		Headers     []string `json:"headers"`
		UserID      *string  `json:"userId"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return fmt.Errorf("reading raw event: %w", err)
	}
	var ts time.Time
	if aux.Timestamp != nil {
		t, err := time.Parse(time.RFC3339Nano, *aux.Timestamp)
		if err != nil {
			return fmt.Errorf("reading raw event timestamp: %w", err)
		}
		ts = t.UTC()
	}
	*r = RawEvent{
		Vendor: aux.Vendor, Version: aux.Version, Parameters: aux.Parameters,
		ContentType: deref(aux.ContentType), LoaderName: aux.LoaderName, Encoding: aux.Encoding,
		Hostname: deref(aux.Hostname), Timestamp: ts, IPAddress: deref(aux.IPAddress),
		UserAgent: deref(aux.UserAgent), RefererURI: deref(aux.RefererURI), Headers: aux.Headers,
		UserID: deref(aux.UserID),
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
