package enrichments

import (
	"testing"
	"unicode/utf8"
)

func FuzzQueryValues(f *testing.F) {
	for _, s := range []string{"utm_source=a&utm_medium=b", "a=%zz&b=%4", "x=caf%C3%A9;y=+%2B", "=&&==;", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var q queryValues
		q.parse(raw, "UTF-8")
		for i := range q.n {
			if !utf8.ValidString(q.kvs[i].key) || !utf8.ValidString(q.kvs[i].value) {
				t.Errorf("parse(%q) gave invalid UTF-8 %q=%q", raw, q.kvs[i].key, q.kvs[i].value)
			}
		}
		searchTerm(raw, []string{"q"})
	})
}

func FuzzJSONPathFind(f *testing.F) {
	f.Add("$.a.b", `{"a":{"b":"x"}}`)
	f.Add("$..id", `[{"id":1},{"x":{"id":"y"}}]`)
	f.Add("$.list[*]", `{"list":[1,"two",{"3":3}]}`)
	f.Add("$['a b'][0]", `{"a b":[true]}`)
	f.Fuzz(func(t *testing.T, path, doc string) {
		jp, err := compileJSONPath(path)
		if err != nil {
			return
		}
		ms, err := jp.find([]byte(doc))
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.start < 0 || m.end > len(doc) || m.start >= m.end {
				t.Fatalf("find(%q, %q) gave span %v", path, doc, m)
			}
		}
	})
}
