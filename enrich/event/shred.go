package event

import "strconv"

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
