package event

import (
	"strconv"
	"strings"
)

// schemaParts is an Iglu URI split into its parts.
type schemaParts struct {
	vendor, name, format string
	model                int
}

// parseSchemaURI splits iglu:vendor/name/format/M-R-A. Vendor is [a-zA-Z0-9-_.]+, name and
// format [a-zA-Z0-9-_]+, M a positive integer, R and A non-negative integers.
func parseSchemaURI(uri string) (schemaParts, bool) {
	rest, ok := strings.CutPrefix(uri, "iglu:")
	if !ok {
		return schemaParts{}, false
	}
	vendor, rest, ok1 := strings.Cut(rest, "/")
	name, rest, ok2 := strings.Cut(rest, "/")
	format, ver, ok3 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || !igluPart(vendor, true) || !igluPart(name, false) || !igluPart(format, false) {
		return schemaParts{}, false
	}
	m, rest, ok1 := strings.Cut(ver, "-")
	r, a, ok2 := strings.Cut(rest, "-")
	if !ok1 || !ok2 || !digits(m) || !digits(r) || !digits(a) || m[0] == '0' {
		return schemaParts{}, false
	}
	model, err := strconv.Atoi(m)
	if err != nil {
		return schemaParts{}, false
	}
	return schemaParts{vendor, name, format, model}, true
}

func igluPart(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '.' && dots:
		default:
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ShredColumnName returns the column or key name under which the entities of one schema are
// flattened, following the Scala analytics SDK and the warehouse loaders: in vendor, '.' and
// '-' become '_'; in name, '.' and '-' become '_' and an '_' is inserted between a character
// that is neither uppercase nor '_' and a following uppercase letter; everything lowercased;
// the parts joined as prefix_vendor_name_model. For example ("contexts", "org.w3",
// "PerformanceTiming", 1) gives "contexts_org_w3_performance_timing_1".
//
// The Go analytics SDK names some schemas differently ("URLClick" gives "u_r_l_click" there,
// "urlclick" here); the Python SDK keeps dashes in vendors.
func ShredColumnName(prefix, vendor, name string, model int) string {
	b := make([]byte, 0, len(prefix)+len(vendor)+len(name)+8)
	return string(appendShredColumnName(b, prefix, vendor, name, model))
}

func appendShredColumnName(b []byte, prefix, vendor, name string, model int) []byte {
	b = append(b, prefix...)
	b = append(b, '_')
	for i := 0; i < len(vendor); i++ {
		b = append(b, lowerSep(vendor[i]))
	}
	b = append(b, '_')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' && i > 0 {
			p := name[i-1]
			if !(p >= 'A' && p <= 'Z') && p != '_' && p != '.' && p != '-' {
				b = append(b, '_')
			}
		}
		b = append(b, lowerSep(c))
	}
	b = append(b, '_')
	return strconv.AppendInt(b, int64(model), 10)
}

func lowerSep(c byte) byte {
	switch {
	case c == '.' || c == '-':
		return '_'
	case c >= 'A' && c <= 'Z':
		return c + ('a' - 'A')
	}
	return c
}
