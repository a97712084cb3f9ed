package jvm

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"strings"
)

// DecodeBase64 decodes s as Apache commons-codec's Base64(urlSafe = true).decode does, which
// is how Snowplow reads cx and ue_px: both alphabets (+/ and -_) are accepted, characters
// outside the alphabet are skipped, the first '=' ends the input, and leftover bits at the
// end are dropped (one leftover character is ignored entirely). It never fails. The decoded
// bytes are appended to dst.
func DecodeBase64(dst []byte, s string) []byte {
	dst, _ = DecodeBase64Exact(dst, s)
	return dst
}

// rawURLStrict reads what trackers send: the URL-safe alphabet, no padding, no other
// character, and zero bits after the last whole byte.
var rawURLStrict = base64.RawURLEncoding.Strict()

// DecodeBase64Exact is DecodeBase64, also telling whether s is exactly the unpadded
// URL-safe encoding of the bytes appended (EncodeBase64URL gives s back from them): then
// base64.RawURLEncoding.Strict() reads s as the same bytes, and every decoder agrees.
func DecodeBase64Exact(dst []byte, s string) ([]byte, bool) {
	start := len(dst)
	// Whole blocks of eight alphabet characters decode to six bytes whatever follows
	// them, so the longest run of such blocks is decoded first, with no per-character
	// branch, and the rest (usually a final group of two to seven characters) goes on
	// as below.
	dst, i := decodeBase64Blocks(dst, s)
	blocks, rest := s[:i], s[i:]
	// The blocks take either alphabet: they are exact only without '+' and '/'.
	// The strict reader skips line breaks: the length tells them.
	exact := func(dst []byte) bool {
		return base64.RawURLEncoding.EncodedLen(len(dst)-start) == len(s) &&
			strings.IndexByte(blocks, '+') < 0 && strings.IndexByte(blocks, '/') < 0
	}
	if rest == "" {
		return dst, exact(dst)
	}
	// What trackers send (URL-safe alphabet, no padding, whole groups or a final group
	// of two or three characters) the standard library decodes to the same bytes, several
	// times faster. It rejects anything else (another alphabet, '=', a lone final
	// character) and leaves no trace of its attempt: decodeBase64Lenient then decides.
	// The strict reading is tried first, to tell an exact text; the lenient one also
	// takes nonzero bits after the last byte.
	if n := base64.RawURLEncoding.DecodedLen(len(rest)); n > 0 {
		dst = slices.Grow(dst, n)
		out := dst[len(dst) : len(dst)+n]
		if m, err := rawURLStrict.Decode(out, []byte(rest)); err == nil {
			dst = dst[:len(dst)+m]
			return dst, exact(dst)
		}
		if m, err := base64.RawURLEncoding.Decode(out, []byte(rest)); err == nil {
			return dst[:len(dst)+m], false
		}
	}
	return decodeBase64Lenient(dst, rest), false
}

// decodeBase64Blocks decodes the longest prefix of s made of whole blocks of eight
// characters of either alphabet, appending the bytes to dst, and returns the length of
// that prefix. Such a prefix is whole groups of four, so commons-codec leaves nothing
// over from it and decodes the rest of s as it would on its own.
func decodeBase64Blocks(dst []byte, s string) ([]byte, int) {
	if len(s) < 8 {
		return dst, 0
	}
	n := len(s) / 8 * 6
	dst = slices.Grow(dst, n+2) // each block stores eight bytes, the last two overwritten next
	in, out := s, dst[len(dst):cap(dst)]
	for len(in) >= 8 && len(out) >= 8 {
		a := b64At18[in[0]] | b64At12[in[1]] | b64At6[in[2]] | b64At0[in[3]]
		b := b64At18[in[4]] | b64At12[in[5]] | b64At6[in[6]] | b64At0[in[7]]
		if (a|b)&b64Bad != 0 {
			break
		}
		binary.BigEndian.PutUint64(out, uint64(a)<<40|uint64(b)<<16)
		in, out = in[8:], out[6:]
	}
	i := len(s) - len(in)
	return dst[:len(dst)+i/8*6], i
}

// b64AtN map a byte to its value in either base64 alphabet shifted left by N bits, the
// place of the character in a group of four, or to b64Bad for other bytes.
var b64At18, b64At12, b64At6, b64At0 = b64Shifted(18), b64Shifted(12), b64Shifted(6), b64Shifted(0)

const b64Bad = 1 << 31

func b64Shifted(n uint) (t [256]uint32) {
	for i, v := range b64Table {
		if v < 0 {
			t[i] = b64Bad
		} else {
			t[i] = uint32(v) << n
		}
	}
	return t
}

// decodeBase64Lenient is DecodeBase64 byte by byte, for any input.
func decodeBase64Lenient(dst []byte, s string) []byte {
	var acc uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		v := b64Table[c]
		if v < 0 {
			continue
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2: // 12 bits: one byte, 4 bits dropped
		dst = append(dst, byte(acc>>4))
	case 3: // 18 bits: two bytes, 2 bits dropped
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst
}

// EncodeBase64URL encodes b as commons-codec's URL-safe encoder does: alphabet -_, no padding.
func EncodeBase64URL(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]byte, 0, (len(b)*4+2)/3)
	for i := 0; i < len(b); i += 3 {
		var v uint32
		rem := len(b) - i
		switch {
		case rem >= 3:
			v = uint32(b[i])<<16 | uint32(b[i+1])<<8 | uint32(b[i+2])
			out = append(out, alphabet[v>>18&63], alphabet[v>>12&63], alphabet[v>>6&63], alphabet[v&63])
		case rem == 2:
			v = uint32(b[i])<<16 | uint32(b[i+1])<<8
			out = append(out, alphabet[v>>18&63], alphabet[v>>12&63], alphabet[v>>6&63])
		default:
			v = uint32(b[i]) << 16
			out = append(out, alphabet[v>>18&63], alphabet[v>>12&63])
		}
	}
	return string(out)
}

// b64Table maps a byte to its value in either base64 alphabet, -1 for other bytes.
var b64Table = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(std); i++ {
		t[std[i]] = int8(i)
	}
	t['-'] = 62
	t['_'] = 63
	return t
}()
