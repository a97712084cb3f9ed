package enrich

import (
	"encoding/json"
	"io/fs"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// TestParamBits checks the parameter tables against the published payload_data schemas:
// each allows exactly the schema's properties, each with its own bit.
func TestParamBits(t *testing.T) {
	versions := payloadDataKeys()
	for addition, bits := range versions {
		t.Run("1-0-"+strconv.Itoa(addition), func(t *testing.T) {
			raw, err := fs.ReadFile(iglu.EmbeddedSchemas(), "com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-"+strconv.Itoa(addition))
			if err != nil {
				t.Fatal(err)
			}
			var schema struct {
				Items struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"items"`
			}
			if err := json.Unmarshal(raw, &schema); err != nil {
				t.Fatal(err)
			}
			var want, got []string
			for name := range schema.Items.Properties {
				want = append(want, name)
			}
			used := map[uint8]string{}
			for _, s := range bits.slots {
				if s.name == "" {
					continue
				}
				got = append(got, s.name)
				if other, ok := used[s.bit]; ok || s.bit == 0 || s.bit > 127 {
					t.Errorf("bit %d of %q: zero, over 127 or shared with %q", s.bit, s.name, other)
				}
				used[s.bit] = s.name
				if b := bits.get(s.name); b != s.bit {
					t.Errorf("get(%q) = %d, want %d", s.name, b, s.bit)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("allowed parameters differ from the schema's (-schema +table):\n%s", diff)
			}
			for _, name := range []string{"", "E", "cxx", "c", "tv ", "ue", "se_v"} {
				if b := bits.get(name); b != 0 {
					t.Errorf("get(%q) = %d, want 0", name, b)
				}
			}
		})
	}
}
