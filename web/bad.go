package web

import (
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

// badEvent is Micro's view of one stored bad row: its BadEvent JSON and what the
// filters need.
type badEvent struct {
	json       []byte // {"collectorPayload","rawEvent","errors"}
	hasPayload bool   // collectorPayload is not null
	vendor     string // collectorPayload.api.vendor
	version    string // collectorPayload.api.version
	kind       string // bad-row type, e.g. "schema_violations" ("" when not a bad row)
	row        *badrow.BadRow
	id         int64 // the store's row id
}

// newBadEvent derives Micro's BadEvent from one bad-stream record, rendered into buf's
// memory. A record that is not a bad row is shown too, with the record text as its second
// error, so nothing the pipeline rejected goes unseen.
func newBadEvent(record []byte, buf []byte) *badEvent {
	row, err := badrow.Parse(record)
	if err != nil {
		return &badEvent{json: appendBadJSON(buf[:0], nil, nil, sentenceNotBadRow, record)}
	}
	compact, err := row.Marshal()
	if err != nil {
		compact = record
	}
	b := &badEvent{kind: row.Name(), row: row}

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
	} else if c, found, err := row.CollectorPayload(); found && err == nil {
		cp = c
	}
	if cp != nil {
		b.hasPayload, b.vendor, b.version = true, cp.Vendor, cp.Version
	}
	b.json = appendBadJSON(buf[:0], cp, raw, sentence, compact)
	return b
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

// badFilter is the body of POST /micro/bad (Micro's FiltersBad) plus app_id.
type badFilter struct {
	Vendor  *string `json:"vendor"`
	Version *string `json:"version"`
	Limit   *int    `json:"limit"`
	AppID   *string `json:"app_id"`
}

// match reports whether b passes the vendor and version filters (app_id is the store's
// part). As in Micro, they only test bad events that have a collector payload.
func (f *badFilter) match(b *badEvent) bool {
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
