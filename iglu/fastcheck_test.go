package iglu

import (
	"bytes"
	"context"
	"encoding/json"

	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// TestFastCheckAgreesWithValidator holds fastCheck against the general validator over
// every Iglu Central and embedded schema and the documents generateDocuments derives from
// each (valid ones, and mutations at and past every bound, wrong types, missing and extra
// members, format and pattern near misses): fastCheck may only answer "valid" for a
// document the validator accepts, and it must answer it for most documents the validator
// accepts, or it saves nothing.
func TestFastCheckAgreesWithValidator(t *testing.T) {
	opts := testCompileOptions(t)
	type source struct {
		name string
		fsys fs.FS
	}
	sources := []source{{"embedded", EmbeddedSchemas()}, {"iglu-central", os.DirFS(filepath.Join(sharedDir(t), "iglu-central", "schemas"))}}
	schemas, fast, accepted, fastAccepted, textAccepted := 0, 0, 0, 0, 0
	for _, src := range sources {
		err := fs.WalkDir(src.fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(path, "/jsonschema/") {
				return err
			}
			raw, err := fs.ReadFile(src.fsys, path)
			if err != nil {
				return err
			}
			v, cerr := compileSchema(raw, opts)
			if cerr != nil {
				return nil // not a usable schema: nothing to validate with
			}
			schemas++
			if v.fast == nil {
				return nil
			}
			fast++
			for _, doc := range generateDocuments(v.doc, v.doc) {
				full := v.schema.Validate(doc) == nil
				quick := v.fast.valid(doc)
				if quick && !full {
					enc, _ := json.Marshal(doc)
					t.Errorf("%s %s: fastCheck accepts %s, the validator rejects it: %v", src.name, path, truncate(string(enc), 300), v.schema.Validate(doc))
				}
				// The same from the document's text, which must answer as fastCheck on
				// the decoded document wherever the text has no escape sequence.
				enc, err := json.Marshal(doc)
				if err != nil {
					t.Fatal(err)
				}
				text := string(enc)
				end, fromText := v.fast.validText(text, 0)
				fromText = fromText && end == len(text)
				if fromText && !quick {
					t.Errorf("%s %s: validText accepts %s, fastCheck on the decoded document does not", src.name, path, truncate(text, 300))
				}
				if quick && !fromText && !strings.Contains(text, `\`) {
					t.Errorf("%s %s: fastCheck accepts %s, validText does not", src.name, path, truncate(text, 300))
				}
				if full {
					accepted++
					if quick {
						fastAccepted++
					}
					if fromText {
						textAccepted++
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d schemas, %d with a fastCheck; fastCheck accepted %d of the %d documents they accept, validText %d", schemas, fast, fastAccepted, accepted, textAccepted)
	if schemas < 200 || fast < schemas/2 || fastAccepted < accepted*9/10 || textAccepted < accepted*8/10 {
		t.Errorf("%d schemas, %d with a fastCheck, %d of %d valid documents accepted by it: want most", schemas, fast, fastAccepted, accepted)
	}
}

// FuzzFastCheck: for any schema fastCheck implements and any instance, an instance it
// accepts is one the validator accepts.
func FuzzFastCheck(f *testing.F) {
	for _, s := range []struct{ schema, doc string }{
		{`{"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"],"additionalProperties":false}`, `{"id":"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}`},
		{`{"type":"object","properties":{"n":{"type":["integer","null"],"minimum":0,"maximum":1000},"r":{"type":"number","minimum":0,"exclusiveMaximum":true,"maximum":1.5}}}`, `{"n":1000,"r":1.4999999999999999999}`},
		{`{"type":"object","properties":{"e":{"enum":["a","b",null]},"t":{"type":"string","maxLength":3,"pattern":"^[a-z]+$"}}}`, `{"e":null,"t":"abc"}`},
		{`{"type":"array","items":{"type":"string","format":"date-time"},"minItems":1,"maxItems":2}`, `["2024-03-01T12:00:00.123Z"]`},
		{`{"type":"object","additionalProperties":{"type":"integer"}}`, `{"a":1,"b":1.0,"c":1e2}`},
		{`{"type":"object","properties":{"a":{"type":"string","maxLength":2}},"required":["a","b"]}`, `{ "a" : "xy", "b":[{"c":"\"}"}], "a":"xyz" }`},
		{`{"type":"object","properties":{"l":{"type":"array","items":{"type":"string"},"maxItems":2}}}`, `{"l":[ "a" , "b" ],"m":{"n":[1,{"o":null}]}}`},
	} {
		f.Add(s.schema, s.doc)
	}
	opts := testCompileOptions(f)
	f.Fuzz(func(t *testing.T, schema, doc string) {
		v, cerr := compileSchema([]byte(schema), opts)
		if cerr != nil || v.fast == nil {
			return
		}
		inst, err := decodeNumbers([]byte(doc))
		if err != nil {
			return
		}
		quick := v.fast.valid(inst)
		if quick {
			if err := v.schema.Validate(inst); err != nil {
				t.Errorf("schema %s: fastCheck accepts %s, the validator rejects it: %v", schema, doc, err)
			}
		}
		// From the text (valid JSON, as the callers of ValidText guarantee), only what
		// fastCheck accepts on the decoded document.
		if !utf8.ValidString(doc) {
			return
		}
		if end, ok := v.fast.validText(doc, 0); ok && skipJSONSpace(doc, end) == len(doc) && !quick {
			t.Errorf("schema %s: validText accepts %s, fastCheck on the decoded document does not", schema, doc)
		}
	})
}

// TestKnownPatterns holds the hand-written matchers to regexp on strings at and around
// what each pattern accepts.
func TestKnownPatterns(t *testing.T) {
	inputs := []string{"", "0123456789abcdef", "0123456789abcdeF", "0123456789abcde", "0123456789abcdef0",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5B", "5b3e2f3a-1c2d-4e5f-8a9b0c1d2e3f4a5b",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5", "5b3e2f3a1c2d-4e5f-8a9b-0c1d2e3f4a5b-",
		"0123456789abcdef\n", "g123456789abcdef", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5g"}
	for p, m := range knownPatterns {
		re := regexp.MustCompile(p)
		n := 0
		for _, s := range inputs {
			if got, want := m(s), re.MatchString(s); got != want {
				t.Errorf("known pattern %s on %q = %v, regexp says %v", p, s, got, want)
			}
			if re.MatchString(s) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no input matches %s: the test shows nothing", p)
		}
	}
}

func FuzzKnownPatterns(f *testing.F) {
	f.Add("5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
	f.Add("0123456789abcdef")
	var res []*regexp.Regexp
	var ms []func(string) bool
	for p, m := range knownPatterns {
		res, ms = append(res, regexp.MustCompile(p)), append(ms, m)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, re := range res {
			if got, want := ms[i](s), re.MatchString(s); got != want {
				t.Errorf("known pattern %s on %q = %v, regexp says %v", re, s, got, want)
			}
		}
	})
}

// TestStringFormats holds the string formats to jsonschema.Formats on strings at and
// around what each accepts.
func TestStringFormats(t *testing.T) {
	inputs := []string{"", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "5B3E2F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5B",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5g", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5G", "5b3e2f3a-1c2d-4e5f-8a9b0c1d2e3f4a5b",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b\n", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5", "5b3e2f3a1c2d-4e5f-8a9b-0c1d2e3f4a5b-",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b0", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a:b", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a@b",
		"5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a`b", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a/b", "5b3e2f3a 1c2d-4e5f-8a9b-0c1d2e3f4a5b",
		"5b3e2f3a\r1c2d-4e5f-8a9b-0c1d2e3f4a5b", "5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a\x15b",
		"2026-12-06T04:11:32.736Z", "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00.000Z", "2000-02-29T00:00:00.000Z",
		"1900-02-29T00:00:00.000Z", "2026-04-31T00:00:00.000Z", "2026-12-31T00:00:00.000Z", "2026-13-06T04:11:32.736Z",
		"2026-00-06T04:11:32.736Z", "2026-12-00T04:11:32.736Z", "2026-12-06T24:11:32.736Z", "2026-12-06T04:60:32.736Z",
		"2026-12-06T23:59:60.000Z", "2026-12-06T04:11:60.000Z", "2026-12-06t04:11:32.736z", "2026-12-06T04:11:32Z",
		"2026-12-06T04:11:32.736+01:00", "2026-12-06T04:11:32.7a6Z", "+026-12-06T04:11:32.736Z", "2026-12-06T+4:11:32.736Z",
		"0000-02-29T00:00:00.000Z"}
	for f, m := range stringFormats {
		want := jsonschema.Formats[f]
		n := 0
		for _, s := range inputs {
			if got, want := m(s), want(s); got != want {
				t.Errorf("known format %s on %q = %v, jsonschema says %v", f, s, got, want)
			}
			if want(s) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no input has format %s: the test shows nothing", f)
		}
	}
}

func FuzzStringFormats(f *testing.F) {
	f.Add("5b3e2f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
	f.Add("5B3E2F3A-1C2D-4E5F-8A9B-0C1D2E3F4A5:")
	f.Add("2024-02-29T23:59:59.999Z")
	f.Fuzz(func(t *testing.T, s string) {
		for name, m := range stringFormats {
			if got, want := m(s), jsonschema.Formats[name](s); got != want {
				t.Errorf("known format %s on %q = %v, jsonschema says %v", name, s, got, want)
			}
		}
	})
}

// TestSchemaURI checks that a resolved schema's URI is its key's Iglu URI.
func TestSchemaURI(t *testing.T) {
	schema, _ := schema20()
	cfg := offlineConfig(writeSchemas(t, map[string]string{"com.acme/wide/jsonschema/1-0-0": schema}))
	r := newTestResolver(t, cfg, nil)
	for _, uri := range []string{"iglu:com.acme/wide/jsonschema/1-0-0", "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"} {
		s, err := r.Lookup(context.Background(), mustKey(t, uri))
		if err != nil {
			t.Fatal(err)
		}
		if s.URI() != uri || s.URI() != s.Key.String() {
			t.Errorf("URI() = %q, key %q, want %q", s.URI(), s.Key, uri)
		}
	}
}

// TestQuoteOrBackslash holds quoteOrBackslash (eight bytes at a time) to a byte by byte
// search, with every pair of byte values at each place of a block.
func TestQuoteOrBackslash(t *testing.T) {
	b := []byte("abcdefghijklmnopqrstuvwx")
	for at := range 9 {
		for c1 := range 256 {
			for c2 := range 256 {
				s := append([]byte(nil), b...)
				s[at], s[at+1] = byte(c1), byte(c2)
				want := len(s)
				if i := bytes.IndexAny(s, "\"\\"); i >= 0 {
					want = i
				}
				if got := quoteOrBackslash(string(s), 0); got != want {
					t.Fatalf("quoteOrBackslash(%q, 0) = %d, want %d", s, got, want)
				}
			}
		}
	}
}
