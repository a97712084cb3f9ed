package iglu

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// sharedDir returns ../shared, or skips the test without the reference schemas.
func sharedDir(t testing.TB) string {
	t.Helper()
	schemas := sharedtest.Path(t, filepath.Join("iglu-central", "schemas"), "the Iglu Central schemas the embedded ones are checked against")
	return filepath.Dir(filepath.Dir(schemas))
}

func testCompileOptions(t testing.TB) compileOptions {
	t.Helper()
	raw, err := embeddedSchema(metaSchemaKey())
	if err != nil {
		t.Fatal(err)
	}
	meta, err := metaSchemaForCompiler(raw)
	if err != nil {
		t.Fatal(err)
	}
	return compileOptions{metaSchema: meta}
}

// TestEmbeddedSchemasMatchIgluCentral holds every embedded schema against the Iglu
// Central schema of the same key: both must accept and reject the same documents, over
// a set generated from the two schemas (valid documents, and mutations: wrong types,
// missing required members, extra members, values at and beyond every bound, enum
// members and near misses, good and bad formats and patterns).
func TestEmbeddedSchemasMatchIgluCentral(t *testing.T) {
	ref := os.DirFS(filepath.Join(sharedDir(t), "iglu-central", "schemas"))
	opts := testCompileOptions(t)
	var keys []SchemaKey
	err := (&fsBackend{fsys: EmbeddedSchemas()}).walk(func(k SchemaKey) error {
		keys = append(keys, k)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 60 {
		t.Fatalf("embedded set has %d schemas, want the full core set", len(keys))
	}
	for _, key := range keys {
		t.Run(key.Path(), func(t *testing.T) {
			mine, err := fs.ReadFile(EmbeddedSchemas(), key.Path())
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := fs.ReadFile(ref, key.Path())
			if err != nil {
				t.Fatalf("no reference copy of %s: %v", key, err)
			}
			checkSelf(t, key, mine)
			if key == metaSchemaKey() {
				checkMetaSchema(t, mine, theirs, opts)
				return
			}
			mv, cerr := compileSchema(mine, opts)
			if cerr != nil {
				t.Fatalf("embedded %s does not compile: %v", key, cerr)
			}
			tv, cerr := compileSchema(theirs, opts)
			if cerr != nil {
				t.Fatalf("reference %s does not compile: %v", key, cerr)
			}
			docs := generateDocuments(mv.doc, tv.doc)
			accepted, rejected := 0, 0
			for _, doc := range docs {
				mr, err := mv.validate(doc)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := tv.validate(doc)
				if err != nil {
					t.Fatal(err)
				}
				if (len(mr) == 0) != (len(tr) == 0) {
					enc, _ := json.Marshal(doc)
					t.Errorf("document %s: embedded valid=%v, Iglu Central valid=%v (embedded reports %v, reference reports %v)",
						truncate(string(enc), 300), len(mr) == 0, len(tr) == 0, messages(mr), messages(tr))
				}
				if len(tr) == 0 {
					accepted++
				} else {
					rejected++
				}
			}
			if accepted == 0 || rejected == 0 {
				t.Errorf("%d documents accepted and %d rejected: the generated set does not exercise the schema", accepted, rejected)
			}
		})
	}
}

func checkSelf(t *testing.T, key SchemaKey, raw []byte) {
	t.Helper()
	var s struct {
		Schema string `json:"$schema"`
		Self   struct {
			Vendor, Name, Format, Version string
		} `json:"self"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("iglu:%s/%s/%s/%s", s.Self.Vendor, s.Self.Name, s.Self.Format, s.Self.Version)
	if got != key.String() || s.Schema != MetaSchemaURI {
		t.Errorf("self = %s, $schema = %s; want %s and %s", got, s.Schema, key, MetaSchemaURI)
	}
}

// checkMetaSchema compares the two meta-schemas on schemas: the embedded schemas
// (valid), and schemas with a broken or missing self.
func checkMetaSchema(t *testing.T, mine, theirs []byte, opts compileOptions) {
	t.Helper()
	m, err := metaSchemaForCompiler(mine)
	if err != nil {
		t.Fatal(err)
	}
	r, err := metaSchemaForCompiler(theirs)
	if err != nil {
		t.Fatal(err)
	}
	mv, cerr := compileSchema(m, opts)
	if cerr != nil {
		t.Fatal(cerr)
	}
	tv, cerr := compileSchema(r, opts)
	if cerr != nil {
		t.Fatal(cerr)
	}
	var docs []any
	_ = (&fsBackend{fsys: EmbeddedSchemas()}).walk(func(k SchemaKey) error {
		raw, _ := fs.ReadFile(EmbeddedSchemas(), k.Path())
		d, _ := decodeNumbers(raw)
		docs = append(docs, d)
		return nil
	})
	base := `{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"type":"object"}`
	for _, s := range []string{
		base,
		`{"type":"object"}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema"}}`,
		`{"self":{"vendor":"com acme","name":"x","format":"jsonschema","version":"1-0-0"}}`,
		`{"self":{"vendor":"com.acme","name":"x.y","format":"jsonschema","version":"1-0-0"}}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"json.schema","version":"1-0-0"}}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0"}}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0","extra":1}}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"type":"strin"}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"minLength":-1}`,
		`{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"required":[]}`,
		`{"self":"iglu:com.acme/x/jsonschema/1-0-0"}`,
		`[]`,
	} {
		d, _ := decodeNumbers([]byte(s))
		docs = append(docs, d)
	}
	for _, doc := range docs {
		mr, _ := mv.validate(doc)
		tr, _ := tv.validate(doc)
		if (len(mr) == 0) != (len(tr) == 0) {
			enc, _ := json.Marshal(doc)
			t.Errorf("schema %s: embedded meta-schema valid=%v, Iglu Central valid=%v", truncate(string(enc), 200), len(mr) == 0, len(tr) == 0)
		}
	}
}

func messages(rs []DataReport) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Message
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// docGen generates documents for two schemas that should be equivalent, drawing
// constants (bounds, enum members, formats, patterns) from both so that a constraint
// present in only one of them is exercised.
type docGen struct {
	roots [2]any
}

func generateDocuments(mine, theirs any) []any {
	g := &docGen{roots: [2]any{mine, theirs}}
	docs := g.values(mine, theirs, 0)
	return append(docs, g.leaves(nil, nil)...)
}

func num(s string) json.Number { return json.Number(s) }

// stringSamples are strings of the formats and patterns the core schemas use, each
// with near misses.
func stringSamples() []any {
	return []any{
		"SQLITE", "web",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "5B3E2F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B", "5b3e2f3a1c2d4e5f", "5b3e2f3a-1c2d-4e5f-8a9b", "zzzzzzzz-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
		"2024-03-01T12:00:00.123Z", "2024-03-01T12:00:00+01:00", "2024-03-01", "2024-13-01T12:00:00Z", "12:00:00",
		"https://example.com/a?b=c#d", "http://localhost:8080/", "example.com/a", "/relative/path", "mailto:a@b.co", "not a uri %%",
		"a@b.co", "1.2.3.4", "::1", "999.1.1.1",
		"iglu:com.acme/x/jsonschema/1-0-0", "iglu:com.acme/x/jsonschema/1-*-*", "iglu:com.acme/x/jsonschema/1-0", "iglu:com acme/x/jsonschema/1-0-0",
	}
}

// leaves returns leaf values for a position: one or more of every JSON type, and the
// bounds (and just past them), enum members, and format or pattern samples of the
// constraints at that position in either schema.
func (g *docGen) leaves(a, b map[string]any) []any {
	out := []any{
		nil, true, num("0"), num("1"), num("-1"), num("1.5"), num("1.0"), num("1e2"),
		num("2147483648"), num("9223372036854775808"), num("-1e30"),
		"", "a", []any{}, []any{"a"}, []any{num("1")}, map[string]any{}, map[string]any{"a": "b"},
	}
	seen := map[string]bool{}
	for _, m := range []map[string]any{a, b} {
		for _, k := range []string{"minimum", "maximum", "multipleOf"} {
			n, ok := m[k].(json.Number)
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil {
				continue
			}
			for _, s := range []string{string(n), fmtNum(f - 1), fmtNum(f + 1), fmtNum(f - 0.5), fmtNum(f + 0.5)} {
				if !seen["n"+s] {
					seen["n"+s] = true
					out = append(out, num(s))
				}
			}
		}
		for _, k := range []string{"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"} {
			n, ok := m[k].(json.Number)
			if !ok {
				continue
			}
			l, err := strconv.Atoi(string(n))
			if err != nil || l > 70000 {
				continue
			}
			for _, k := range []int{l - 1, l, l + 1} {
				if k >= 0 && !seen["s"+strconv.Itoa(k)] {
					seen["s"+strconv.Itoa(k)] = true
					out = append(out, strings.Repeat("x", k), strings.Repeat("é", k))
					if k <= 20 {
						out = append(out, slices.Repeat([]any{"x"}, k))
					}
				}
			}
		}
		if e, ok := m["enum"].([]any); ok {
			for _, v := range e {
				out = append(out, v)
				if s, ok := v.(string); ok {
					out = append(out, strings.ToLower(s), s+"x")
				}
			}
		}
		_, hasFormat := m["format"]
		_, hasPattern := m["pattern"]
		if (hasFormat || hasPattern) && !seen["samples"] {
			seen["samples"] = true
			out = append(out, stringSamples()...)
		}
	}
	if a == nil && b == nil {
		out = append(out, stringSamples()...)
	}
	return out
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func walkSchema(v any, fn func(map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		fn(t)
		for k, x := range t {
			if k != "enum" && k != "default" {
				walkSchema(x, fn)
			}
		}
	case []any:
		for _, x := range t {
			walkSchema(x, fn)
		}
	}
}

// resolveLocal follows a local $ref within root.
func resolveLocal(root, s any) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s
	}
	ref, ok := m["$ref"].(string)
	if !ok || !strings.HasPrefix(ref, "#") {
		return s
	}
	return resolveLocal(root, pointerGet(root, pointerTokens(strings.TrimPrefix(ref, "#"))))
}

// values generates documents for a pair of subschemas at the same position.
func (g *docGen) values(a, b any, depth int) []any {
	a, b = resolveLocal(g.roots[0], a), resolveLocal(g.roots[1], b)
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	var out []any
	if depth > 4 {
		return g.leaves(am, bm)
	}
	if isType(am, bm, "object") || hasKey(am, bm, "properties") {
		out = append(out, g.objects(am, bm, depth)...)
	}
	if isType(am, bm, "array") || hasKey(am, bm, "items") {
		out = append(out, g.arrays(am, bm, depth)...)
	}
	if depth > 0 {
		out = append(out, g.leaves(am, bm)...)
	}
	return out
}

func isType(a, b map[string]any, t string) bool {
	for _, m := range []map[string]any{a, b} {
		switch x := m["type"].(type) {
		case string:
			if x == t {
				return true
			}
		case []any:
			if slices.Contains(x, any(t)) {
				return true
			}
		}
	}
	return false
}

func hasKey(a, b map[string]any, k string) bool {
	_, ok1 := a[k]
	_, ok2 := b[k]
	return ok1 || ok2
}

// objects builds a base object with every property set to a value the reference
// accepts, then varies one property at a time, removes each property, and adds an
// unknown one.
func (g *docGen) objects(a, b map[string]any, depth int) []any {
	ap, _ := a["properties"].(map[string]any)
	bp, _ := b["properties"].(map[string]any)
	names := map[string]bool{}
	for k := range ap {
		names[k] = true
	}
	for k := range bp {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)

	// Per property: candidate values, and the first one the reference accepts alone.
	cands := map[string][]any{}
	base := map[string]any{}
	for _, k := range sorted {
		cands[k] = g.values(ap[k], bp[k], depth+1)
		refSub := wrapSub(g.roots[1], bp[k])
		for _, c := range cands[k] {
			if acceptsAlone(refSub, c) {
				base[k] = c
				break
			}
		}
	}
	out := []any{copyMap(base), map[string]any{}}
	// Wide flat objects (payload_data, PerformanceTiming) vary one member at a time on a
	// base of the required members only, which keeps the documents small.
	varyOn := base
	if len(sorted) > 15 {
		varyOn = map[string]any{}
		for _, m := range []map[string]any{a, b} {
			for _, k := range stringList(m["required"]) {
				if v, ok := base[k]; ok {
					varyOn[k] = v
				}
			}
		}
		out = append(out, copyMap(varyOn))
	}
	for _, k := range sorted {
		for _, c := range cands[k] {
			d := copyMap(varyOn)
			d[k] = c
			out = append(out, d)
		}
		d := copyMap(base)
		delete(d, k)
		out = append(out, d)
		out = append(out, map[string]any{k: base[k]})
	}
	d := copyMap(base)
	d["zzUnknownMember"] = "x"
	out = append(out, d)
	// Additional-property values for open maps (e.g. filters).
	if hasKey(a, b, "additionalProperties") {
		for _, c := range g.leaves(nil, nil) {
			d := copyMap(base)
			d["zzExtra"] = c
			out = append(out, d)
		}
	}
	return out
}

func (g *docGen) arrays(a, b map[string]any, depth int) []any {
	items := g.values(a["items"], b["items"], depth+1)
	out := []any{[]any{}}
	for i, it := range items {
		out = append(out, []any{it})
		if i%7 == 0 {
			out = append(out, []any{it, it})
		}
	}
	return out
}

// wrapSub makes a subschema compilable on its own, keeping the root's definitions so
// local references resolve.
func wrapSub(root, sub any) *validator {
	m, ok := sub.(map[string]any)
	if !ok {
		return nil
	}
	w := copyMap(m)
	if r, ok := root.(map[string]any); ok {
		if d, ok := r["definitions"]; ok {
			w["definitions"] = d
		}
	}
	raw, err := json.Marshal(w)
	if err != nil {
		return nil
	}
	v, cerr := compileSchema(raw, compileOptions{})
	if cerr != nil {
		return nil
	}
	return v
}

func acceptsAlone(v *validator, doc any) bool {
	if v == nil {
		return true
	}
	r, err := v.validate(doc)
	return err == nil && len(r) == 0
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}
