package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/iglu/igluclient"
)

// PushOptions configure PushSchemas.
type PushOptions struct {
	Server     string // Iglu Server base URL, e.g. http://host (a trailing /api is accepted)
	APIKey     string // super or write key; never printed
	Dir        string // static schema folder
	Public     bool
	Stdout     io.Writer
	Retry      igluclient.RetryPolicy
	HTTPClient *http.Client
}

// PushSchemas lints the schema folder and publishes it to the Iglu Server in SchemaVer
// order, as `igluctl static push` does, reading each schema back to compare (see
// igluclient.Push). It prints one line per schema and every lint finding.
func PushSchemas(ctx context.Context, o PushOptions) error {
	fmt.Fprintf(o.Stdout, "Pushing %s to %s\n", o.Dir, o.Server)
	rep, err := igluclient.Push(ctx, igluclient.PushOptions{
		Server: o.Server, APIKey: o.APIKey, Dir: o.Dir, Public: o.Public,
		Retry: o.Retry, HTTPClient: o.HTTPClient,
		Progress: func(r igluclient.PushResult) {
			line := fmt.Sprintf("  %-9s %s", r.Status, r.Key)
			if r.Status == igluclient.StatusFailed && r.Message != "" {
				line += ": " + r.Message
			}
			fmt.Fprintln(o.Stdout, line)
		},
	})
	if errors.Is(err, igluclient.ErrLint) {
		for _, f := range rep.Lint.Files {
			if !f.HasErrors() {
				continue
			}
			for _, m := range f.Messages {
				fmt.Fprintf(o.Stdout, "  %s: %s %s (at %s)\n", f.Path, m.Level, m.Message, m.Pointer)
			}
		}
		return fmt.Errorf("nothing was pushed: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "%d schema(s): %d created, %d updated, %d unchanged\n", len(rep.Results),
		rep.Count(igluclient.StatusCreated), rep.Count(igluclient.StatusUpdated), rep.Count(igluclient.StatusUnchanged))
	return nil
}

// pushDefaults fills what push-schemas was not given from the deploy folder: the
// copied schemas, the Iglu Server address apply wrote, and the generated key.
func pushDefaults(o *PushOptions, dir string) error {
	if o.Dir == "" {
		o.Dir = filepath.Join(dir, StackIglu, "schemas")
	}
	if o.Server == "" {
		vals, err := readTFVars(filepath.Join(dir, StackPipeline, igluAutoTFVars))
		if err != nil {
			return err
		}
		o.Server = stringVar(vals, "iglu_server_dns_name")
		if o.Server == "" {
			return fmt.Errorf("no Iglu Server address: give --iglu-url, or deploy the Iglu stack first (deploy aws apply writes %s)", filepath.Join(dir, StackPipeline, igluAutoTFVars))
		}
	}
	if o.APIKey == "" {
		k, err := igluKey(dir)
		if err != nil {
			return err
		}
		o.APIKey = k
	}
	if _, err := os.Stat(o.Dir); err != nil {
		return fmt.Errorf("schema folder: %w", err)
	}
	o.Server = strings.TrimRight(o.Server, "/")
	return nil
}
