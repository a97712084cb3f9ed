package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// PushOptions say which schemas to push to which Iglu Server.
type PushOptions struct {
	Server string // Iglu Server base URL, e.g. http://host (a trailing /api is accepted)
	APIKey string // super or write key; never printed nor put on a command line
	Dir    string // static schema folder
	Public bool
	// RetryFor bounds the retries of a request while the server is unreachable or
	// failing (it may still be booting); 0 keeps the pusher's default.
	RetryFor time.Duration
}

// Pusher publishes a schema folder: `snowplow-mini schemas push` (lint, then PUT in
// SchemaVer order with the apikey header, read back), which main provides so that
// there is one push command, whatever calls it.
type Pusher func(ctx context.Context, o PushOptions) error

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
