package jvm

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// BigDecimal is the value of a java.math.BigDecimal: unscaled × 10^-scale. digits holds the
// unscaled magnitude in decimal without leading zeros ("0" for zero).
type BigDecimal struct {
	neg    bool
	digits string
	scale  int64
}

// ParseBigDecimal parses s as new java.math.BigDecimal(String) and returns the Java
// exception message on failure ("null" when Java's exception has none).
func ParseBigDecimal(s string) (BigDecimal, string) {
	if s == "" {
		return BigDecimal{}, "null" // in[0] out of bounds
	}
	var d BigDecimal
	i := 0
	switch s[0] {
	case '-':
		d.neg = true
		i++
	case '+':
		i++
	}
	var digits []byte
	dot := false
	var scale, exp int64
	prec := 0
	// Java counts characters, not bytes, to choose its compact path (at most 18 chars
	// after the sign); the messages differ between the two paths.
	compact := utf8.RuneCountInString(s[i:]) <= 18
	for i < len(s) {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if dv := Digit(r); dv >= 0 {
			if dv != 0 || len(digits) > 0 {
				digits = append(digits, byte('0'+dv))
			}
			prec++
			if dot {
				scale++
			}
			i += size
			continue
		}
		if r == '.' {
			if dot {
				return BigDecimal{}, "Character array contains more than one decimal point."
			}
			dot = true
			i += size
			continue
		}
		if r == 'e' || r == 'E' {
			e, msg := parseBigDecimalExp(s[i+1:])
			if msg != "" {
				return BigDecimal{}, msg
			}
			exp = e
			i = len(s)
			break
		}
		if compact {
			return BigDecimal{}, "Character " + string(r) + " is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark."
		}
		return BigDecimal{}, "Character array is missing \"exponent\" mark 'e' or 'E'."
	}
	if prec == 0 {
		return BigDecimal{}, "No digits found."
	}
	if exp != 0 {
		adj := scale - exp
		if adj > 1<<31-1 || adj < -1<<31 {
			return BigDecimal{}, "Scale out of range."
		}
		scale = adj
	}
	d.scale = scale
	if len(digits) == 0 {
		d.digits = "0"
		d.neg = false
	} else {
		d.digits = string(digits)
	}
	return d, ""
}

// parseBigDecimalExp parses the exponent after 'e' as BigDecimal.parseExp.
func parseBigDecimalExp(s string) (int64, string) {
	if s == "" {
		return 0, "null" // index out of bounds
	}
	neg := false
	i := 0
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i++
		if i == len(s) {
			return 0, "No exponent digits."
		}
	}
	rest := []rune(s[i:])
	// leading zeros are skipped while more than 10 characters remain
	for len(rest) > 10 && Digit(rest[0]) == 0 {
		rest = rest[1:]
	}
	if len(rest) > 10 {
		return 0, "Too many nonzero exponent digits."
	}
	var e int64
	for _, r := range rest {
		v := Digit(r)
		if v < 0 {
			return 0, "Not a digit."
		}
		e = e*10 + int64(v)
	}
	if neg {
		e = -e
	}
	if e != int64(int32(e)) {
		return 0, "Exponent overflow."
	}
	return e, ""
}

// Scale is BigDecimal.scale: the power of ten the unscaled value is divided by.
func (d BigDecimal) Scale() int64 { return d.scale }

// RescaleToZero is setScale(0) for a negative scale: the unscaled value gains -scale zeros.
func (d BigDecimal) RescaleToZero() BigDecimal {
	if d.digits != "0" {
		d.digits += strings.Repeat("0", int(-d.scale))
	}
	d.scale = 0
	return d
}

// String is BigDecimal.toString: plain notation when the scale is 0, or positive with an
// adjusted exponent of at least -6; scientific notation otherwise.
func (d BigDecimal) String() string {
	var b strings.Builder
	if d.neg {
		b.WriteByte('-')
	}
	n := int64(len(d.digits))
	adjusted := -d.scale + (n - 1)
	switch {
	case d.scale == 0:
		b.WriteString(d.digits)
	case d.scale > 0 && adjusted >= -6:
		if d.scale >= n {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", int(d.scale-n)))
			b.WriteString(d.digits)
		} else {
			b.WriteString(d.digits[:n-d.scale])
			b.WriteByte('.')
			b.WriteString(d.digits[n-d.scale:])
		}
	default:
		b.WriteByte(d.digits[0])
		if n > 1 {
			b.WriteByte('.')
			b.WriteString(d.digits[1:])
		}
		b.WriteByte('E')
		if adjusted > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(adjusted, 10))
	}
	return b.String()
}

// Digit is Character.digit(r, 10): the value of a Unicode decimal digit, or -1.
func Digit(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < utf8.RuneSelf || !unicode.IsDigit(r) {
		return -1
	}
	// Decimal digits come in runs of ten starting at a zero.
	z := r
	for z > 0 && unicode.IsDigit(z-1) {
		z--
	}
	return int(r-z) % 10
}
