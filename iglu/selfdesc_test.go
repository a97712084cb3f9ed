package iglu

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseSelfDescribing(t *testing.T) {
	tests := []struct {
		in       string
		wantKey  string
		wantData string
		wantErr  error
	}{
		{in: `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":1}}`, wantKey: "iglu:com.acme/x/jsonschema/1-0-0", wantData: `{"a":1}`},
		{in: ` {"data":[1,2],"schema":"iglu:com.acme/x/jsonschema/1-0-0","extra":true} `, wantKey: "iglu:com.acme/x/jsonschema/1-0-0", wantData: `[1,2]`},
		{in: `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":null}`, wantKey: "iglu:com.acme/x/jsonschema/1-0-0", wantData: `null`},
		{in: `{"schema":"iglu:com.acme/x/jsonschema/1-0-0"}`, wantErr: ErrInvalidDataPayload},
		{in: `{"data":{}}`, wantErr: ErrInvalidDataPayload},
		{in: `{"schema":1,"data":{}}`, wantErr: ErrInvalidDataPayload},
		{in: `{"Schema":"iglu:com.acme/x/jsonschema/1-0-0","Data":{}}`, wantErr: ErrInvalidDataPayload},
		{in: `[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}]`, wantErr: ErrInvalidDataPayload},
		{in: `"iglu:com.acme/x/jsonschema/1-0-0"`, wantErr: ErrInvalidDataPayload},
		{in: `null`, wantErr: ErrInvalidDataPayload},
		{in: `{"schema":"iglu:com.acme/x/jsonschema/1-0","data":{}}`, wantErr: ErrInvalidIgluURI},
		{in: `{"schema":"iglu:com.acme/x/jsonschema/0-0-0","data":{}}`, wantErr: ErrInvalidSchemaVer},
		{in: `{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":`, wantErr: ErrNotJSON},
		{in: ``, wantErr: ErrNotJSON},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSelfDescribing([]byte(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParseSelfDescribing(%q) = %v, %v, want %v", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Schema.String() != tt.wantKey || string(got.Data) != tt.wantData {
				t.Fatalf("ParseSelfDescribing(%q) = %v %s, %v, want %s %s", tt.in, got.Schema, got.Data, err, tt.wantKey, tt.wantData)
			}
		})
	}
}

func TestParseSelfDescribingValue(t *testing.T) {
	v, err := DecodeJSON([]byte(`{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"n":1.0}}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	key, data, err := ParseSelfDescribingValue(v)
	if err != nil || key.String() != "iglu:com.acme/x/jsonschema/1-0-0" {
		t.Fatalf("ParseSelfDescribingValue = %v, %v", key, err)
	}
	if n := data.(map[string]any)["n"]; n != json.Number("1.0") {
		t.Errorf("data.n = %#v, want json.Number(1.0)", n)
	}
	for _, in := range []any{nil, "x", []any{}, map[string]any{"schema": "iglu:a/b/c/1-0-0"}, map[string]any{"schema": 1, "data": 1}} {
		if _, _, err := ParseSelfDescribingValue(in); !errors.Is(err, ErrInvalidDataPayload) {
			t.Errorf("ParseSelfDescribingValue(%#v) = %v, want INVALID_DATA_PAYLOAD", in, err)
		}
	}
}

func TestJSONDepth(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{`1`, 0},
		{`"[[[{"`, 0},
		{`{}`, 1},
		{`[1,2]`, 1},
		{`{"a":[{"b":"]]]\"[["}]}`, 3},
		{`[[],[[]],[]]`, 3},
		{strings.Repeat("[", 51) + strings.Repeat("]", 51), 51},
	}
	for _, tt := range tests {
		if got := JSONDepth([]byte(tt.in)); got != tt.want {
			t.Errorf("JSONDepth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	deep50 := strings.Repeat("[", 50) + strings.Repeat("]", 50)
	deep51 := "[" + deep50 + "]"
	if _, err := DecodeJSON([]byte(deep50), 0); err != nil {
		t.Errorf("DecodeJSON(depth 50) = %v, want nil", err)
	}
	if _, err := DecodeJSON([]byte(deep51), 0); !errors.Is(err, ErrJSONTooDeep) {
		t.Errorf("DecodeJSON(depth 51) = %v, want ErrJSONTooDeep", err)
	}
	if _, err := DecodeJSON([]byte(deep51), 60); err != nil {
		t.Errorf("DecodeJSON(depth 51, max 60) = %v, want nil", err)
	}
	for _, in := range []string{`{"a":1} {}`, `{"a":`, ``, `nul`} {
		if _, err := DecodeJSON([]byte(in), 0); !errors.Is(err, ErrNotJSON) {
			t.Errorf("DecodeJSON(%q) = %v, want ErrNotJSON", in, err)
		}
	}
	v, err := DecodeJSON([]byte(`{"i":1,"f":1.0,"e":1e2}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[string]any)
	for k, want := range map[string]string{"i": "integer", "f": "number", "e": "number"} {
		if got := jsonTypeName(m[k]); got != want {
			t.Errorf("jsonTypeName(%v) = %s, want %s", m[k], got, want)
		}
	}
}

func FuzzParseSelfDescribing(f *testing.F) {
	for _, s := range []string{
		`{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":1}}`,
		`{"schema":"iglu:com.acme/x/jsonschema/1-0-0"}`,
		`{"schema":"iglu:com.acme/x/jsonschema/0-0-0","data":[]}`,
		`[]`, `{"schema":null,"data":null}`, `{"schema":"\u0069glu:a/b/c/1-0-0","data":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := ParseSelfDescribing(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !errors.Is(err, ErrNotJSON) {
				t.Fatalf("ParseSelfDescribing(%q) = %v: neither a ParseError nor ErrNotJSON", data, err)
			}
			return
		}
		if !json.Valid(sd.Data) {
			t.Fatalf("ParseSelfDescribing(%q).Data = %q, not JSON", data, sd.Data)
		}
		// The same document decoded first must give the same key.
		v, err := DecodeJSON(data, 1<<20)
		if err != nil {
			t.Fatalf("DecodeJSON(%q) = %v after ParseSelfDescribing accepted it", data, err)
		}
		key, _, err := ParseSelfDescribingValue(v)
		if err != nil || key != sd.Schema {
			t.Fatalf("ParseSelfDescribingValue(%q) = %v, %v, want %v", data, key, err, sd.Schema)
		}
	})
}
