package web

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
)

// Artifact is the processor artifact of the size_violation bad rows the test API makes
// of bad events too large for its per-event cap (see Config.MaxEventBytes).
const Artifact = "snowplow-mini-web"

// entryOverhead is what one stored event costs besides its strings: the entry, the
// event struct, its slot in a chunk and the allocator's rounding, roughly.
const entryOverhead = 256

// eventLimit is the per-event cap applied to what the store keeps of one event. The
// zero value applies no cap.
type eventLimit struct {
	maxBytes  int
	processor badrow.Processor
	now       func() time.Time
}

// keep is how many bytes of one long string an over-cap event keeps: a tenth of the
// cap, as Snowplow's size_violation bad rows keep a tenth of the record.
func (l eventLimit) keep() int { return l.maxBytes / 10 }

// truncateMarked returns s when it is at most n bytes; else its first n bytes (never
// splitting a character) followed by a mark saying how long s was.
func truncateMarked(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[truncated by snowplow-mini: " + strconv.Itoa(len(s)) + " bytes in all]"
}

// truncateParams returns ps with every value longer than n truncated (see
// truncateMarked); ps itself is not changed. It reports whether anything was cut.
func truncateParams(ps []event.NVP, n int) ([]event.NVP, bool) {
	var out []event.NVP
	for i, p := range ps {
		if p.Value == nil || len(*p.Value) <= n {
			continue
		}
		if out == nil {
			out = append([]event.NVP(nil), ps...)
		}
		v := truncateMarked(*p.Value, n)
		out[i].Value = &v
	}
	if out == nil {
		return ps, false
	}
	return out, true
}

// limitBadJSON renders Micro's BadEvent of a bad row whose full rendering is larger than
// the cap. What it keeps, in order of preference:
//   - errors[0], the sentence, as it is;
//   - errors[1]: a size_violation bad row (processor snowplow-mini-web) whose failure
//     gives the cap and the original row's size, and whose payload is the first tenth of
//     the cap of the original bad row (the failure messages come before the payload in
//     every bad row, so they usually survive);
//   - collectorPayload and rawEvent with the request body, query-string values and
//     parameter values each cut to a tenth of the cap, with a truncation mark.
//
// When that is still over the cap (thousands of parameters), collectorPayload and
// rawEvent become null, then the size_violation's payload is emptied: the answer always
// fits the cap.
func limitBadJSON(cp *badrow.CollectorPayload, raw *event.RawEvent, sentence string, record []byte, lim eventLimit) []byte {
	keep := lim.keep()
	sv := badrow.SizeViolation{
		Processor:               lim.processor,
		Timestamp:               lim.now().UTC(),
		MaximumAllowedSizeBytes: lim.maxBytes,
		ActualSizeBytes:         len(record),
		Expectation: "bad row exceeds the test API's per-event limit of " + strconv.Itoa(lim.maxBytes) +
			" bytes (web.maxEventBytes): the payload keeps its first " + strconv.Itoa(keep) + " bytes",
		Payload: badrow.TruncatePayload(string(record), lim.maxBytes),
	}
	row, _ := sv.Marshal() // SizeViolation.Marshal cannot fail
	if cp != nil {
		c := *cp
		c.Body = truncateMarked(c.Body, keep)
		c.Querystring, _ = truncateParams(c.Querystring, keep)
		cp = &c
	}
	if raw != nil {
		r := *raw
		r.Parameters, _ = truncateParams(r.Parameters, keep)
		raw = &r
	}
	out := appendBadJSON(nil, cp, raw, sentence, row)
	if len(out) <= lim.maxBytes {
		return out
	}
	out = appendBadJSON(out[:0], nil, nil, sentence, row)
	if len(out) <= lim.maxBytes {
		return out
	}
	sv.Payload = ""
	row, _ = sv.Marshal()
	return appendBadJSON(out[:0], nil, nil, sentence, row)
}
