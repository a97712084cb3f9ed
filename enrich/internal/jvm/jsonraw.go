package jvm

import (
	"math/bits"
	"strings"
	"unicode/utf8"
)

// Helpers over JSON texts that ParseJSON has accepted: walking members and elements
// without decoding, and printing as circe's noSpaces printer does.

func SkipWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
		i++
	}
	return i
}

// rawSkipString returns the index after the string starting at the quote at i.
func rawSkipString(s string, i int) int {
	j := i + 1
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return len(s)
		}
		j += k
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for b := j - 1; b > i && s[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return j + 1
		}
		j++
	}
}

// rawSkipValue returns the index after the value starting at i (not whitespace).
func rawSkipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return rawSkipString(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				j = rawSkipString(s, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(s)
	}
	j := i
	for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' && s[j] != '\t' && s[j] != '\r' && s[j] != '\n' {
		j++
	}
	return j
}

// RawString decodes the JSON string literal lit (with its quotes).
func RawString(lit string) string {
	inner := lit[1 : len(lit)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		if utf8.ValidString(inner) {
			return inner
		}
		return strings.ToValidUTF8(inner, "\uFFFD")
	}
	p := jsonParser{s: lit, maxDepth: 1}
	v, _, err := p.str(0)
	if err != nil {
		return inner
	}
	return v
}

// RawStringUTF8 is RawString for text already known to be valid UTF-8.
func RawStringUTF8(lit string) string {
	inner := lit[1 : len(lit)-1]
	if strings.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return RawString(lit)
}

// RawMembers calls fn for each member of the object s (trimmed), in text order, with the
// decoded key and the raw value. It returns false if s is not an object.
func RawMembers(s string, fn func(key, val string) bool) bool {
	i := SkipWS(s, 0)
	if i >= len(s) || s[i] != '{' {
		return false
	}
	i = SkipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return true
	}
	for i < len(s) {
		ke := rawSkipString(s, i)
		key := RawString(s[i:ke])
		i = SkipWS(s, ke)
		i = SkipWS(s, i+1) // ':'
		ve := rawSkipValue(s, i)
		if !fn(key, s[i:ve]) {
			return true
		}
		i = SkipWS(s, ve)
		if i >= len(s) || s[i] == '}' {
			return true
		}
		i = SkipWS(s, i+1) // ','
	}
	return true
}

