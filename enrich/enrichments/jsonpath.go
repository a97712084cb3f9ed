package enrichments

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// jsonPath is a compiled JSONPath of the subset enrichment configurations use: "$" followed
// by .name, ['name'], [n], [*], .* and ..name / ..* (recursive descent).
type jsonPath struct {
	text string
	segs []pathSeg
}

type pathSeg struct {
	name      string // "" with any=false and index>=0 for an index
	index     int    // -1 unless an array index
	any       bool   // * : every member or element
	recursive bool   // .. : at this level or any level below
}

// pathElem is one step of the location of a value: an object key or an array index.
type pathElem struct {
	key   string
	index int // -1 for object keys
}

func compileJSONPath(p string) (*jsonPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("JSONPath %q: must start with $", p)
	}
	jp := &jsonPath{text: p}
	s := p[1:]
	for s != "" {
		seg := pathSeg{index: -1}
		switch {
		case strings.HasPrefix(s, ".."):
			seg.recursive = true
			s = s[2:]
			if strings.HasPrefix(s, "[") {
				var err error
				if seg, s, err = bracket(s, seg); err != nil {
					return nil, fmt.Errorf("JSONPath %q: %w", p, err)
				}
				jp.segs = append(jp.segs, seg)
				continue
			}
			seg, s = dotName(s, seg)
		case s[0] == '.':
			seg, s = dotName(s[1:], seg)
		case s[0] == '[':
			var err error
			if seg, s, err = bracket(s, seg); err != nil {
				return nil, fmt.Errorf("JSONPath %q: %w", p, err)
			}
		default:
			return nil, fmt.Errorf("JSONPath %q: unexpected %q", p, s[:1])
		}
		if seg.name == "" && !seg.any && seg.index < 0 {
			return nil, fmt.Errorf("JSONPath %q: empty segment", p)
		}
		jp.segs = append(jp.segs, seg)
	}
	return jp, nil
}

func dotName(s string, seg pathSeg) (pathSeg, string) {
	end := strings.IndexAny(s, ".[")
	if end < 0 {
		end = len(s)
	}
	if s[:end] == "*" {
		seg.any = true
	} else {
		seg.name = s[:end]
	}
	return seg, s[end:]
}

func bracket(s string, seg pathSeg) (pathSeg, string, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return seg, "", errors.New("unclosed [")
	}
	in := strings.TrimSpace(s[1:end])
	switch {
	case in == "*":
		seg.any = true
	case len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0]:
		seg.name = in[1 : len(in)-1]
	default:
		n, err := strconv.Atoi(in)
		if err != nil || n < 0 {
			return seg, "", fmt.Errorf("unsupported selector [%s]", in)
		}
		seg.index = n
	}
	return seg, s[end+1:], nil
}

// matches reports whether a value at location path is selected.
func (jp *jsonPath) matches(path []pathElem) bool { return matchSegs(jp.segs, path) }

func matchSegs(segs []pathSeg, path []pathElem) bool {
	if len(segs) == 0 {
		return len(path) == 0
	}
	seg := segs[0]
	if seg.recursive {
		for skip := 0; skip < len(path); skip++ {
			if segMatches(seg, path[skip]) && matchSegs(segs[1:], path[skip+1:]) {
				return true
			}
		}
		return false
	}
	return len(path) > 0 && segMatches(seg, path[0]) && matchSegs(segs[1:], path[1:])
}

func segMatches(seg pathSeg, el pathElem) bool {
	switch {
	case seg.any:
		return true
	case seg.index >= 0:
		return el.index == seg.index
	default:
		return el.index < 0 && el.key == seg.name
	}
}

// jsonMatch is one value selected by a path: its bytes' span in the document.
type jsonMatch struct {
	start, end int
}

// find returns the spans of the values of data selected by jp, in document order. An outer
// match excludes matches inside it.
func (jp *jsonPath) find(data []byte) ([]jsonMatch, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	var out []jsonMatch
	var path []pathElem
	var walk func(i int) int
	walk = func(i int) int {
		i = skipWS(data, i)
		start := i
		if jp.matches(path) {
			end := skipJSONValue(data, i)
			out = append(out, jsonMatch{start, end})
			return end
		}
		switch data[i] {
		case '{':
			i = skipWS(data, i+1)
			for data[i] != '}' {
				kend := skipJSONValue(data, i)
				var key string
				_ = json.Unmarshal(data[i:kend], &key)
				i = skipWS(data, kend) + 1 // ':'
				path = append(path, pathElem{key: key, index: -1})
				i = walk(i)
				path = path[:len(path)-1]
				i = skipWS(data, i)
				if data[i] == ',' {
					i = skipWS(data, i+1)
				}
			}
			return i + 1
		case '[':
			i = skipWS(data, i+1)
			for n := 0; data[i] != ']'; n++ {
				path = append(path, pathElem{index: n})
				i = walk(i)
				path = path[:len(path)-1]
				i = skipWS(data, i)
				if data[i] == ',' {
					i = skipWS(data, i+1)
				}
			}
			return i + 1
		default:
			_ = start
			return skipJSONValue(data, i)
		}
	}
	walk(0)
	return out, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipJSONValue returns the index just after the valid JSON value starting at b[i].
func skipJSONValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipJSONValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	default:
		for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
			i++
		}
		return i
	}
}

// scalarText returns the text a matched JSON value stands for in a template or a query: a
// string's content, a number's or boolean's literal, "" and false for null, and the compact
// JSON of objects and arrays.
func scalarText(v []byte) (string, bool) {
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false
	case v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	default:
		return string(v), true
	}
}
