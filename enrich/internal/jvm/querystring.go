package jvm

import (
	"iter"
	"strings"
	"unicode/utf8"
)

// Charset is a character encoding named by a CollectorPayload (Java's Charset).
type Charset int

const (
	UTF8 Charset = iota
	Latin1
	ASCII
)

// String returns the canonical Java name.
func (c Charset) String() string {
	switch c {
	case Latin1:
		return "ISO-8859-1"
	case ASCII:
		return "US-ASCII"
	}
	return "UTF-8"
}

// LookupCharset resolves an encoding name as Java's Charset.forName does for the charsets
// collectors write. The error text is the exception message Java gives.
func LookupCharset(name string) (Charset, string, bool) {
	switch strings.ToUpper(name) {
	case "UTF-8", "UTF8", "UNICODE-1-1-UTF-8":
		return UTF8, "", true
	case "ISO-8859-1", "ISO8859-1", "ISO8859_1", "ISO_8859-1", "ISO_8859_1", "LATIN1", "L1", "8859_1", "ISO-LATIN-1", "CP819", "IBM819", "CSISOLATIN1":
		return Latin1, "", true
	case "US-ASCII", "ASCII", "US", "ISO646-US", "ANSI_X3.4-1968", "CP367", "IBM367", "DEFAULT", "ISO_646.IRV:1991", "CSASCII":
		return ASCII, "", true
	case "":
		return 0, "Null Charset name", false
	}
	return 0, name, false
}

// DecodeBytes decodes b in cs, replacing malformed input with U+FFFD as Java's decoders
// do.
func DecodeBytes(cs Charset, b []byte) string {
	switch cs {
	case Latin1:
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return sb.String()
	case ASCII:
		var sb strings.Builder
		for _, c := range b {
			if c < 0x80 {
				sb.WriteByte(c)
			} else {
				sb.WriteRune(utf8.RuneError)
			}
		}
		return sb.String()
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// ValidUTF8 returns s with invalid UTF-8 replaced, as Java gives a string it decoded from
// bytes.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// QueryOf reads a raw query string as Snowplow does before splitting it:
// URI.create("http://localhost/?" + qs). It fails (with the exception message) when qs is
// not a valid java.net.URI query, and returns the raw query java.net.URI sees ("" when
// none), for SplitQuery: URLEncodedUtils.parse(that URI, charset) is
// SplitQuery(QueryOf(qs), charset).
func QueryOf(qs string) (string, error) {
	if qs == "" {
		return "", nil
	}
	uri, err := ParseURI("http://localhost/?" + qs)
	if err != nil {
		return "", err
	}
	return uri.Query, nil
}

// SplitQuery splits an already validated raw query (URLEncodedUtils.parse on a String),
// yielding each parameter's name and value in order. Parameters are separated by '&' or
// ';'; names are never empty; a parameter without '=' has a nil value; '+' is a space and
// %XX a byte; the bytes are decoded in cs.
func SplitQuery(q string, cs Charset) iter.Seq2[string, *string] {
	return func(yield func(string, *string) bool) {
		var buf []byte
		for i := 0; i < len(q); {
			// name: up to '=', '&' or ';'
			j := i
			for j < len(q) && q[j] != '=' && q[j] != '&' && q[j] != ';' {
				j++
			}
			name := q[i:j]
			var value *string
			if j < len(q) {
				delim := q[j]
				j++
				if delim == '=' {
					k := j
					for k < len(q) && q[k] != '&' && q[k] != ';' {
						k++
					}
					var v string
					v, buf = formDecode(q[j:k], cs, buf)
					value = &v
					j = k
					if j < len(q) {
						j++
					}
				}
			}
			i = j
			name = trimTokenSpace(name)
			if name == "" {
				continue
			}
			var n string
			n, buf = formDecode(name, cs, buf)
			if !yield(n, value) {
				return
			}
		}
	}
}

// trimTokenSpace mimics TokenParser: leading and trailing whitespace dropped, inner runs of
// whitespace collapsed to one space. Raw queries cannot hold whitespace (java.net.URI
// rejects it), so this is the identity in practice.
func trimTokenSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// formDecode is URLEncodedUtils.decodeFormFields: '+' is a space, %XX (hex digits) a byte,
// any other char the low byte of its UTF-16 unit (so raw non-ASCII text is mangled exactly
// as Java mangles it), then the bytes are decoded in cs. buf is scratch space.
func formDecode(s string, cs Charset, buf []byte) (string, []byte) {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		return s, buf
	}
	b := buf[:0]
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '%' && i+3 <= len(s):
			u, l := Unhex(s[i+1]), Unhex(s[i+2])
			if u >= 0 && l >= 0 {
				b = append(b, byte(u<<4|l))
			} else {
				b = append(b, '%', s[i+1], s[i+2])
			}
			i += 3
		case c == '+':
			b = append(b, ' ')
			i++
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r >= 0x10000 {
				r1, r2 := utf16Surrogates(r)
				b = append(b, byte(r1), byte(r2))
			} else {
				b = append(b, byte(r))
			}
			i += size
		}
	}
	return DecodeBytes(cs, b), b
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

func Unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
