package event

import (
	"fmt"
	"time"
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
	if len(s) != len(TimestampLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return time.Time{}, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for j := i; j < i+n; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	minute, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	ms, ok7 := num(20, 3)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, ms*int(time.Millisecond), time.UTC), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
