package streams_test

import (
	"math/big"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

func TestCompareSequenceNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "2", -1},
		{"10", "9", 1},
		{"009", "9", 0},
		{"0", "000", 0},
		{"0", "1", -1},
		{"49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588899", -1},
		{"49590338271490256608559692538361571095921575989136588898", "9999999999999999999999999999999999999999999999999999999", 1},
		{"18446744073709551616", "18446744073709551615", 1}, // 2^64 vs 2^64-1
		{"", "0", -1},
		{"abc", "0", -1},
		{"12", "1a", 1},
		{"", "", 0},
		{"a", "b", -1},
		{"-1", "0", -1},
		{"+1", "1", -1},
	}
	for _, tt := range tests {
		if got := streams.CompareSequenceNumbers(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareSequenceNumbers(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := streams.CompareSequenceNumbers(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareSequenceNumbers(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func decimal(s string) (*big.Int, bool) {
	if s == "" {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, false
		}
	}
	return new(big.Int).SetString(s, 10)
}

func FuzzCompareSequenceNumbers(f *testing.F) {
	for _, seed := range [][3]string{
		{"1", "2", "3"},
		{"0010", "10", "9"},
		{"", "x", "0"},
		{"17000000000000000000000000000000000000001", "17000000000000000000000000000000000000000", "99"},
		{"18446744073709551616", "18446744073709551615", "1a"},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, ba := streams.CompareSequenceNumbers(a, b), streams.CompareSequenceNumbers(b, a)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("CompareSequenceNumbers(%q, %q) = %d but reversed = %d", a, b, ab, ba)
		}
		if got := streams.CompareSequenceNumbers(a, a); got != 0 {
			t.Fatalf("CompareSequenceNumbers(%q, %q) = %d, want 0", a, a, got)
		}
		// Transitive, so that sorting by it is sound.
		if bc := streams.CompareSequenceNumbers(b, c); ab <= 0 && bc <= 0 {
			if ac := streams.CompareSequenceNumbers(a, c); ac > 0 {
				t.Fatalf("%q <= %q <= %q but CompareSequenceNumbers(%q, %q) = %d", a, b, c, a, c, ac)
			}
		}
		// Numeric order on decimal numbers.
		na, okA := decimal(a)
		nb, okB := decimal(b)
		if okA && okB {
			if want := na.Cmp(nb); ab != want {
				t.Fatalf("CompareSequenceNumbers(%q, %q) = %d, want %d", a, b, ab, want)
			}
		}
	})
}
