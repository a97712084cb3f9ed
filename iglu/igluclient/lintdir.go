// Package igluclient is a client of Iglu Server's REST API (0.14) for the commands that
// publish schemas: `snowplow-mini schemas push|lint` and `deploy aws push-schemas`. It
// reads a local schema folder in static-repository layout, lints it (iglu.Lint, the
// checks Iglu Server makes before publishing), and publishes it in SchemaVer order as
// `igluctl static push` does (PUT /api/schemas/{vendor}/{name}/{format}/{version}
// with the apikey header), then reads every schema back to compare.
//
// It imports only iglu; nothing in the pipeline imports it.
package igluclient

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// maxSchemaFile bounds a schema file read from the folder.
const maxSchemaFile = 4 << 20

// SchemaFile is one schema of a local folder.
type SchemaFile struct {
	// Path is the file's path as found under the folder.
	Path string
	// Key is the key the file's path names (vendor/name/format/version); zero when the
	// path is not in the static layout.
	Key iglu.SchemaKey
	// Raw is the file's content.
	Raw []byte
	// Messages are the lint findings, including the layout checks of this package
	// (path and self agree).
	Messages []iglu.LintMessage
}

// HasErrors reports whether the file has an ERROR-level finding.
func (f SchemaFile) HasErrors() bool { return iglu.HasLintErrors(f.Messages) }

// LintReport is the outcome of linting a folder.
type LintReport struct {
	// Root is the folder the schemas were read from (DIR/schemas when it exists).
	Root  string
	Files []SchemaFile
}

// Errors counts the files with an ERROR-level finding.
func (r LintReport) Errors() int {
	n := 0
	for _, f := range r.Files {
		if f.HasErrors() {
			n++
		}
	}
	return n
}

// ErrLint is returned (wrapped) when a folder has schemas with ERROR-level findings.
var ErrLint = errors.New("schemas have lint errors")

// LintDir reads every file of dir (or dir/schemas when it exists) as a schema in
// static-repository layout, {vendor}/{name}/{format}/{version} with or without ".json",
// and lints it. Beyond iglu.Lint, a file must sit at that depth and its "self" must
// name the same key as its path. Hidden files and folders are skipped. Files are
// returned sorted by key (then path). The error is for an unreadable folder; lint
// findings are in the report (see LintReport.Errors).
func LintDir(dir string) (LintReport, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return LintReport{}, fmt.Errorf("schema folder: %w", err)
	}
	if !st.IsDir() {
		return LintReport{}, fmt.Errorf("schema folder %s: not a directory", dir)
	}
	root := dir
	if st, err := os.Stat(filepath.Join(dir, "schemas")); err == nil && st.IsDir() {
		root = filepath.Join(dir, "schemas")
	}
	rep := LintReport{Root: root}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rep.Files = append(rep.Files, lintFile(p, filepath.ToSlash(rel)))
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("reading schema folder %s: %w", root, err)
	}
	slices.SortFunc(rep.Files, func(a, b SchemaFile) int {
		if c := a.Key.Compare(b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	return rep, nil
}

func lintFile(path, rel string) SchemaFile {
	f := SchemaFile{Path: path}
	fail := func(format string, args ...any) {
		f.Messages = append(f.Messages, iglu.LintMessage{Message: fmt.Sprintf(format, args...), Level: iglu.LintError, Pointer: "/", Linter: "layout"})
	}
	parts := strings.Split(rel, "/")
	if len(parts) == 4 {
		k, err := iglu.ParseSchemaKey("iglu:" + strings.Join(parts[:3], "/") + "/" + strings.TrimSuffix(parts[3], ".json"))
		if err != nil {
			fail("The path %s does not name a schema ({vendor}/{name}/{format}/{version}): %v", rel, err)
		} else {
			f.Key = k
		}
	} else {
		fail("The path %s is not in the static repository layout {vendor}/{name}/{format}/{version}", rel)
	}
	raw, err := readFile(path)
	if err != nil {
		fail("Cannot read the file: %v", err)
		return f
	}
	f.Raw = raw
	f.Messages = append(f.Messages, iglu.Lint(raw)...)
	if self, err := iglu.SchemaSelf(raw); err == nil && !f.Key.IsZero() && self != f.Key {
		fail("The schema's self %s does not match its path, which names %s", self, f.Key)
	}
	return f
}

func readFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > maxSchemaFile {
		return nil, fmt.Errorf("larger than %d bytes", maxSchemaFile)
	}
	return os.ReadFile(path)
}
