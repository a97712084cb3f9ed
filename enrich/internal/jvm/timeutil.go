package jvm

import "strconv"

// Timestamps are handled as milliseconds since the epoch with proleptic Gregorian
// arithmetic (Joda-Time's ISO chronology, year 0 = 1 BC), so that the full range of a Java
// long formats as Joda formats it.

const (
	msPerDay  = 86_400_000
	febLeapMs = (31 + 29 - 1) * msPerDay // offset of Feb 29 from the start of a leap year
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// civilFromDays converts days since 1970-01-01 to a proleptic Gregorian date.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil converts a proleptic Gregorian date to days since 1970-01-01.
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mm := int64(m)
	if m > 2 {
		mm -= 3
	} else {
		mm += 9
	}
	doy := (153*mm+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// CivilYear returns the year of an instant.
func CivilYear(ms int64) int64 {
	y, _, _ := civilFromDays(floorDiv(ms, msPerDay))
	return y
}

// fields splits an instant into date and millisecond of day.
func fields(ms int64) (y int64, m, d int, msOfDay int64) {
	days := floorDiv(ms, msPerDay)
	y, m, d = civilFromDays(days)
	return y, m, d, ms - days*msPerDay
}

func instant(y int64, m, d int, msOfDay int64) int64 {
	return daysFromCivil(y, m, d)*msPerDay + msOfDay
}

// appendMillis appends ms as "yyyy-MM-dd HH:mm:ss.SSS" (Joda's yyyy: at least four digits,
// a minus sign for negative years).
func appendMillis(b []byte, ms int64) []byte {
	y, m, d, t := fields(ms)
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	if y < 1000 {
		b = append(b, '0')
		if y < 100 {
			b = append(b, '0')
			if y < 10 {
				b = append(b, '0')
			}
		}
	}
	b = strconv.AppendInt(b, y, 10)
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, ' ')
	b = append2(b, int(t/3_600_000))
	b = append(b, ':')
	b = append2(b, int(t/60_000%60))
	b = append(b, ':')
	b = append2(b, int(t/1000%60))
	b = append(b, '.')
	ms3 := int(t % 1000)
	return append(b, byte('0'+ms3/100), byte('0'+ms3/10%10), byte('0'+ms3%10))
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// FormatMillis returns appendMillis as a string.
func FormatMillis(ms int64) string {
	var buf [32]byte
	return string(appendMillis(buf[:0], ms))
}

// appendISOMillis appends ms as Joda's ISO instant "yyyy-MM-ddTHH:mm:ss.SSSZ".
func appendISOMillis(b []byte, ms int64) []byte {
	n := len(b)
	b = appendMillis(b, ms)
	for i := n; i < len(b); i++ {
		if b[i] == ' ' {
			b[i] = 'T'
			break
		}
	}
	return append(b, 'Z')
}

// ParseMillis parses "yyyy-MM-dd HH:mm:ss.SSS" (as written by appendMillis, 4-digit
// years) back into milliseconds. Every field must be in range: no 24th hour, no 60th second
// and no February 30.
func ParseMillis(s string) (int64, bool) {
	if len(s) != 23 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return 0, false
	}
	num := func(a, b int) (int, bool) {
		v := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 7)
	d, ok3 := num(8, 10)
	h, ok4 := num(11, 13)
	mi, ok5 := num(14, 16)
	se, ok6 := num(17, 19)
	ms, ok7 := num(20, 23)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		mo < 1 || mo > 12 || d < 1 || d > daysInMonth(int64(y), mo) || h > 23 || mi > 59 || se > 59 {
		return 0, false
	}
	return instant(int64(y), mo, d, int64(h)*3_600_000+int64(mi)*60_000+int64(se)*1000+int64(ms)), true
}

// MinusPeriod returns t minus the Joda Period between start and end (start <= end): the
// period's years, then its months, then its exact remainder, as DateTime.minus(Period) does.
func MinusPeriod(t, start, end int64) int64 {
	years, months, rest := jodaPeriod(start, end)
	t = addYears(t, -years)
	t = addMonths(t, -months)
	return t - rest
}

// jodaPeriod splits [start, end] (start <= end) as new Period(start, end) does with the
// standard period type: whole years, then whole months, then an exact remainder of
// milliseconds (weeks, days and time fields all have fixed lengths in UTC).
func jodaPeriod(start, end int64) (years, months int64, rest int64) {
	years = yearDifference(end, start)
	if years != 0 {
		start = addYears(start, years)
	}
	months = monthDifference(end, start)
	if months != 0 {
		start = addMonths(start, months)
	}
	return years, months, end - start
}

// yearDifference is Joda's BasicChronology.getYearDifference (minuend >= subtrahend).
func yearDifference(minuend, subtrahend int64) int64 {
	my := CivilYear(minuend)
	sy := CivilYear(subtrahend)
	mRem := minuend - instant(my, 1, 1, 0)
	sRem := subtrahend - instant(sy, 1, 1, 0)
	if sRem >= febLeapMs {
		if isLeap(sy) {
			if !isLeap(my) {
				sRem -= msPerDay
			}
		} else if mRem >= febLeapMs && isLeap(my) {
			mRem -= msPerDay
		}
	}
	diff := my - sy
	if mRem < sRem {
		diff--
	}
	return diff
}

// monthDifference is Joda's BasicMonthOfYearDateTimeField.getDifferenceAsLong
// (minuend >= subtrahend).
func monthDifference(minuend, subtrahend int64) int64 {
	my, mm, md, _ := fields(minuend)
	sy, sm, sd, st := fields(subtrahend)
	diff := (my-sy)*12 + int64(mm-sm)
	if md == daysInMonth(my, mm) && sd > md {
		subtrahend = instant(sy, sm, md, st)
	}
	mRem := minuend - instant(my, mm, 1, 0)
	sRem := subtrahend - instant(sy, sm, 1, 0)
	if mRem < sRem {
		diff--
	}
	return diff
}

// addYears is Joda's year-field add: same day of year, Feb 29 becoming Feb 28 (and days
// after it shifting) between leap and common years.
func addYears(ms, n int64) int64 {
	if n == 0 {
		return ms
	}
	y, m, d, t := fields(ms)
	doy := daysFromCivil(y, m, d) - daysFromCivil(y, 1, 1) + 1
	ny := y + n
	if doy > 31+28 {
		if isLeap(y) {
			if !isLeap(ny) {
				doy--
			}
		} else if isLeap(ny) {
			doy++
		}
	}
	return (daysFromCivil(ny, 1, 1)+doy-1)*msPerDay + t
}

// addMonths is Joda's month-field add: the day of month clamped to the target month.
func addMonths(ms, n int64) int64 {
	if n == 0 {
		return ms
	}
	y, m, d, t := fields(ms)
	total := y*12 + int64(m-1) + n
	ny := floorDiv(total, 12)
	nm := int(total-ny*12) + 1
	if dim := daysInMonth(ny, nm); d > dim {
		d = dim
	}
	return instant(ny, nm, d, t)
}
