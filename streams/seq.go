package streams

// CompareSequenceNumbers compares two sequence numbers as the non-negative integers they
// spell in decimal, whatever their length (Kinesis prints up to 129 digits, more than
// any machine integer): it returns -1 if a < b, 0 if they are equal and +1 if a > b.
// Leading zeros are ignored.
//
// So that it is a total order on all strings, a string that is not a decimal number
// ("" included) sorts before every number, and such strings compare among themselves
// byte-wise.
func CompareSequenceNumbers(a, b string) int {
	da, db := isDecimal(a), isDecimal(b)
	switch {
	case !da && !db:
		return compareStrings(a, b)
	case !da:
		return -1
	case !db:
		return 1
	}
	a, b = trimZeros(a), trimZeros(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	// Same number of digits: byte order is numeric order.
	return compareStrings(a, b)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isDecimal reports whether s is a non-empty string of ASCII digits.
func isDecimal(s string) bool {
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

// trimZeros removes leading zeros from a decimal string, keeping one digit.
func trimZeros(s string) string {
	i := 0
	for i < len(s)-1 && s[i] == '0' {
		i++
	}
	return s[i:]
}
