// Package sharedtest finds the reference material tests check against: recorded
// tracker requests and Iglu Central schemas in ../shared, beside the repository root.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root: the directory holding go.mod, above the test's
// package directory. Tests find the repository's own testdata through it.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the package directory")
		}
		dir = parent
	}
}

// Path returns ../shared/sub beside the repository root. When it is absent the test is
// skipped with why, or fails when SNOWPLOW_MINI_INTEGRATION=1 makes such tests mandatory.
func Path(t testing.TB, sub, why string) string {
	t.Helper()
	p := filepath.Join(Root(t), "..", "shared", sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatalf("%s is absent: %v", p, err)
		}
		t.Skipf("%s is absent (%s): put the shared material beside the repository", p, why)
	}
	return p
}
