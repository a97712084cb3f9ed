package jvm

import (
	"encoding/json"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads JSON as Snowplow's enrich does (circe over the jawn parser): the same
// texts are accepted, errors carry jawn's messages, nesting beyond the configured depth is
// refused, and values are printed back as circe's noSpaces printer prints them.
//
// Parsed values have the types the Iglu validator expects: map[string]any, []any, string,
// json.Number, bool and nil. The input is a string so that strings without escapes and
// object keys share its memory instead of being copied.

// JSONError is a JSON parse failure. msg is jawn's message; Snowplow reports it as
// "invalid json: " + msg.
type JSONError struct{ msg string }

func (e *JSONError) Error() string { return "invalid json: " + e.msg }

const msgTooDeep = "maximum allowed JSON depth exceeded"

type jsonParser struct {
	s        string
	maxDepth int
	scanOnly bool // check the text (same errors) without building values
	utf8OK   bool // the text is known to be valid UTF-8
	// top, when set, receives the members of a top-level object: key text (with quotes)
	// and value text.
	top *[]KeyVal
	// With collectTop, the first len(topBuf) members of a top-level object go to
	// topBuf instead, and topN counts them all. They stay in the parser, which does not
	// escape, where a slice given by the caller would be moved to the heap.
	collectTop bool
	topN       int
	topBuf     [4]KeyVal
}

// exhausted is raised (by position) when the input ends inside a value.
const exhausted = "exhausted input"

// ParseJSON parses exactly one JSON value (surrounded by optional whitespace).
func ParseJSON(s string, maxDepth int) (any, *JSONError) {
	return jsonParser{s: s, maxDepth: maxDepth}.parse()
}

// ParseValidJSON is ParseJSON for text known to be valid UTF-8.
func ParseValidJSON(s string, maxDepth int) (any, *JSONError) {
	return jsonParser{s: s, maxDepth: maxDepth, utf8OK: true}.parse()
}

// CheckJSON is ParseJSON without building the value: it reports the same errors. When
// the text is an object, its members are appended to top (raw key and value texts).
func CheckJSON(s string, maxDepth int, top *[]KeyVal) *JSONError {
	_, err := jsonParser{s: s, maxDepth: maxDepth, scanOnly: true, top: top}.parse()
	return err
}

// CheckValidJSON is CheckJSON for text known to be valid UTF-8.
func CheckValidJSON(s string, maxDepth int, top *[]KeyVal) *JSONError {
	_, err := jsonParser{s: s, maxDepth: maxDepth, scanOnly: true, utf8OK: true, top: top}.parse()
	return err
}

// CheckValidJSONTop is CheckValidJSON returning the members of a top-level object
// (n of them; the first len(top) are in top) without allocating.
func CheckValidJSONTop(s string, maxDepth int) (top [4]KeyVal, n int, err *JSONError) {
	p := jsonParser{s: s, maxDepth: maxDepth, scanOnly: true, utf8OK: true, collectTop: true}
	_, err = p.run()
	return p.topBuf, p.topN, err
}

func (p jsonParser) parse() (any, *JSONError) { return p.run() }

func (p *jsonParser) run() (any, *JSONError) {
	s := p.s
	i := p.skipWS(0)
	if i >= len(s) {
		return nil, &JSONError{exhausted}
	}
	v, j, err := p.value(i, 0)
	if err != nil {
		return nil, err
	}
	for j < len(s) {
		switch s[j] {
		case ' ', '\t', '\r', '\n':
			j++
		default:
			return nil, p.die(j, "expected whitespace or eof")
		}
	}
	return v, nil
}

func (p *jsonParser) skipWS(i int) int {
	for i < len(p.s) {
		switch p.s[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// die builds jawn's message: msg got 'context' (line L, column C), with up to six
// characters of context ("eof" at the end of the input).
func (p *jsonParser) die(i int, msg string) *JSONError { return p.dieN(i, msg, 6) }

func (p *jsonParser) dieN(i int, msg string, n int) *JSONError {
	line := 1
	lineStart := 0
	for k := 0; k < i && k < len(p.s); k++ {
		if p.s[k] == '\n' {
			line++
			lineStart = k + 1
		}
	}
	col := UTF16Len(p.s[lineStart:min(i, len(p.s))]) + 1
	var got string
	if i >= len(p.s) {
		got = "eof"
	} else {
		j := i
		for c := 0; c < n && j < len(p.s); c++ {
			_, size := utf8.DecodeRuneInString(p.s[j:])
			j += size
		}
		if j >= len(p.s) {
			got = "'" + p.s[i:j] + "'"
		} else {
			got = "'" + p.s[i:j] + "...'"
		}
	}
	return &JSONError{msg + " got " + got + " (line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ")"}
}

// UTF16Len is Java's String.length: the UTF-16 units of s (an invalid byte counts as one,
// the U+FFFD Java decodes it to).
func UTF16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

// value parses the value starting at i (not whitespace) at nesting depth depth.
func (p *jsonParser) value(i, depth int) (any, int, *JSONError) {
	s := p.s
	switch c := s[i]; {
	case c == '{':
		return p.object(i, depth+1)
	case c == '[':
		return p.array(i, depth+1)
	case c == '"':
		str, j, err := p.str(i)
		return str, j, err
	case c == '-' || (c >= '0' && c <= '9'):
		j, err := p.number(i)
		if err != nil {
			return nil, 0, err
		}
		if p.scanOnly {
			return nil, j, nil
		}
		return json.Number(s[i:j]), j, nil
	case c == 't':
		if err := p.literal(i, "true"); err != nil {
			return nil, 0, err
		}
		return true, i + 4, nil
	case c == 'f':
		if err := p.literal(i, "false"); err != nil {
			return nil, 0, err
		}
		return false, i + 5, nil
	case c == 'n':
		if err := p.literal(i, "null"); err != nil {
			return nil, 0, err
		}
		return nil, i + 4, nil
	}
	return nil, 0, p.die(i, "expected json value")
}

func (p *jsonParser) literal(i int, lit string) *JSONError {
	for k := 1; k < len(lit); k++ {
		if i+k >= len(p.s) {
			return &JSONError{exhausted}
		}
		if p.s[i+k] != lit[k] {
			return p.die(i, "expected "+lit)
		}
	}
	return nil
}

func (p *jsonParser) number(i int) (int, *JSONError) {
	s := p.s
	j := i
	at := func(k int) (byte, bool) {
		if k < len(s) {
			return s[k], true
		}
		return 0, false
	}
	c, ok := at(j)
	if c == '-' {
		j++
		if c, ok = at(j); !ok {
			return 0, &JSONError{exhausted}
		}
	}
	switch {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		for j++; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		}
	default:
		return 0, p.die(i, "expected digit")
	}
	if c, ok = at(j); ok && c == '.' {
		j++
		if c, ok = at(j); !ok {
			return 0, &JSONError{exhausted}
		}
		if c < '0' || c > '9' {
			return 0, p.die(i, "expected digit")
		}
		for j++; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		}
	}
	if c, ok = at(j); ok && (c == 'e' || c == 'E') {
		j++
		if c, ok = at(j); ok && (c == '+' || c == '-') {
			j++
			c, ok = at(j)
		}
		if !ok {
			return 0, &JSONError{exhausted}
		}
		if c < '0' || c > '9' {
			return 0, p.die(i, "expected digit")
		}
		for j++; j < len(s) && s[j] >= '0' && s[j] <= '9'; j++ {
		}
	}
	return j, nil
}

// str parses the string starting at the quote at i.
func (p *jsonParser) str(i int) (string, int, *JSONError) {
	s := p.s
	j := skipPlain(s, i+1)
	for {
		if j >= len(s) {
			return "", 0, &JSONError{exhausted}
		}
		c := s[j]
		if c == '"' {
			if p.scanOnly {
				return "", j + 1, nil
			}
			v := s[i+1 : j]
			if !p.utf8OK && !utf8.ValidString(v) {
				v = strings.ToValidUTF8(v, "\uFFFD")
			}
			return v, j + 1, nil
		}
		if c < 0x20 {
			return "", 0, p.dieN(j, "control char ("+strconv.Itoa(int(c))+") in string", 1)
		}
		if c == '\\' {
			break
		}
		j++
	}
	// slow path: escapes
	var b []byte
	b = append(b, s[i+1:j]...)
	for {
		if j >= len(s) {
			return "", 0, &JSONError{exhausted}
		}
		c := s[j]
		switch {
		case c == '"':
			if p.scanOnly {
				return "", j + 1, nil
			}
			v := string(b)
			if !utf8.ValidString(v) {
				v = strings.ToValidUTF8(v, "\uFFFD")
			}
			return v, j + 1, nil
		case c < 0x20:
			return "", 0, p.dieN(j, "control char ("+strconv.Itoa(int(c))+") in string", 1)
		case c != '\\':
			b = append(b, c)
			j++
			continue
		}
		if j+1 >= len(s) {
			return "", 0, &JSONError{exhausted}
		}
		switch e := s[j+1]; e {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case '"', '/', '\\':
			b = append(b, e)
		case 'u':
			r, err := p.hex4(j, j+2)
			if err != nil {
				return "", 0, err
			}
			j += 6
			if utf16.IsSurrogate(r) && r < 0xDC00 && j+5 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
				r2, err := p.hex4(j, j+2)
				if err != nil {
					return "", 0, err
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					b = utf8.AppendRune(b, dec)
					j += 6
					continue
				}
			}
			b = utf8.AppendRune(b, r) // a lone surrogate becomes U+FFFD
			continue
		default:
			return "", 0, p.dieN(j, "invalid escape sequence (\\"+string(rune(e))+")", 1)
		}
		j += 2
	}
}

func (p *jsonParser) hex4(pos, at int) (rune, *JSONError) {
	if at+4 > len(p.s) {
		return 0, &JSONError{exhausted}
	}
	var r rune
	for k := at; k < at+4; k++ {
		v := Unhex(p.s[k])
		if v < 0 {
			return 0, p.die(pos, "expected valid unicode escape")
		}
		r = r<<4 | rune(v)
	}
	return r, nil
}

func (p *jsonParser) object(i, depth int) (any, int, *JSONError) {
	if depth > p.maxDepth {
		return nil, 0, &JSONError{msgTooDeep}
	}
	s := p.s
	var m map[string]any
	if !p.scanOnly {
		m = make(map[string]any)
	}
	j := p.skipWS(i + 1)
	if j >= len(s) {
		return nil, 0, &JSONError{exhausted}
	}
	if s[j] == '}' {
		return m, j + 1, nil
	}
	for {
		if s[j] != '"' {
			return nil, 0, p.die(j, `expected "`)
		}
		keyStart := j
		k, next, err := p.str(j)
		if err != nil {
			return nil, 0, err
		}
		keyEnd := next
		j = p.skipWS(next)
		if j >= len(s) {
			return nil, 0, &JSONError{exhausted}
		}
		if s[j] != ':' {
			return nil, 0, p.die(j, "expected :")
		}
		j = p.skipWS(j + 1)
		if j >= len(s) {
			return nil, 0, &JSONError{exhausted}
		}
		v, next, err := p.value(j, depth)
		if err != nil {
			return nil, 0, err
		}
		if m != nil {
			m[k] = v
		}
		if depth == 1 && p.top != nil {
			*p.top = append(*p.top, KeyVal{Key: s[keyStart:keyEnd], Val: s[j:next]})
		}
		if depth == 1 && p.collectTop {
			if p.topN < len(p.topBuf) {
				p.topBuf[p.topN] = KeyVal{Key: s[keyStart:keyEnd], Val: s[j:next]}
			}
			p.topN++
		}
		j = p.skipWS(next)
		if j >= len(s) {
			return nil, 0, &JSONError{exhausted}
		}
		switch s[j] {
		case ',':
			j = p.skipWS(j + 1)
			if j >= len(s) {
				return nil, 0, &JSONError{exhausted}
			}
		case '}':
			return m, j + 1, nil
		default:
			return nil, 0, p.die(j, "expected } or ,")
		}
	}
}

func (p *jsonParser) array(i, depth int) (any, int, *JSONError) {
	if depth > p.maxDepth {
		return nil, 0, &JSONError{msgTooDeep}
	}
	s := p.s
	var a []any
	if !p.scanOnly {
		a = make([]any, 0, 4)
	}
	j := p.skipWS(i + 1)
	if j >= len(s) {
		return nil, 0, &JSONError{exhausted}
	}
	if s[j] == ']' {
		return a, j + 1, nil
	}
	for {
		v, next, err := p.value(j, depth)
		if err != nil {
			return nil, 0, err
		}
		if !p.scanOnly {
			a = append(a, v)
		}
		j = p.skipWS(next)
		if j >= len(s) {
			return nil, 0, &JSONError{exhausted}
		}
		switch s[j] {
		case ',':
			j = p.skipWS(j + 1)
			if j >= len(s) {
				return nil, 0, &JSONError{exhausted}
			}
		case ']':
			return a, j + 1, nil
		default:
			return nil, 0, p.die(j, "expected ] or ,")
		}
	}
}

// skipPlain returns the index of the first byte at or after i that is a quote, a
// backslash or a control character (or len(s)). Short strings (keys, most values) are
// scanned eight bytes at a time; past 64 bytes, the quote and the backslash are found
// with strings.IndexByte (vector instructions) and only control characters are looked
// for eight bytes at a time.
func skipPlain(s string, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for n := 0; n < 8 && i+8 <= len(s); n, i = n+1, i+8 {
		w := s[i : i+8] // one bounds check for the eight bytes
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ (ones * '"')
		b := x ^ (ones * '\\')
		// A byte is flagged when it is below 0x20 or equals one of the two; a flag can
		// be wrong only above a right one, so the lowest is the byte sought.
		if m := ((x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	if i+8 > len(s) {
		return skipPlainBytes(s, i)
	}
	end := len(s)
	if q := strings.IndexByte(s[i:], '"'); q >= 0 {
		end = i + q
	}
	if b := strings.IndexByte(s[i:end], '\\'); b >= 0 {
		end = i + b
	}
	// A base64 cx or ue_px is a kilobyte or more: 32 bytes a round, testing the four
	// words' flags at once (any flag of a word means a control character in it), and the
	// block with one is searched eight bytes at a time below.
	for ; i+32 <= end; i += 32 {
		w := s[i : i+32]
		x0 := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		x1 := uint64(w[8]) | uint64(w[9])<<8 | uint64(w[10])<<16 | uint64(w[11])<<24 |
			uint64(w[12])<<32 | uint64(w[13])<<40 | uint64(w[14])<<48 | uint64(w[15])<<56
		x2 := uint64(w[16]) | uint64(w[17])<<8 | uint64(w[18])<<16 | uint64(w[19])<<24 |
			uint64(w[20])<<32 | uint64(w[21])<<40 | uint64(w[22])<<48 | uint64(w[23])<<56
		x3 := uint64(w[24]) | uint64(w[25])<<8 | uint64(w[26])<<16 | uint64(w[27])<<24 |
			uint64(w[28])<<32 | uint64(w[29])<<40 | uint64(w[30])<<48 | uint64(w[31])<<56
		if ((x0-ones*0x20)&^x0|(x1-ones*0x20)&^x1|(x2-ones*0x20)&^x2|(x3-ones*0x20)&^x3)&highs != 0 {
			break
		}
	}
	for ; i+8 <= end; i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if m := (x - ones*0x20) &^ x & highs; m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for ; i < end; i++ {
		if s[i] < 0x20 {
			return i
		}
	}
	return end
}

// skipPlainBytes is skipPlain byte by byte.
func skipPlainBytes(s string, i int) int {
	for i < len(s) {
		if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
		i++
	}
	return i
}

// ReadString reads the JSON string at s[i] as RawStringUTF8 does, checking it as the
// JSON parser does (no control character, valid escapes). It returns the value and the
// index after the string.
func ReadString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	j := skipPlain(s, i+1)
	if j < len(s) && s[j] == '"' {
		return s[i+1 : j], j + 1, true
	}
	jp := jsonParser{s: s, maxDepth: 1}
	v, next, err := jp.str(i)
	if err != nil {
		return "", 0, false
	}
	return v, next, true
}
