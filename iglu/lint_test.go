package iglu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

const lintHead = `"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"description":"d"`

func TestLint(t *testing.T) {
	tests := []struct {
		name, schema string
		want         []LintMessage
	}{
		{"clean", `{` + lintHead + `,"type":"object","properties":{"a":{"type":"string","maxLength":5,"description":"a"}},"required":["a"],"additionalProperties":false}`, nil},
		{"not json", `{`, []LintMessage{
			{Message: lintNotSchema, Level: LintError, Pointer: "/"},
			{Message: lintNotSelfDescribing, Level: LintError, Pointer: "/"},
		}},
		{"not self-describing", `{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","description":"d","type":"object","properties":{}}`, []LintMessage{
			{Message: lintNotSelfDescribing, Level: LintError, Pointer: "/"},
		}},
		{"min above max", `{` + lintHead + `,"type":"object","properties":{"n":{"type":"integer","minimum":5,"maximum":1,"description":"n"}}}`, []LintMessage{
			{Message: "A field with numeric type has a minimum value [5] greater than the maximum value [1]", Level: LintError, Pointer: "/properties/n"},
		}},
		{"string lengths", `{` + lintHead + `,"type":"object","properties":{"s":{"type":"string","minLength":3,"maxLength":2,"description":"s"}}}`, []LintMessage{
			{Message: `A string type with "minLength" and "maxLength" property values has a minimum value [3] higher than the maximum [2]`, Level: LintError, Pointer: "/properties/s"},
		}},
		{"array items", `{` + lintHead + `,"type":"object","properties":{"l":{"type":"array","minItems":3,"maxItems":1,"description":"l"}}}`, []LintMessage{
			{Message: `A field of array type has a "minItems" value [3] with a greater value than the "maxItems" [1]`, Level: LintError, Pointer: "/properties/l"},
		}},
		{"keywords of another type", `{` + lintHead + `,"type":"object","properties":{"s":{"type":"string","maxLength":3,"minimum":1,"items":{},"description":"s"}}}`, []LintMessage{
			{Message: "Numeric properties [minimum] require either a number, integer or absent values", Level: LintError, Pointer: "/properties/s"},
			{Message: "Array properties [items] require either array or absent values", Level: LintError, Pointer: "/properties/s"},
			{Message: `The schema is missing the "description" property`, Level: LintInfo, Pointer: "/properties/s/items"},
		}},
		{"required missing", `{` + lintHead + `,"type":"object","properties":{"a":{"type":"null","description":"a"}},"required":["b"],"additionalProperties":false}`, []LintMessage{
			{Message: "Elements specified as required [b] don't exist in schema properties", Level: LintError, Pointer: "/"},
		}},
		{"schema uri", `{"self":{"vendor":"com.acme","name":"x","format":"jsonschema","version":"1-0-0"},"description":"d","type":"object","properties":{}}`, []LintMessage{
			{Message: "No $schema field in top-level of schema", Level: LintError, Pointer: "/"},
		}},
		{"warnings and infos", `{` + lintHead + `,"type":"object","properties":{"n":{"type":"number"},"s":{"type":"string","format":"phone"},"9x":{"type":["string","null"],"maxLength":70000,"description":"x"}},"required":["n"]}`, []LintMessage{
			{Message: "Following properties start with illegal character for BigQuery column name: [9x]", Level: LintWarning, Pointer: "/"},
			{Message: `Use "type: null" to indicate a field as optional for properties s`, Level: LintInfo, Pointer: "/"},
			{Message: `A string property has a "maxLength" [70000] greater than the Redshift VARCHAR maximum of 65535`, Level: LintWarning, Pointer: "/properties/9x"},
			{Message: `A numeric property should have "minimum" and "maximum" properties`, Level: LintWarning, Pointer: "/properties/n"},
			{Message: `The schema is missing the "description" property`, Level: LintInfo, Pointer: "/properties/n"},
			{Message: "Unknown format [phone] detected. Known formats are: date-time, date, email, hostname, ipv4, ipv6 or uri", Level: LintWarning, Pointer: "/properties/s"},
			{Message: `A string type in the schema doesn't contain "maxLength" or format which is required`, Level: LintWarning, Pointer: "/properties/s"},
			{Message: `The schema is missing the "description" property`, Level: LintInfo, Pointer: "/properties/s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lint([]byte(tt.schema))
			opts := []cmp.Option{cmpopts.IgnoreFields(LintMessage{}, "Linter"), cmpopts.EquateEmpty()}
			if diff := cmp.Diff(tt.want, got, opts...); diff != "" {
				t.Errorf("Lint(%s) mismatch (-want +got):\n%s", tt.name, diff)
			}
			if HasLintErrors(got) != HasLintErrors(tt.want) {
				t.Errorf("HasLintErrors = %v, want %v", HasLintErrors(got), HasLintErrors(tt.want))
			}
		})
	}
}

// A schema that is not valid draft-04 is refused at the place of the fault (the wording
// is the draft-04 checker's own).
func TestLintNotDraft04(t *testing.T) {
	got := Lint([]byte(`{` + lintHead + `,"type":"object","properties":{"a":{"type":"strin","description":"a"}}}`))
	if len(got) == 0 {
		t.Fatal("Lint(type strin) = no message, want an ERROR at /properties/a/type")
	}
	for _, m := range got {
		if m.Level != LintError || m.Pointer != "/properties/a/type" || !strings.Contains(m.Message, "strin") && !strings.Contains(m.Message, "must be") {
			t.Errorf("Lint(type strin) = %+v, want ERRORs at /properties/a/type", m)
		}
	}
}

// Iglu Central's published schemas pass Iglu Server's lint: no ERROR.
func TestLintIgluCentral(t *testing.T) {
	root := sharedtest.Path(t, "iglu-central/schemas", "real schemas to lint")
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= 400 || filepath.Base(filepath.Dir(p)) != FormatJSONSchema {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, m := range Lint(raw) {
			if m.Level == LintError && !strings.Contains(p, "self-desc") {
				t.Errorf("Lint(%s): %s at %s", p, m.Message, m.Pointer)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no schema found in iglu-central")
	}
}

// FuzzLint: any body a client sends to the publication or validation routes is linted
// without panicking, and a finding always has a level and a pointer.
func FuzzLint(f *testing.F) {
	f.Add([]byte(`{` + lintHead + `,"type":"object","properties":{"a":{"type":"string","maxLength":5}}}`))
	f.Add([]byte(`{"items":[{"oneOf":[{"minimum":3,"maximum":"x"}]}],"patternProperties":{"^a":{"format":"phone"}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"required":["a","a"],"additionalProperties":false,"properties":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, m := range Lint(raw) {
			if m.Level == "" || !strings.HasPrefix(m.Pointer, "/") || m.Message == "" {
				t.Fatalf("Lint(%q) gave %+v", raw, m)
			}
		}
	})
}
