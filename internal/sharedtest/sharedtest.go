// Package sharedtest finds the reference material tests check against: recorded
// tracker requests and Iglu Central schemas in ../shared, beside the repository root.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns ../shared/sub beside the repository root. When it is absent the test is
// skipped with why, or fails when SNOWPLOW_MINI_INTEGRATION=1 makes such tests mandatory.
func Path(t testing.TB, sub, why string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatalf("%s is absent: %v", p, err)
		}
		t.Skipf("%s is absent (%s): put the shared material beside the repository", p, why)
	}
	return p
}
