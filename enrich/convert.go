package enrich

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

// This file holds the conversions Snowplow's Transform applies to tracker parameters, with
// the acceptance rules of the Java functions it calls and its error messages.

// Conversion failure messages (AtomicError.ParseError messages of enrich).
const (
	msgNotInteger  = "Cannot be converted to java.lang.Integer"
	msgNotDecimal  = "Cannot be converted to java.math.BigDecimal. Error : "
	msgNotBoolean  = "Cannot be converted to Boolean-like java.lang.Byte"
	msgNotTstamp   = "Not in the expected format: ms since epoch"
	msgNotUUID     = "Not a valid UUID"
	msgNotEvent    = "Not a valid event type"
	msgNotPlatform = "Not a valid platform"
	msgDimsRegex   = `Does not conform to regex (\d+)x(\d+)`
	msgDimsInt     = "Could not be converted to java.lang.Integer s"
)

// tsvSafe is Snowplow's makeTsvSafe: each TAB becomes four spaces, then every ASCII control
// character (U+0000–U+001F, U+007F) is removed. "" means null.
func tsvSafe(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return tsvSafeSlow(s, i)
		}
	}
	return s
}

func tsvSafeSlow(s string, i int) string {
	b := make([]byte, 0, len(s)+8)
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\t':
			b = append(b, "    "...)
		case c < 0x20 || c == 0x7f:
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// parseJavaInt is Integer.parseInt (radix 10): an optional sign and at least one decimal
// digit (any Unicode Nd digit), in the 32-bit range.
func parseJavaInt(s string) (int32, bool) {
	v, ok := parseJavaLong(s)
	if !ok || v < -1<<31 || v > 1<<31-1 {
		return 0, false
	}
	return int32(v), true
}

// parseJavaLong is Long.parseLong (radix 10).
func parseJavaLong(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	i := 0
	neg := false
	switch s[0] {
	case '-':
		neg = true
		i++
	case '+':
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v uint64
	const limit = 1 << 63
	for i < len(s) {
		var d int
		if c := s[i]; c < utf8.RuneSelf {
			if c < '0' || c > '9' {
				return 0, false
			}
			d = int(c - '0')
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			if d = jvm.Digit(r); d < 0 {
				return 0, false
			}
			i += size
		}
		if v > (limit-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if neg {
		if v > limit {
			return 0, false
		}
		return -int64(v), true
	}
	if v > limit-1 {
		return 0, false
	}
	return int64(v), true
}

// convInt is stringToJInteger: "null" (any case) is null, else Integer.parseInt.
func convInt(s string) (string, string) {
	if strings.EqualFold(s, "null") {
		return "", ""
	}
	v, ok := parseJavaInt(s)
	if !ok {
		return "", msgNotInteger
	}
	return strconv.FormatInt(int64(v), 10), ""
}

// convDecimal is stringToJBigDecimal: "null" (any case) is null, else new BigDecimal(s),
// rescaled to scale 0 when its scale is negative, printed with toString.
func convDecimal(s string) (string, string) {
	if strings.EqualFold(s, "null") {
		return "", ""
	}
	d, errMsg := jvm.ParseBigDecimal(s)
	if errMsg != "" {
		return "", msgNotDecimal + errMsg
	}
	if d.Scale() < 0 {
		d = d.RescaleToZero()
	}
	return d.String(), ""
}

// convBool is stringToBooleanLikeJByte: only "1" and "0".
func convBool(s string) (string, string) {
	if s == "1" || s == "0" {
		return s, ""
	}
	return "", msgNotBoolean
}

// convUUID is validateUuid: a UUID in canonical 8-4-4-4-12 form (hex digits of any case),
// stored lower-cased.
func convUUID(s string) (string, string) {
	upper, ok := uuidText(s)
	if !ok {
		return "", msgNotUUID
	}
	if upper {
		return strings.ToLower(s), ""
	}
	return s, ""
}

// uuidText reports whether s is a UUID in 8-4-4-4-12 form with hex digits of any case,
// and whether any of them is upper case.
func uuidText(s string) (upper, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false, false
	}
	var seen uint8
	for i := 0; i < 36; i++ {
		if i != 8 && i != 13 && i != 18 && i != 23 {
			seen |= uuidChar[s[i]]
		}
	}
	return seen&hexUpper != 0, seen&notHex == 0
}

// uuidChar classifies the bytes of a UUID text.
var uuidChar = func() (t [256]uint8) {
	for i := range t {
		t[i] = notHex
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 0
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = 0
	}
	for c := 'A'; c <= 'F'; c++ {
		t[c] = hexUpper
	}
	return t
}()

const (
	notHex uint8 = 1 << iota
	hexUpper
)

// convTstamp is extractTimestamp: milliseconds since the epoch (Long.parseLong) printed as
// yyyy-MM-dd HH:mm:ss.SSS UTC; years outside 0..9999 are not Redshift-compatible.
func convTstamp(s string) (string, string) {
	ms, ok := parseJavaLong(s)
	if !ok {
		return "", msgNotTstamp
	}
	ts := jvm.FormatMillis(ms)
	if y := jvm.CivilYear(ms); y < 0 || y > 9999 {
		return "", "Formatting as " + ts + " is not Redshift-compatible"
	}
	return ts, ""
}

// convDims is extractViewDimensions: (\d+)x(\d+) over the whole value, each part an int.
func convDims(s string) (w, h string, msg string) {
	x := strings.IndexByte(s, 'x')
	if x <= 0 || x == len(s)-1 || !asciiDigits(s[:x]) || !asciiDigits(s[x+1:]) {
		// The regex is greedy but \d never matches 'x', so the first x is the split.
		return "", "", msgDimsRegex
	}
	wv, ok1 := parseJavaInt(s[:x])
	hv, ok2 := parseJavaInt(s[x+1:])
	if !ok1 || !ok2 {
		return "", "", msgDimsInt
	}
	return intText(s[:x], wv), intText(s[x+1:], hv), ""
}

// intText is strconv.Itoa of v, the value of the digits s: s itself unless it has a
// leading zero.
func intText(s string, v int32) string {
	if len(s) == 1 || s[0] != '0' {
		return s
	}
	return strconv.Itoa(int(v))
}

func asciiDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// eventTypes maps the e parameter to the event field (extractEventType).
func eventType(code string) (string, bool) {
	switch code {
	case "se", "ev":
		return "struct", true
	case "ue":
		return "unstruct", true
	case "ad":
		return "ad_impression", true
	case "tr":
		return "transaction", true
	case "ti":
		return "transaction_item", true
	case "pv":
		return "page_view", true
	case "pp":
		return "page_ping", true
	}
	return "", false
}

// validPlatform reports whether p is one of the platforms extractPlatform accepts.
func validPlatform(p string) bool {
	switch p {
	case "web", "iot", "app", "mob", "pc", "cnsl", "tv", "srv", "headset":
		return true
	}
	return false
}

// firstIP is extractIp: the value split on ',', '|' or ' ' and the first piece kept (Java's
// String.split, so a leading separator gives an empty first piece, and a value made only
// of separators gives nothing), then made TSV-safe.
func firstIP(s string) string {
	if i := strings.IndexAny(s, ",| "); i >= 0 {
		s = s[:i]
	}
	return tsvSafe(s)
}

// derivedTstamp is EventEnrichments.getDerivedTimestamp on the TSV texts: true_tstamp when
// set; else, when dvce_created < dvce_sent, collector_tstamp minus the Joda Period between
// them; else collector_tstamp.
func derivedTstamp(sent, created, collector, trueTs string, parseMillis func(string) (int64, bool)) string {
	if trueTs != "" {
		return trueTs
	}
	if sent == "" || created == "" || collector == "" {
		return collector
	}
	start, ok1 := jvm.ParseMillis(created)
	end, ok2 := parseMillis(sent)
	ct, ok3 := parseMillis(collector)
	if !ok1 || !ok2 || !ok3 || start >= end {
		return collector
	}
	return jvm.FormatMillis(jvm.MinusPeriod(ct, start, end))
}
