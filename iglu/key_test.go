package iglu

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSchemaKey(t *testing.T) {
	tests := []struct {
		in      string
		want    SchemaKey
		wantErr string // error code
	}{
		{in: "iglu:com.acme/button_press/jsonschema/1-0-0", want: SchemaKey{"com.acme", "button_press", "jsonschema", SchemaVer{1, 0, 0}}},
		{in: "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0", want: SchemaKey{"com.snowplowanalytics.snowplow", "CollectorPayload", "thrift", SchemaVer{1, 0, 0}}},
		{in: "iglu:com.acme-co_x/a-b_C9/json-schema_2/10-20-300", want: SchemaKey{"com.acme-co_x", "a-b_C9", "json-schema_2", SchemaVer{10, 20, 300}}},
		{in: "iglu:a/b/c/2147483647-0-0", want: SchemaKey{"a", "b", "c", SchemaVer{2147483647, 0, 0}}},
		{in: "iglu:a/b/c/0-1-0", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/1-01-0", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/01-0-0", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/1--0", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/--", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/2147483648-0-0", wantErr: CodeInvalidSchemaVer},
		{in: "iglu:a/b/c/1-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/1-0-0-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/1-0-x", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/1-*-*", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b.c/d/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c.d/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a b/c/d/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:/b/c/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/1-0-0/", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/1-0-0\n", wantErr: CodeInvalidIgluURI},
		{in: "IGLU:a/b/c/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "a/b/c/1-0-0", wantErr: CodeInvalidIgluURI},
		{in: "", wantErr: CodeInvalidIgluURI},
		{in: "iglu:a/b/c/１-0-0", wantErr: CodeInvalidIgluURI},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSchemaKey(tt.in)
			if tt.wantErr != "" {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Code != tt.wantErr {
					t.Fatalf("ParseSchemaKey(%q) = %v, %v, want error %s", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSchemaKey(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("ParseSchemaKey(%q).String() = %q, want the input back", tt.in, s)
			}
		})
	}
}

func TestParseErrorIs(t *testing.T) {
	_, err := ParseSchemaKey("iglu:a/b/c/0-0-0")
	if !errors.Is(err, ErrInvalidSchemaVer) || errors.Is(err, ErrInvalidIgluURI) {
		t.Errorf("ParseSchemaKey(0-0-0) error %v: errors.Is(ErrInvalidSchemaVer) must hold and errors.Is(ErrInvalidIgluURI) must not", err)
	}
}

func TestParseCriterion(t *testing.T) {
	w := Wildcard
	tests := []struct {
		in      string
		want    Criterion
		wantErr bool
	}{
		{in: "iglu:com.acme/x/jsonschema/1-*-*", want: Criterion{"com.acme", "x", "jsonschema", 1, w, w}},
		{in: "iglu:com.acme/x/jsonschema/1-0-*", want: Criterion{"com.acme", "x", "jsonschema", 1, 0, w}},
		{in: "iglu:com.acme/x/jsonschema/*-*-*", want: Criterion{"com.acme", "x", "jsonschema", w, w, w}},
		{in: "iglu:com.acme/x/jsonschema/2-1-3", want: Criterion{"com.acme", "x", "jsonschema", 2, 1, 3}},
		{in: "iglu:com.acme/x/jsonschema/*-1-0", want: Criterion{"com.acme", "x", "jsonschema", w, 1, 0}},
		{in: "iglu:com.acme/x/jsonschema/0-*-*", wantErr: true},
		{in: "iglu:com.acme/x/jsonschema/1-01-*", wantErr: true},
		{in: "iglu:com.acme/x/jsonschema/1-*", wantErr: true},
		{in: "iglu:com.acme/x/jsonschema/1-**-*", wantErr: true},
		{in: "iglu:com.acme/x/jsonschema/1-*-*-*", wantErr: true},
		{in: "com.acme/x/jsonschema/1-*-*", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCriterion(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidIgluURI) {
					t.Fatalf("ParseCriterion(%q) = %v, %v, want INVALID_IGLUURI", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCriterion(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("ParseCriterion(%q).String() = %q, want the input back", tt.in, s)
			}
		})
	}
}

func TestCriterionMatches(t *testing.T) {
	key := SchemaKey{"com.acme", "x", "jsonschema", SchemaVer{1, 2, 3}}
	tests := []struct {
		criterion string
		want      bool
	}{
		{"iglu:com.acme/x/jsonschema/1-*-*", true},
		{"iglu:com.acme/x/jsonschema/1-2-*", true},
		{"iglu:com.acme/x/jsonschema/1-2-3", true},
		{"iglu:com.acme/x/jsonschema/*-*-3", true},
		{"iglu:com.acme/x/jsonschema/1-2-4", false},
		{"iglu:com.acme/x/jsonschema/2-*-*", false},
		{"iglu:com.acme/x/jsonschema/1-3-*", false},
		{"iglu:com.acme/y/jsonschema/1-*-*", false},
		{"iglu:com.acme.sub/x/jsonschema/1-*-*", false},
		{"iglu:com.acme/x/thrift/1-*-*", false},
	}
	for _, tt := range tests {
		t.Run(tt.criterion, func(t *testing.T) {
			c, err := ParseCriterion(tt.criterion)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Matches(key); got != tt.want {
				t.Errorf("ParseCriterion(%q).Matches(%v) = %v, want %v", tt.criterion, key, got, tt.want)
			}
		})
	}
}

func TestSchemaVerOrdering(t *testing.T) {
	in := []string{"2-0-0", "1-0-10", "1-10-0", "1-0-2", "1-0-0", "1-1-0", "10-0-0", "1-0-1"}
	want := []string{"1-0-0", "1-0-1", "1-0-2", "1-0-10", "1-1-0", "1-10-0", "2-0-0", "10-0-0"}
	vers := make([]SchemaVer, len(in))
	for i, s := range in {
		v, err := ParseSchemaVer(s)
		if err != nil {
			t.Fatal(err)
		}
		vers[i] = v
	}
	slices.SortFunc(vers, SchemaVer.Compare)
	got := make([]string, len(vers))
	for i, v := range vers {
		got[i] = v.String()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted versions (-want +got):\n%s", diff)
	}

	keys := []SchemaKey{
		{"com.b", "a", "jsonschema", SchemaVer{1, 0, 0}},
		{"com.a", "b", "jsonschema", SchemaVer{1, 0, 0}},
		{"com.a", "a", "jsonschema", SchemaVer{2, 0, 0}},
		{"com.a", "a", "jsonschema", SchemaVer{1, 0, 1}},
	}
	slices.SortFunc(keys, SchemaKey.Compare)
	gotKeys := make([]string, len(keys))
	for i, k := range keys {
		gotKeys[i] = k.String()
	}
	wantKeys := []string{
		"iglu:com.a/a/jsonschema/1-0-1", "iglu:com.a/a/jsonschema/2-0-0",
		"iglu:com.a/b/jsonschema/1-0-0", "iglu:com.b/a/jsonschema/1-0-0",
	}
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("sorted keys (-want +got):\n%s", diff)
	}
}

func TestSchemaKeyText(t *testing.T) {
	var k SchemaKey
	if err := k.UnmarshalText([]byte("iglu:com.acme/x/jsonschema/1-0-0")); err != nil {
		t.Fatal(err)
	}
	b, _ := k.MarshalText()
	if string(b) != "iglu:com.acme/x/jsonschema/1-0-0" || k.Path() != "com.acme/x/jsonschema/1-0-0" {
		t.Errorf("MarshalText() = %s, Path() = %s", b, k.Path())
	}
	if err := k.UnmarshalText([]byte("iglu:x")); !errors.Is(err, ErrInvalidIgluURI) {
		t.Errorf("UnmarshalText(iglu:x) = %v, want INVALID_IGLUURI", err)
	}
}

// The reference grammar of iglu-scala-core, used as the oracle of the fuzzers.
var (
	rigidKeyRE  = regexp.MustCompile(`^iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/([1-9][0-9]*(?:-(?:0|[1-9][0-9]*)){2})$`)
	looseKeyRE  = regexp.MustCompile(`^iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/([0-9]*-[0-9]*-[0-9]*)$`)
	criterionRE = regexp.MustCompile(`^iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/([1-9][0-9]*|\*)-((?:0|[1-9][0-9]*)|\*)-((?:0|[1-9][0-9]*)|\*)$`)
)

// fitsInt32 reports whether every number in a version fits Snowplow's Int.
func fitsInt32(version string) bool {
	for _, p := range strings.Split(version, "-") {
		if p == "*" {
			continue
		}
		if n, err := strconv.ParseInt(p, 10, 64); err != nil || n > 1<<31-1 {
			return false
		}
	}
	return true
}

func keySeeds(f *testing.F) {
	for _, s := range []string{
		"iglu:com.acme/x/jsonschema/1-0-0", "iglu:com.acme/x/jsonschema/1-*-*", "iglu:a/b/c/0-1-0",
		"iglu:a/b/c/1-01-0", "iglu:a.b-c_d/e-f_g/h/10-0-22", "iglu:a/b/c/--", "iglu:a/b/c/99999999999-0-0",
		"iglu:a/b.c/d/1-0-0", "iglu:/b/c/1-0-0", "iglu:a/b/c/d/1-0-0", "", "iglu:", "iglu:a/b/c/1-0-0\n",
	} {
		f.Add(s)
	}
}

func FuzzParseSchemaKey(f *testing.F) {
	keySeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSchemaKey(s)
		m := rigidKeyRE.FindStringSubmatch(s)
		switch {
		case m != nil && fitsInt32(m[4]):
			if err != nil {
				t.Fatalf("ParseSchemaKey(%q) = %v, want a key", s, err)
			}
			if k.String() != s {
				t.Fatalf("ParseSchemaKey(%q).String() = %q", s, k.String())
			}
		case m != nil || looseKeyRE.MatchString(s):
			if !errors.Is(err, ErrInvalidSchemaVer) {
				t.Fatalf("ParseSchemaKey(%q) = %v, %v, want INVALID_SCHEMAVER", s, k, err)
			}
		default:
			if !errors.Is(err, ErrInvalidIgluURI) {
				t.Fatalf("ParseSchemaKey(%q) = %v, %v, want INVALID_IGLUURI", s, k, err)
			}
		}
	})
}

func FuzzParseCriterion(f *testing.F) {
	keySeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCriterion(s)
		m := criterionRE.FindStringSubmatch(s)
		if m != nil && fitsInt32(m[4]+"-"+m[5]+"-"+m[6]) {
			if err != nil {
				t.Fatalf("ParseCriterion(%q) = %v, want a criterion", s, err)
			}
			if c.String() != s {
				t.Fatalf("ParseCriterion(%q).String() = %q", s, c.String())
			}
			if k, err := ParseSchemaKey(s); err == nil && !c.Matches(k) {
				t.Fatalf("criterion %q does not match its own key", s)
			}
			return
		}
		if err == nil {
			t.Fatalf("ParseCriterion(%q) = %v, want an error", s, c)
		}
	})
}
