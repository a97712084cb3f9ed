package enrich

import (
	"strings"
	"unicode/utf8"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// charset is a character encoding named by a CollectorPayload (Java's Charset).
type charset int

const (
	charsetUTF8 charset = iota
	charsetLatin1
	charsetASCII
)

// String returns the canonical Java name.
func (c charset) String() string {
	switch c {
	case charsetLatin1:
		return "ISO-8859-1"
	case charsetASCII:
		return "US-ASCII"
	}
	return "UTF-8"
}

// lookupCharset resolves an encoding name as Java's Charset.forName does for the charsets
// collectors write. The error text is the exception message Java gives.
func lookupCharset(name string) (charset, string, bool) {
	switch strings.ToUpper(name) {
	case "UTF-8", "UTF8", "UNICODE-1-1-UTF-8":
		return charsetUTF8, "", true
	case "ISO-8859-1", "ISO8859-1", "ISO8859_1", "ISO_8859-1", "ISO_8859_1", "LATIN1", "L1", "8859_1", "ISO-LATIN-1", "CP819", "IBM819", "CSISOLATIN1":
		return charsetLatin1, "", true
	case "US-ASCII", "ASCII", "US", "ISO646-US", "ANSI_X3.4-1968", "CP367", "IBM367", "DEFAULT", "ISO_646.IRV:1991", "CSASCII":
		return charsetASCII, "", true
	case "":
		return 0, "Null charset name", false
	}
	return 0, name, false
}

// decodeBytes decodes b in cs, replacing malformed input with U+FFFD as Java's decoders
// do.
func decodeBytes(cs charset, b []byte) string {
	switch cs {
	case charsetLatin1:
		var sb strings.Builder
		for _, c := range b {
			sb.WriteRune(rune(c))
		}
		return sb.String()
	case charsetASCII:
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

// validUTF8 returns s with invalid UTF-8 replaced, as Java gives a string it decoded from
// bytes.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// parseQueryString reads a raw query string as Snowplow does:
// URLEncodedUtils.parse(URI.create("http://localhost/?" + qs), charset). It fails (with the
// exception message) when the query is not a valid java.net.URI query. Parameters are
// separated by '&' or ';'; names are never empty; a parameter without '=' has a nil value;
// '+' is a space and %XX a byte; the bytes are decoded in cs.
func parseQueryString(qs string, cs charset) ([]event.NVP, error) {
	if qs == "" {
		return nil, nil
	}
	uri, err := parseJavaURI("http://localhost/?" + qs)
	if err != nil {
		return nil, err
	}
	if !uri.hasQuery || uri.query == "" {
		return nil, nil
	}
	return splitQuery(uri.query, cs), nil
}

// splitQuery splits an already validated raw query (URLEncodedUtils.parse on a String).
func splitQuery(q string, cs charset) []event.NVP {
	out := make([]event.NVP, 0, 8+strings.Count(q, "&"))
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
		out = append(out, event.NVP{Name: n, Value: value})
	}
	return out
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
func formDecode(s string, cs charset, buf []byte) (string, []byte) {
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
			u, l := unhex(s[i+1]), unhex(s[i+2])
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
	return decodeBytes(cs, b), b
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

func unhex(c byte) int {
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

// stripInstanceEtc tidies an exception message as Snowplow's JsonUtils.stripInstanceEtc:
// object hashes replaced, tabs to four spaces, ASCII control characters removed, trimmed.
func stripInstanceEtc(msg string) string {
	// "@[0-9a-z]+;" -> "@xxxxxx;"
	if strings.IndexByte(msg, '@') >= 0 {
		var sb strings.Builder
		for i := 0; i < len(msg); i++ {
			if msg[i] == '@' {
				j := i + 1
				for j < len(msg) && (msg[j] >= '0' && msg[j] <= '9' || msg[j] >= 'a' && msg[j] <= 'z') {
					j++
				}
				if j > i+1 && j < len(msg) && msg[j] == ';' {
					sb.WriteString("@xxxxxx;")
					i = j
					continue
				}
			}
			sb.WriteByte(msg[i])
		}
		msg = sb.String()
	}
	msg = strings.ReplaceAll(msg, "\t", "    ")
	msg = removeASCIIControls(msg)
	return javaTrim(msg)
}

// removeASCIIControls removes U+0000–U+001F and U+007F (Java's \p{Cntrl}).
func removeASCIIControls(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if c := s[i]; c >= 0x20 && c != 0x7f {
			b = append(b, c)
		}
	}
	return string(b)
}

// javaTrim is String.trim: leading and trailing chars <= ' ' removed.
func javaTrim(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	return s[i:j]
}
