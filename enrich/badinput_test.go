package enrich

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// badCase is one entry of the catalogue of bad inputs in testdata/enrich/bad.
type badCase struct {
	Description string    `json:"description"`
	Requests    []request `json:"requests"`
	Records     []string  `json:"records"` // raw records, base64
	WantBad     []string  `json:"wantBad"`
	WantGood    int       `json:"wantGood"`
}

// TestBadInputs runs the catalogue: each input must give exactly the expected bad-row
// types (and good events), every bad row must be valid against its Iglu Central schema,
// and the rows must match the reviewed golden files.
func TestBadInputs(t *testing.T) {
	dir := goldenPath(t, "bad")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogue in %s: %v", dir, err)
	}
	res := testResolver(t)
	checker := testResolver(t, sharedDir(t, "iglu-central"))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var c badCase
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatalf("catalogue entry: %v", err)
			}
			var records [][]byte
			for _, r := range c.Requests {
				records = append(records, encodePayload(t, collectorPayload(r)))
			}
			for _, r := range c.Records {
				raw, err := base64.StdEncoding.DecodeString(r)
				if err != nil {
					t.Fatal(err)
				}
				records = append(records, raw)
			}
			e := newTestEnricher(t, res, nil)
			var types []string
			var rows bytes.Buffer
			good := 0
			for _, rec := range records {
				r := process(t, e, rec)
				good += len(r.Good)
				for _, bad := range r.Bad {
					types = append(types, bad.Type)
					checkBadRow(t, checker, bad.JSON)
					rows.Write(bad.JSON)
					rows.WriteByte('\n')
				}
			}
			if diff := cmp.Diff(c.WantBad, types); diff != "" {
				t.Errorf("bad-row types (-want +got):\n%s\n%s", diff, rows.String())
			}
			if good != c.WantGood {
				t.Errorf("good events = %d, want %d", good, c.WantGood)
			}
			checkGolden(t, filepath.Join("bad", name+".badrows.jsonl"), rows.Bytes())
		})
	}
}

// checkBadRow validates a bad row against its schema (from Iglu Central).
func checkBadRow(t *testing.T, res *iglu.Resolver, row []byte) {
	t.Helper()
	v, jerr := jvm.ParseJSON(string(row), 1000)
	if jerr != nil {
		t.Fatalf("bad row is not JSON: %v\n%s", jerr, row)
	}
	key, data, err := iglu.ParseSelfDescribingValue(v)
	if err != nil {
		t.Fatalf("bad row is not self-describing: %v\n%s", err, row)
	}
	if _, err := res.Validate(context.Background(), key, data); err != nil {
		ce, _ := json.Marshal(err)
		t.Errorf("bad row invalid against %s: %s\n%s", key, ce, row)
	}
	if !slices.Contains([]string{"size_violation", "collector_payload_format_violation", "adapter_failures", "tracker_protocol_violations", "schema_violations", "enrichment_failures"}, key.Name) {
		t.Errorf("unexpected bad-row schema %s", key)
	}
}
