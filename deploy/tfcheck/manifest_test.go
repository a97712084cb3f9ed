package tfcheck

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modulesDir regenerates modules.json from checkouts of the pinned modules:
// <dir>/<name>@<version>/*.tf, e.g. kinesis-stream@0.3.0, each the module's release tag.
var modulesDir = flag.String("modules-dir", "", "regenerate modules.json from module checkouts in this folder (<name>@<version>)")

// TestRegenerateManifest rewrites modules.json when -modules-dir is given; otherwise it
// only checks that the embedded file decodes and is in canonical form.
func TestRegenerateManifest(t *testing.T) {
	if *modulesDir == "" {
		m, err := Embedded()
		if err != nil {
			t.Fatal(err)
		}
		got, err := MarshalManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(embeddedManifest), string(got)); diff != "" {
			t.Errorf("modules.json is not in canonical form (regenerate with -modules-dir):\n%s", diff)
		}
		return
	}
	dirs, err := filepath.Glob(filepath.Join(*modulesDir, "*@*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no <name>@<version> folders in %s", *modulesDir)
	}
	m := Manifest{}
	for _, d := range dirs {
		name, version, _ := strings.Cut(filepath.Base(d), "@")
		mod, err := ReadModuleDir(d, "snowplow-devops/"+name+"/aws", version)
		if err != nil {
			t.Fatal(err)
		}
		m[Key(mod.Source, mod.Version)] = mod
	}
	out, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("modules.json", out, 0o644); err != nil {
		t.Fatal(err)
	}
}
