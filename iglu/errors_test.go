package iglu

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestClientErrorJSON(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC)
	path, kw := "$.id", "type"
	tests := []struct {
		name string
		err  *ClientError
		want string
	}{
		{
			name: "resolution",
			err: &ClientError{Kind: ResolutionError, LookupHistory: []LookupHistory{
				{Repository: "Iglu Central", Errors: []RegistryError{{Kind: NotFound}}, Attempts: 1, LastAttempt: at},
				{Repository: "Private", Errors: []RegistryError{{Kind: RepoFailure, Message: "dial tcp: timeout"}, {Kind: ClientFailure, Message: "bad \"body\""}}, Attempts: 3, LastAttempt: at.Add(123 * time.Millisecond)},
			}},
			want: `{"error":"ResolutionError","lookupHistory":[` +
				`{"repository":"Iglu Central","errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2024-03-01T12:00:01.000Z"},` +
				`{"repository":"Private","errors":[{"error":"RepoFailure","message":"dial tcp: timeout"},{"error":"ClientFailure","message":"bad \"body\""}],"attempts":3,"lastAttempt":"2024-03-01T12:00:01.123Z"}]}`,
		},
		{
			name: "invalid data",
			err:  &ClientError{Kind: ValidationError, DataReports: []DataReport{{Message: "$.id: integer found, string expected", Path: &path, Keyword: &kw, Targets: []string{"integer", "string"}}}},
			want: `{"dataReports":[{"message":"$.id: integer found, string expected","path":"$.id","keyword":"type","targets":["integer","string"]}],"error":"ValidationError"}`,
		},
		{
			name: "invalid data, nulls, superseded",
			err:  &ClientError{Kind: ValidationError, DataReports: []DataReport{{Message: "x <&>"}}, SupersededBy: SchemaVer{1, 0, 2}},
			want: `{"dataReports":[{"message":"x <&>","path":null,"keyword":null,"targets":null}],"error":"ValidationError","supersededBy":"1-0-2"}`,
		},
		{
			name: "invalid schema",
			err:  &ClientError{Kind: ValidationError, SchemaIssues: []SchemaIssue{{Path: "$.properties.a.type", Message: "bad type"}}},
			want: `{"schemaIssues":[{"path":"$.properties.a.type","message":"bad type"}],"error":"ValidationError"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.err.AppendJSON(nil)
			if string(got) != tt.want {
				t.Errorf("AppendJSON(%s) =\n%s\nwant\n%s", tt.name, got, tt.want)
			}
			// encoding/json escapes <, > and & in a Marshaler's output; the document
			// is the same.
			viaMarshal, err := json.Marshal(tt.err)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal(viaMarshal, &a)
			_ = json.Unmarshal(got, &b)
			if diff := cmp.Diff(b, a); diff != "" {
				t.Errorf("json.Marshal and AppendJSON differ (-append +marshal):\n%s", diff)
			}
			var back ClientError
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("json.Unmarshal(%s) = %v", got, err)
			}
			if diff := cmp.Diff(tt.err, &back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestClientErrorMicroJSON(t *testing.T) {
	at := time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC)
	e := &ClientError{Kind: ResolutionError, LookupHistory: []LookupHistory{
		{Repository: "Iglu Central", Errors: []RegistryError{{Kind: NotFound}}, Attempts: 1, LastAttempt: at},
		{Repository: "Iglu Client Embedded", Errors: []RegistryError{{Kind: NotFound}}, Attempts: 1, LastAttempt: at},
	}}
	want := `{"value":{"Iglu Central":{"errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2024-03-01T12:00:01.000Z"},` +
		`"Iglu Client Embedded":{"errors":[{"error":"NotFound"}],"attempts":1,"lastAttempt":"2024-03-01T12:00:01.000Z"}}}`
	if got := string(e.MicroJSON()); got != want {
		t.Errorf("MicroJSON() =\n%s\nwant\n%s", got, want)
	}
	if !e.IsNotFound() {
		t.Errorf("IsNotFound() = false for an all-NotFound history")
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"plain", "quote\" back\\slash", "ctl\x00\x01\x1f\t\n\r", "html <>&", "é ü 😀", "bad \xff utf8", "line\u2028sep\u2029"} {
		got := string(appendJSONString(nil, s))
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendJSONString(%q) decodes to %q, want %q", s, back, wantBack)
		}
	}
}
