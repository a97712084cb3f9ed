package tfcheck

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Module is the interface of one version of a registry module: the variables it
// accepts and the outputs it has. It is data taken from the module's variables.tf and
// outputs.tf at its release tag (see ReadModuleDir), so arguments can be checked
// without downloading the module.
type Module struct {
	Source    string              `json:"source"`  // registry address, e.g. "snowplow-devops/kinesis-stream/aws"
	Version   string              `json:"version"` // exact version, e.g. "0.3.0"
	Variables map[string]Variable `json:"variables"`
	Outputs   []string            `json:"outputs"`
}

// Variable is one input variable of a module.
type Variable struct {
	// Type is the type constraint as written in the module ("list(string)"); empty
	// means any type.
	Type string `json:"type,omitempty"`
	// Required is true when the variable has no default, so a caller must set it.
	Required bool `json:"required,omitempty"`
}

// Manifest maps "source@version" to the module's interface.
type Manifest map[string]Module

// Key is the manifest key of a module version.
func Key(source, version string) string { return source + "@" + version }

// Lookup returns the interface of the module version.
func (m Manifest) Lookup(source, version string) (Module, bool) {
	mod, ok := m[Key(source, version)]
	return mod, ok
}

//go:embed modules.json
var embeddedManifest []byte

// Embedded returns the manifest of every module version snowplow-mini renders, extracted
// from the modules' release tags. The result is the caller's to modify.
func Embedded() (Manifest, error) {
	var list []Module
	if err := json.Unmarshal(embeddedManifest, &list); err != nil {
		return nil, fmt.Errorf("embedded module manifest: %w", err)
	}
	m := make(Manifest, len(list))
	for _, mod := range list {
		m[Key(mod.Source, mod.Version)] = mod
	}
	return m, nil
}

// MarshalManifest encodes modules in the layout of modules.json: sorted by source and
// version, indented, so that a regeneration diffs cleanly.
func MarshalManifest(m Manifest) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]Module, 0, len(keys))
	for _, k := range keys {
		list = append(list, m[k])
	}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ReadModuleDir extracts the interface of a module from a checkout of it: every
// `variable` block (its type constraint, and whether it has a default) and every
// `output` block of the *.tf files at the top of dir.
func ReadModuleDir(dir, source, version string) (Module, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return Module{}, err
	}
	if len(paths) == 0 {
		return Module{}, fmt.Errorf("no *.tf files in %s", dir)
	}
	mod := Module{Source: source, Version: version, Variables: map[string]Variable{}}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return Module{}, err
		}
		f, diags := hclsyntax.ParseConfig(src, p, hcl.InitialPos)
		if diags.HasErrors() {
			return Module{}, diags
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if len(b.Labels) != 1 {
				continue
			}
			switch b.Type {
			case "variable":
				v := Variable{Required: true}
				if a, ok := b.Body.Attributes["type"]; ok {
					v.Type = string(a.Expr.Range().SliceBytes(src))
				}
				if _, ok := b.Body.Attributes["default"]; ok {
					v.Required = false
				}
				mod.Variables[b.Labels[0]] = v
			case "output":
				mod.Outputs = append(mod.Outputs, b.Labels[0])
			}
		}
	}
	slices.Sort(mod.Outputs)
	return mod, nil
}