// RawObjectAt is RawMembers for the object starting at s[i] (not whitespace) of the
// valid JSON s: it returns the index after the object, and false when s[i] is not an
// object or fn stopped the walk.
func RawObjectAt(s string, i int, fn func(key, val string) bool) (int, bool) {
	if i >= len(s) || s[i] != '{' {
		return i, false
	}
	i = SkipWS(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for i < len(s) {
		ke := rawSkipString(s, i)
		key := RawString(s[i:ke])
		i = SkipWS(s, ke)
		i = SkipWS(s, i+1) // ':'
		ve := rawSkipValue(s, i)
		if !fn(key, s[i:ve]) {
			return ve, false
		}
		i = SkipWS(s, ve)
		if i >= len(s) || s[i] == '}' {
			return i + 1, true
		}
		i = SkipWS(s, i+1) // ','
	}
	return i, true
}

// RawElements calls fn for each element of the array s (trimmed). It returns false if s is
// not an array.
func RawElements(s string, fn func(el string) bool) bool {
	i := SkipWS(s, 0)
	if i >= len(s) || s[i] != '[' {
		return false
	}
	i = SkipWS(s, i+1)
	if i < len(s) && s[i] == ']' {
		return true
	}
	for i < len(s) {
		ve := rawSkipValue(s, i)
		if !fn(s[i:ve]) {
			return true
		}
		i = SkipWS(s, ve)
		if i >= len(s) || s[i] == ']' {
			return true
		}
		i = SkipWS(s, i+1)
	}
	return true
}

// RawMember returns the raw value of the last member called key of object s.
func RawMember(s, key string) (string, bool) {
	var out string
	found := false
	RawMembers(s, func(k, v string) bool {
		if k == key {
			out, found = v, true
		}
		return true
	})
	return out, found
}

// AppendCanonical appends the valid JSON s as circe prints it with noSpaces: no
// whitespace, members in first-appearance order with the last value of a repeated key,
// strings re-escaped (only ", \, \b \f \n \r \t and \u00XX for other ISO control
// characters), numbers as written except that -0 prints as 0.
func AppendCanonical(dst []byte, s string) []byte {
	// Trackers send compact JSON that is already canonical: checking that is a third of
	// the cost of printing it again.
	if IsCanonical(s) {
		return append(dst, s...)
	}
	return appendCanonicalSlow(dst, s)
}

// IsCanonical reports whether the valid JSON s is printed as AppendCanonical prints it,
// by the check AppendCanonical starts with: true means AppendCanonical(dst, s) appends s
// itself. It may answer false for some canonical texts (AppendCanonical then prints them).
func IsCanonical(s string) bool {
	end, ok := canonicalValue(s, 0, 0)
	return ok && end == len(s)
}

// CanonicalAt reports whether the value at s[i] of a valid UTF-8 text, nested in depth
// containers, is both accepted by ParseJSON there (no container deeper than maxDepth)
// and printed by AppendCanonical exactly as written, and returns the index after it.
// One walk answers what CheckJSON and IsCanonical answer in two; nothing is said of the
// text after the value. It answers false when unsure, as IsCanonical does.
func CanonicalAt(s string, i, depth, maxDepth int) (int, bool) {
	return canonicalCheck(s, i, depth, min(maxDepth, depth+1000))
}

// canonicalCheck is CanonicalAt; maxDepth also holds canonicalValue's bound on nesting.
func canonicalCheck(s string, i, depth, maxDepth int) (int, bool) {
	if i >= len(s) {
		return i, false
	}
	switch c := s[i]; {
	case c == '"':
		return canonicalString(s, i)
	case c == '{':
		if depth >= maxDepth {
			return i, false
		}
		i++
		if i < len(s) && s[i] == '}' {
			return i + 1, true
		}
		var small [maxCanonicalKeys]string
		keys := small[:0]
		for {
			end, ok := canonicalString(s, i)
			if !ok || end >= len(s) || s[end] != ':' || len(keys) == maxCanonicalKeys {
				return i, false
			}
			key := s[i:end]
			for _, k := range keys {
				if k == key {
					return i, false
				}
			}
			keys = append(keys, key)
			if i, ok = canonicalCheck(s, end+1, depth+1, maxDepth); !ok || i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i++
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		i++
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = canonicalCheck(s, i, depth+1, maxDepth); !ok || i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i++
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == 't':
		return i + 4, strings.HasPrefix(s[i:], "true")
	case c == 'f':
		return i + 5, strings.HasPrefix(s[i:], "false")
	case c == 'n':
		return i + 4, strings.HasPrefix(s[i:], "null")
	case c == '-' || c >= '0' && c <= '9':
		j, ok := numberEnd(s, i)
		return j, ok && s[i:j] != "-0"
	}
	return i, false
}

// numberEnd returns the index after the number at s[i] as the JSON parser reads it, and
// false when it would fail.
func numberEnd(s string, i int) (int, bool) {
	j := i
	if s[j] == '-' {
		j++
	}
	switch {
	case j >= len(s):
		return j, false
	case s[j] == '0':
		j++
	case s[j] >= '1' && s[j] <= '9':
		j = digitsEnd(s, j+1)
	default:
		return j, false
	}
	if j < len(s) && s[j] == '.' {
		k := digitsEnd(s, j+1)
		if k == j+1 {
			return k, false
		}
		j = k
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := digitsEnd(s, j)
		if k == j {
			return k, false
		}
		j = k
	}
	return j, true
}

func digitsEnd(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// appendCanonicalSlow is AppendCanonical printing every value.
func appendCanonicalSlow(dst []byte, s string) []byte {
	i := SkipWS(s, 0)
	if i >= len(s) {
		return dst
	}
	return appendCanonicalValue(dst, s[i:rawSkipValue(s, i)])
}

func appendCanonicalValue(dst []byte, v string) []byte {
	switch v[0] {
	case '"':
		return AppendCirceString(dst, RawString(v))
	case '{':
		return appendCanonicalObject(dst, v)
	case '[':
		dst = append(dst, '[')
		n := 0
		RawElements(v, func(el string) bool {
			if n > 0 {
				dst = append(dst, ',')
			}
			n++
			dst = appendCanonicalValue(dst, el)
			return true
		})
		return append(dst, ']')
	}
	if v == "-0" {
		return append(dst, '0')
	}
	return append(dst, v...)
}

type KeyVal struct{ Key, Val string }

func appendCanonicalObject(dst []byte, v string) []byte {
	var small [16]KeyVal
	ms := small[:0]
	var index map[string]int // for large objects
	RawMembers(v, func(k, val string) bool {
		if index != nil {
			if i, ok := index[k]; ok {
				ms[i].Val = val
				return true
			}
			index[k] = len(ms)
		} else {
			for i := range ms {
				if ms[i].Key == k {
					ms[i].Val = val // first position, last value
					return true
				}
			}
			if len(ms) == 32 {
				index = make(map[string]int, 64)
				for i, m := range ms {
					index[m.Key] = i
				}
				index[k] = len(ms)
			}
		}
		ms = append(ms, KeyVal{k, val})
		return true
	})
	dst = append(dst, '{')
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendCirceString(dst, m.Key)
		dst = append(dst, ':')
		dst = appendCanonicalValue(dst, m.Val)
	}
	return append(dst, '}')
}

// maxCanonicalKeys bounds the members of an object canonicalValue checks for repeated
// keys; larger objects take the printing path.
const maxCanonicalKeys = 32

// canonicalValue reports whether the value starting at i of the valid JSON s is printed
// by AppendCanonical exactly as written, and returns the index after it: no whitespace, no
// escape sequence, no character circe escapes (DEL, U+0080 to U+009F), no invalid UTF-8,
// no repeated key and no -0. It answers false when unsure.
func canonicalValue(s string, i, depth int) (int, bool) {
	if i >= len(s) || depth > 1000 {
		return i, false
	}
	switch c := s[i]; {
	case c == '"':
		return canonicalString(s, i)
	case c == '{':
		var small [maxCanonicalKeys]string
		keys := small[:0]
		i++
		if i < len(s) && s[i] == '}' {
			return i + 1, true
		}
		for {
			end, ok := canonicalString(s, i)
			if !ok || end >= len(s) || s[end] != ':' || len(keys) == maxCanonicalKeys {
				return i, false
			}
			key := s[i:end]
			for _, k := range keys {
				if k == key {
					return i, false
				}
			}
			keys = append(keys, key)
			if i, ok = canonicalValue(s, end+1, depth+1); !ok || i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i++
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		i++
		if i < len(s) && s[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = canonicalValue(s, i, depth+1); !ok || i >= len(s) {
				return i, false
			}
			switch s[i] {
			case ',':
				i++
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == 't' || c == 'f' || c == 'n' || c == '-' || (c >= '0' && c <= '9'):
		j := i
		for j < len(s) && s[j] != ',' && s[j] != '}' && s[j] != ']' {
			if b := s[j]; b == ' ' || b == '\t' || b == '\r' || b == '\n' {
				return j, false
			}
			j++
		}
		return j, s[i:j] != "-0"
	}
	return i, false
}

// canonicalString checks the string literal at i as canonicalValue does.
func canonicalString(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '"' {
		return i, false
	}
	for j := i + 1; j < len(s); {
		j = skipCanonicalASCII(s, j)
		if j >= len(s) {
			break
		}
		c := s[j]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				return j + 1, true
			case c == '\\' || c < 0x20 || c == 0x7f:
				return j, false
			}
			j++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) {
			return j, false
		}
		j += size
	}
	return len(s), false
}

// skipCanonicalASCII returns the index of the first byte at or after i that
// canonicalString must look at: a quote, a backslash, a control character, DEL or a
// non-ASCII byte. Eight bytes at a time: these are most of a tracker's JSON.
func skipCanonicalASCII(s string, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ (ones * '"')
		b := x ^ (ones * '\\')
		// A byte is flagged when it is below 0x20 (x-0x20 borrows), DEL or not ASCII
		// (x+1 is at least 0x80, but for 0xFF, whose x-0x20 is) or one of the two (q-1
		// or b-1 borrows). A borrow or carry out of a byte, or a flag of q-1 or b-1 on a
		// byte that is not ASCII, can flag a byte wrongly only at or above a rightly
		// flagged one, so the lowest flag is right.
		if m := ((x - ones*0x20) | (x + ones) | (q - ones) | (b - ones)) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(s) {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 || c >= 0x7f {
			return i
		}
		i++
	}
	return i
}

// AppendCirceString appends s as a JSON string literal the way circe's printer escapes it.
func AppendCirceString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = appendUnicodeEscape(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x80 && r <= 0x9f {
			dst = append(dst, s[start:i]...)
			dst = appendUnicodeEscape(dst, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendUnicodeEscape(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
