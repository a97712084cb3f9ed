package event

import (
	"fmt"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

// TimestampLayout is the TSV text of every timestamp field: UTC, always three fraction
// digits, no "T" and no zone.
const TimestampLayout = "2006-01-02 15:04:05.000"

// ISOLayout is the ISO-8601 form used in JSON: bad-row failure timestamps, RawEvent
// timestamps and the Analytics-SDK JSON (always three fraction digits).
const ISOLayout = "2006-01-02T15:04:05.000Z"

// FormatTimestamp returns the TSV text of t (converted to UTC, truncated to milliseconds).
func FormatTimestamp(t time.Time) string {
	var b [len(TimestampLayout)]byte
	return string(AppendTimestamp(b[:0], t))
}

// AppendTimestamp appends the TSV text of t to dst.
func AppendTimestamp(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, TimestampLayout)
}

// FormatISO returns t as "2006-01-02T15:04:05.000Z" (UTC, milliseconds).
func FormatISO(t time.Time) string {
	var b [len(ISOLayout)]byte
	return string(AppendISO(b[:0], t))
}

// AppendISO appends t as "2006-01-02T15:04:05.000Z" to dst.
func AppendISO(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, ISOLayout)
}

// ParseTimestamp parses the TSV text of a timestamp field ("2006-01-02 15:04:05.000"; one to
// nine fraction digits or none are accepted, as the analytics SDKs do). The result is UTC.
func ParseTimestamp(s string) (time.Time, error) {
	if t, ok := parseTimestampFast(s); ok {
		return t, nil
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing timestamp %q: %w", s, err)
	}
	return t, nil
}

// parseTimestampFast handles the canonical 23-byte form without time.Parse.
func parseTimestampFast(s string) (time.Time, bool) {
	ms, ok := jvm.ParseMillis(s)
	if !ok {
		return time.Time{}, false
	}
	return time.UnixMilli(ms).UTC(), true
}
