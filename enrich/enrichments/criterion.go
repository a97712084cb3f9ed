package enrichments

import (
	"fmt"
	"strings"
)

// criterion is an Iglu schema criterion, iglu:vendor/name/format/M-R-A with "*" allowed for
// each version number.
type criterion struct {
	prefix string    // "iglu:vendor/name/format/"
	ver    [3]string // "*" or a number
}

func parseCriterion(s string) (criterion, error) {
	i := strings.LastIndexByte(s, '/')
	if !strings.HasPrefix(s, "iglu:") || i < 0 || strings.Count(s, "/") != 3 {
		return criterion{}, fmt.Errorf("schema criterion %q: want iglu:vendor/name/format/M-R-A", s)
	}
	parts := strings.Split(s[i+1:], "-")
	if len(parts) != 3 {
		return criterion{}, fmt.Errorf("schema criterion %q: want iglu:vendor/name/format/M-R-A", s)
	}
	return criterion{prefix: s[:i+1], ver: [3]string{parts[0], parts[1], parts[2]}}, nil
}

// matches reports whether the schema key (an Iglu URI) satisfies c.
func (c criterion) matches(key string) bool {
	rest, ok := strings.CutPrefix(key, c.prefix)
	if !ok {
		return false
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		if c.ver[i] != "*" && c.ver[i] != p {
			return false
		}
	}
	return true
}
