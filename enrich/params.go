package enrich

import (
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
)

// params is an ordered parameter map, as Snowplow's Map[String, Option[String]]: one entry
// per name, at the position of its first appearance, holding its last value. A nil value is
// a name without a value.
type params []event.NVP

// toParams builds a params from pairs that may repeat names.
func toParams(nvps []event.NVP) params {
	out := make(params, 0, len(nvps))
	for _, p := range nvps {
		out.set(p.Name, p.Value)
	}
	return out
}

func (ps params) index(name string) int {
	for i := range ps {
		if ps[i].Name == name {
			return i
		}
	}
	return -1
}

// get returns the value of name and whether name is present.
func (ps params) get(name string) (*string, bool) {
	if i := ps.index(name); i >= 0 {
		return ps[i].Value, true
	}
	return nil, false
}

// str returns the value of name when present with a value.
func (ps params) str(name string) (string, bool) {
	v, ok := ps.get(name)
	if !ok || v == nil {
		return "", false
	}
	return *v, true
}

// set replaces the value of name, or appends it.
func (ps *params) set(name string, v *string) {
	if i := ps.index(name); i >= 0 {
		(*ps)[i].Value = v
		return
	}
	*ps = append(*ps, event.NVP{Name: name, Value: v})
}

func (ps *params) setStr(name, v string) { ps.set(name, &v) }

// without returns a copy without the given names.
func (ps params) without(names ...string) params {
	out := make(params, 0, len(ps))
outer:
	for _, p := range ps {
		for _, n := range names {
			if p.Name == n {
				continue outer
			}
		}
		out = append(out, p)
	}
	return out
}

// merged returns ps with every entry of over set on it (over wins).
func (ps params) merged(over params) params {
	out := make(params, len(ps), len(ps)+len(over))
	copy(out, ps)
	for _, p := range over {
		out.set(p.Name, p.Value)
	}
	return out
}

// parseQueryString reads a raw query string as Snowplow's URLEncodedUtils.parse on
// URI.create("http://localhost/?" + qs): nil when there is no query.
func parseQueryString(qs string, cs jvm.Charset) ([]event.NVP, error) {
	q, err := jvm.QueryOf(qs)
	if err != nil || q == "" {
		return nil, err
	}
	out := make([]event.NVP, 0, 8+strings.Count(q, "&"))
	for name, value := range jvm.SplitQuery(q, cs) {
		out = append(out, event.NVP{Name: name, Value: value})
	}
	return out, nil
}
