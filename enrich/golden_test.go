package enrich

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/enrich")

// goldenPath is testdata/enrich/<name> at the repository root.
func goldenPath(t testing.TB, name string) string {
	return filepath.Join(sharedtest.Root(t), "testdata", "enrich", name)
}

// checkGolden compares got with the golden file (or rewrites it with -update).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := goldenPath(t, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./enrich -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (-want +got):\n%s", name, cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")))
	}
}

// TestGoldenFixtures sends every recorded tracker request through enrich, recorded as the
// collector records it, and compares the enriched TSV lines with reviewed golden files.
// Every fixture event must be good.
func TestGoldenFixtures(t *testing.T) {
	res := testResolver(t)
	for _, name := range fixtureNames(t) {
		t.Run(name, func(t *testing.T) {
			e := newTestEnricher(t, res, nil)
			r := process(t, e, encodePayload(t, collectorPayload(loadFixture(t, name))))
			for _, b := range r.Bad {
				t.Errorf("bad row %s: %s", b.Type, b.JSON)
			}
			if len(r.Good) == 0 {
				t.Fatal("no good event")
			}
			checkGoodEntities(t, r)
			var out bytes.Buffer
			for _, g := range r.Good {
				out.Write(g.TSV)
				out.WriteByte('\n')
			}
			checkGolden(t, name+".tsv", out.Bytes())
		})
	}
}
