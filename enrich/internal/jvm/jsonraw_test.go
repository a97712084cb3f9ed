package jvm

import (
	"strings"
	"testing"
)

func TestRawObjectAt(t *testing.T) {
	tests := []struct {
		s     string
		stop  int // members after which fn stops; 0: never
		want  string
		end   string // what follows the object
		whole bool
	}{
		{`{}, 1`, 0, ``, `, 1`, true},
		{`{ "a" : [1,{"b":"}"}] , "c\u0064":"x\"y" }]`, 0, `a=[1,{"b":"}"}];cd="x\"y";`, `]`, true},
		{`{"a":1,"b":2,"c":3}`, 2, `a=1;b=2;`, `,"c":3}`, false},
		{`[1]`, 0, ``, `[1]`, false},
	}
	for _, tt := range tests {
		var b strings.Builder
		n := 0
		end, whole := RawObjectAt(tt.s, 0, func(k, v string) bool {
			b.WriteString(k + "=" + v + ";")
			n++
			return tt.stop == 0 || n < tt.stop
		})
		if b.String() != tt.want || tt.s[end:] != tt.end || whole != tt.whole {
			t.Errorf("RawObjectAt(%q) gave %q, then %q, %v; want %q, then %q, %v", tt.s, b.String(), tt.s[end:], whole, tt.want, tt.end, tt.whole)
		}
	}
}

// TestSkipCanonicalASCII holds skipCanonicalASCII (eight bytes at a time) to a byte by
// byte reading, with every pair of byte values at each place of a block, so that every
// borrow and carry between neighbouring bytes is seen.
func TestSkipCanonicalASCII(t *testing.T) {
	stops := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 || c >= 0x7f }
	b := []byte("abcdefghijklmnopqrstuvwx")
	for at := range 9 {
		for c1 := range 256 {
			for c2 := range 256 {
				s := append([]byte(nil), b...)
				s[at], s[at+1] = byte(c1), byte(c2)
				want := len(s)
				for i, c := range s {
					if stops(c) {
						want = i
						break
					}
				}
				if got := skipCanonicalASCII(string(s), 0); got != want {
					t.Fatalf("skipCanonicalASCII(%q, 0) = %d, want %d", s, got, want)
				}
			}
		}
	}
}

// TestSkipPlainLong holds skipPlain to the byte by byte reading on strings long enough
// for its 32-byte rounds, with a control character, a non-ASCII byte or a backslash at
// every place.
func TestSkipPlainLong(t *testing.T) {
	long := []byte(strings.Repeat("eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvd2", 4) + "\"")
	for at := range len(long) {
		for _, c := range []byte{0, 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xff, '\\'} {
			s := append([]byte(nil), long...)
			s[at] = c
			for _, i := range []int{0, 1, 7} {
				if got, want := skipPlain(string(s), i), skipPlainBytes(string(s), i); got != want {
					t.Fatalf("skipPlain(%q, %d) = %d, want %d", s, i, got, want)
				}
			}
		}
	}
}
