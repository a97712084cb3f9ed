package badrow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// CollectorPayload is the payload object of adapter_failures and tracker_protocol_violations
// bad rows: the collector request with the vendor and version of the adapter that read it and
// its query string as name-value pairs. Optional strings use "" for null; a zero Timestamp is
// null.
type CollectorPayload struct {
	Vendor        string      // from the path, e.g. com.snowplowanalytics.snowplow
	Version       string      // from the path, e.g. tp2
	Querystring   []event.NVP // the query string, in order
	ContentType   string      // optional
	Body          string      // optional
	Collector     string      // e.g. snowplow-mini-collector-0.1.0
	Encoding      string      // e.g. UTF-8
	Hostname      string      // optional
	Timestamp     time.Time   // optional
	IPAddress     string      // optional
	UserAgent     string      // optional
	RefererURI    string      // optional
	Headers       []string    // "Name: value"
	NetworkUserID string      // optional
}

// MarshalJSON returns the bad-row object (see AppendJSON).
func (c *CollectorPayload) MarshalJSON() ([]byte, error) { return c.AppendJSON(nil), nil }

// AppendJSON appends the bad-row CollectorPayload object: keys vendor, version, querystring,
// contentType, body, collector, encoding, hostname, timestamp, ipAddress, useragent,
// refererUri, headers, networkUserId, in that order, absent values as null.
func (c *CollectorPayload) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"vendor":`...)
	dst = event.AppendJSONString(dst, c.Vendor)
	dst = append(dst, `,"version":`...)
	dst = event.AppendJSONString(dst, c.Version)
	dst = append(dst, `,"querystring":`...)
	dst = event.AppendNVPs(dst, c.Querystring)
	dst = append(dst, `,"contentType":`...)
	dst = appendNullable(dst, c.ContentType)
	dst = append(dst, `,"body":`...)
	dst = appendNullable(dst, c.Body)
	dst = append(dst, `,"collector":`...)
	dst = event.AppendJSONString(dst, c.Collector)
	dst = append(dst, `,"encoding":`...)
	dst = event.AppendJSONString(dst, c.Encoding)
	dst = append(dst, `,"hostname":`...)
	dst = appendNullable(dst, c.Hostname)
	dst = append(dst, `,"timestamp":`...)
	dst = appendNullableTime(dst, c.Timestamp)
	dst = append(dst, `,"ipAddress":`...)
	dst = appendNullable(dst, c.IPAddress)
	dst = append(dst, `,"useragent":`...)
	dst = appendNullable(dst, c.UserAgent)
	dst = append(dst, `,"refererUri":`...)
	dst = appendNullable(dst, c.RefererURI)
	dst = append(dst, `,"headers":`...)
	dst = event.AppendStrings(dst, c.Headers)
	dst = append(dst, `,"networkUserId":`...)
	dst = appendNullable(dst, c.NetworkUserID)
	return append(dst, '}')
}

// AppendMicroJSON appends the payload as Snowplow Micro's BadEvent "collectorPayload" object:
// {"api":{"vendor","version"},"querystring":["name=value"…],"contentType","body",
// "source":{"name","encoding","hostname"},
// "context":{"timestamp","ipAddress","useragent","refererUri","headers","userId"}}.
func (c *CollectorPayload) AppendMicroJSON(dst []byte) []byte {
	dst = append(dst, `{"api":{"vendor":`...)
	dst = event.AppendJSONString(dst, c.Vendor)
	dst = append(dst, `,"version":`...)
	dst = event.AppendJSONString(dst, c.Version)
	// Micro writes the query string as Java NameValuePair strings: a missing value gives
	// "name=null".
	dst = append(dst, `},"querystring":[`...)
	for i, p := range c.Querystring {
		if i > 0 {
			dst = append(dst, ',')
		}
		v := "null"
		if p.Value != nil {
			v = *p.Value
		}
		dst = event.AppendJSONString(dst, p.Name+"="+v)
	}
	dst = append(dst, `],"contentType":`...)
	dst = appendNullable(dst, c.ContentType)
	dst = append(dst, `,"body":`...)
	dst = appendNullable(dst, c.Body)
	dst = append(dst, `,"source":{"name":`...)
	dst = event.AppendJSONString(dst, c.Collector)
	dst = append(dst, `,"encoding":`...)
	dst = event.AppendJSONString(dst, c.Encoding)
	dst = append(dst, `,"hostname":`...)
	dst = appendNullable(dst, c.Hostname)
	dst = append(dst, `},"context":{"timestamp":`...)
	dst = appendNullableTime(dst, c.Timestamp)
	dst = append(dst, `,"ipAddress":`...)
	dst = appendNullable(dst, c.IPAddress)
	dst = append(dst, `,"useragent":`...)
	dst = appendNullable(dst, c.UserAgent)
	dst = append(dst, `,"refererUri":`...)
	dst = appendNullable(dst, c.RefererURI)
	dst = append(dst, `,"headers":`...)
	dst = event.AppendStrings(dst, c.Headers)
	dst = append(dst, `,"userId":`...)
	dst = appendNullable(dst, c.NetworkUserID)
	return append(dst, "}}"...)
}

// UnmarshalJSON reads the bad-row CollectorPayload object (null and missing optional keys give
// empty values).
func (c *CollectorPayload) UnmarshalJSON(data []byte) error {
	var aux struct {
		Vendor        string      `json:"vendor"`
		Version       string      `json:"version"`
		Querystring   []event.NVP `json:"querystring"`
		ContentType   *string     `json:"contentType"`
		Body          *string     `json:"body"`
		Collector     string      `json:"collector"`
		Encoding      string      `json:"encoding"`
		Hostname      *string     `json:"hostname"`
		Timestamp     *string     `json:"timestamp"`
		IPAddress     *string     `json:"ipAddress"`
		UserAgent     *string     `json:"useragent"`
		RefererURI    *string     `json:"refererUri"`
		Headers       []string    `json:"headers"`
		NetworkUserID *string     `json:"networkUserId"`
	}
	if err := json.Unmarshal(data, &aux); err != nil {
		return fmt.Errorf("reading collector payload: %w", err)
	}
	var ts time.Time
	if aux.Timestamp != nil {
		t, err := time.Parse(time.RFC3339Nano, *aux.Timestamp)
		if err != nil {
			return fmt.Errorf("reading collector payload timestamp: %w", err)
		}
		ts = t.UTC()
	}
	*c = CollectorPayload{
		Vendor: aux.Vendor, Version: aux.Version, Querystring: aux.Querystring,
		ContentType: deref(aux.ContentType), Body: deref(aux.Body), Collector: aux.Collector,
		Encoding: aux.Encoding, Hostname: deref(aux.Hostname), Timestamp: ts,
		IPAddress: deref(aux.IPAddress), UserAgent: deref(aux.UserAgent),
		RefererURI: deref(aux.RefererURI), Headers: aux.Headers, NetworkUserID: deref(aux.NetworkUserID),
	}
	return nil
}

// EnrichmentPayload is the payload of schema_violations and enrichment_failures bad rows: the
// event as far as enrich got (the PartiallyEnrichedEvent object) and the raw event (the
// RawEvent object), both as JSON.
type EnrichmentPayload struct {
	Enriched json.RawMessage
	Raw      json.RawMessage
}

// NewEnrichmentPayload returns the payload for the partially enriched event e extracted as r.
func NewEnrichmentPayload(e *event.EnrichedEvent, r *event.RawEvent) EnrichmentPayload {
	return EnrichmentPayload{Enriched: e.AppendPartialJSON(nil), Raw: r.AppendJSON(nil)}
}

func (p EnrichmentPayload) appendJSON(dst []byte) ([]byte, error) {
	dst = append(dst, `{"enriched":`...)
	dst, err := appendRawJSON(dst, p.Enriched)
	if err != nil {
		return dst, fmt.Errorf("enriched payload: %w", err)
	}
	dst = append(dst, `,"raw":`...)
	if dst, err = appendRawJSON(dst, p.Raw); err != nil {
		return dst, fmt.Errorf("raw payload: %w", err)
	}
	return append(dst, '}'), nil
}

func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return event.AppendJSONString(dst, s)
}

func appendNullableTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	return appendTimestamp(dst, t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
