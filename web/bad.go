package web

import (
	"encoding/json"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// The first line of a BadEvent's errors, by the stage that failed, as Snowplow Micro
// writes them (the last two are ours: Micro never sees those bad rows).
const (
	sentenceValidation = "Error while validating the event."
	sentenceExtraction = "Error while extracting event(s) from collector payload and validating it/them."
	sentenceThrift     = "Can't deserialize Thrift bytes."
	sentenceSize       = "Collector payload exceeds the maximum size."
	sentenceOther      = "Error while processing the event."
	sentenceNotBadRow  = "Record on the bad stream is not a bad row."
)

// badEvent is one stored bad event: Micro's BadEvent JSON, rendered once when read from
// the bad stream, and what the filters need.
type badEvent struct {
	json       []byte // {"collectorPayload","rawEvent","errors"}
	hasPayload bool   // collectorPayload is not null
	vendor     string // collectorPayload.api.vendor
	version    string // collectorPayload.api.version
	kind       string // bad-row type, e.g. "schema_violations" ("" when not a bad row)
	truncated  bool   // json was cut to the per-event cap (see limitBadJSON)
}

// newBadEvent derives Micro's BadEvent from one bad-stream record and returns it with the
// app_id it belongs to ("" when none can be told). A record that is not a bad row is
// kept too (ok false), with the record text as its second error, so nothing the pipeline
// rejected goes unseen. When lim caps events and the rendering is larger than the cap,
// what is kept is limitBadJSON's.
func newBadEvent(record []byte, lim eventLimit) (b *badEvent, appID string, ok bool) {
	row, err := badrow.Parse(record)
	if err != nil {
		b = &badEvent{}
		b.json = appendBadJSON(nil, nil, nil, sentenceNotBadRow, record)
		if lim.maxBytes > 0 && len(b.json) > lim.maxBytes {
			b.json, b.truncated = limitBadJSON(nil, nil, sentenceNotBadRow, record, lim), true
		}
		return b, "", false
	}
	compact, err := row.Marshal()
	if err != nil {
		compact = record
	}
	b = &badEvent{kind: row.Name()}

	var cp *badrow.CollectorPayload
	var raw *event.RawEvent
	sentence := sentenceOther
	switch b.kind {
	case "schema_violations", "enrichment_failures", "loader_parsing_error":
		sentence = sentenceValidation
	case "adapter_failures", "tracker_protocol_violations":
		sentence = sentenceExtraction
	case "collector_payload_format_violation":
		sentence = sentenceThrift
	case "size_violation":
		sentence = sentenceSize
	}
	// A payload that does not have the documented shape leaves collectorPayload and
	// rawEvent null; the bad row itself is still in errors[1].
	if r, found, err := row.RawEvent(); found && err == nil {
		raw = r
		// The bad row keeps only this event's parameters, not the request: rebuild the
		// request's metadata from them (querystring and body are not known).
		cp = &badrow.CollectorPayload{
			Vendor: r.Vendor, Version: r.Version, ContentType: r.ContentType,
			Collector: r.LoaderName, Encoding: r.Encoding, Hostname: r.Hostname,
			Timestamp: r.Timestamp, IPAddress: r.IPAddress, UserAgent: r.UserAgent,
			RefererURI: r.RefererURI, Headers: r.Headers, NetworkUserID: r.UserID,
		}
		appID, _ = r.Param("aid")
	} else if c, found, err := row.CollectorPayload(); found && err == nil {
		cp = c
		appID = payloadAppID(c)
	}
	if cp != nil {
		b.hasPayload, b.vendor, b.version = true, cp.Vendor, cp.Version
	}
	b.json = appendBadJSON(nil, cp, raw, sentence, compact)
	if lim.maxBytes > 0 && len(b.json) > lim.maxBytes {
		b.json, b.truncated = limitBadJSON(cp, raw, sentence, compact, lim), true
	}
	return b, appID, true
}

// appendBadJSON appends {"collectorPayload":…,"rawEvent":…,"errors":[sentence, detail]}.
func appendBadJSON(dst []byte, cp *badrow.CollectorPayload, raw *event.RawEvent, sentence string, detail []byte) []byte {
	dst = append(dst, `{"collectorPayload":`...)
	if cp != nil {
		dst = cp.AppendMicroJSON(dst)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"rawEvent":`...)
	if raw != nil {
		dst = raw.AppendMicroJSON(dst)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"errors":[`...)
	dst = event.AppendJSONString(dst, sentence)
	dst = append(dst, ',')
	dst = event.AppendJSONString(dst, strings.TrimSpace(string(detail)))
	return append(dst, "]}"...)
}

// payloadAppID returns the app_id of a rejected request when it can be told: the aid of
// the query string, else the aid shared by every event of a payload_data body.
func payloadAppID(c *badrow.CollectorPayload) string {
	for _, p := range c.Querystring {
		if p.Name == "aid" && p.Value != nil {
			return *p.Value
		}
	}
	if c.Body == "" {
		return ""
	}
	var body struct {
		Data []struct {
			AID *string `json:"aid"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(c.Body), &body) != nil || len(body.Data) == 0 {
		return ""
	}
	for _, e := range body.Data {
		if e.AID == nil || *e.AID != *body.Data[0].AID {
			return ""
		}
	}
	return *body.Data[0].AID
}

// badFilter is the body of POST /micro/bad (Micro's FiltersBad) plus app_id.
type badFilter struct {
	Vendor  *string `json:"vendor"`
	Version *string `json:"version"`
	Limit   *int    `json:"limit"`
	AppID   *string `json:"app_id"`
}

// match reports whether e is a bad event that passes the filters. As in Micro, vendor
// and version only test bad events that have a collector payload.
func (f *badFilter) match(e *entry) bool {
	b := e.bad
	if b == nil {
		return false
	}
	if f.AppID != nil && e.appID != *f.AppID {
		return false
	}
	if b.hasPayload {
		if f.Vendor != nil && b.vendor != *f.Vendor {
			return false
		}
		if f.Version != nil && b.version != *f.Version {
			return false
		}
	}
	return true
}
