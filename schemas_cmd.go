package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/iglu/igluclient"
)

const schemasUsage = `Usage:
  snowplow-mini schemas lint DIR [--info]
  snowplow-mini schemas push DIR [--server URL] [--apikey KEY] [--public] [--retry-for DURATION]

lint checks every schema of DIR (static-repository layout: [schemas/]{vendor}/{name}/jsonschema/{version})
as an Iglu Server checks it before publishing: valid draft-04, self-describing, self matching the path,
and schema-ddl's lints. ERROR findings make it exit 1; WARNING (and, with --info, INFO) findings are shown.

push lints DIR, then publishes every schema to an Iglu Server (snowplow-mini serve, or any Iglu Server
0.14) with PUT /api/schemas/{vendor}/{name}/{format}/{version} and the apikey header, in SchemaVer order,
waiting for a server that is still starting, and reads each schema back to compare. Pushing the same
folder twice succeeds (unchanged schemas are reported as such).

The API key is --apikey, else $SNOWPLOW_MINI_IGLU_API_KEY, else $SNOWPLOW_MINI_IGLU_SUPER_API_KEY.

Example:
  snowplow-mini schemas lint ./schemas
  SNOWPLOW_MINI_IGLU_SUPER_API_KEY=$(uuidgen) snowplow-mini serve --schemas ./schemas &
  snowplow-mini schemas push ./my-schemas --server http://localhost:9090 --public
`

// schemasCmd runs `snowplow-mini schemas lint|push`.
func schemasCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, schemasUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("schemas "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		server   = fs.String("server", "http://localhost:9090", "Iglu Server root URL (push)")
		apikey   = fs.String("apikey", "", "API key sent in the apikey header (push)")
		public   = fs.Bool("public", false, "publish the schemas as public (push)")
		retryFor = fs.Duration("retry-for", 2*time.Minute, "how long to retry a request while the server is unreachable or failing (push)")
		info     = fs.Bool("info", false, "also show INFO findings (lint)")
	)
	// Flags may come before or after DIR.
	var dirs []string
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, schemasUsage)
				return 0
			}
			fmt.Fprintf(stderr, "snowplow-mini schemas %s: %v\n\n%s", sub, err, schemasUsage)
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		dirs = append(dirs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(dirs) != 1 {
		fmt.Fprintf(stderr, "snowplow-mini schemas %s: want exactly one schema folder, got %d\n\n%s", sub, len(dirs), schemasUsage)
		return 2
	}
	switch sub {
	case "lint":
		rep, err := igluclient.LintDir(dirs[0])
		if err != nil {
			fmt.Fprintf(stderr, "snowplow-mini schemas lint: %v\n", err)
			return 1
		}
		printLint(stdout, rep, *info)
		if n := rep.Errors(); n > 0 {
			fmt.Fprintf(stdout, "%d of %d schemas have errors\n", n, len(rep.Files))
			return 1
		}
		fmt.Fprintf(stdout, "%d schemas, no errors\n", len(rep.Files))
		return 0
	case "push":
		key := *apikey
		for _, env := range []string{"SNOWPLOW_MINI_IGLU_API_KEY", "SNOWPLOW_MINI_IGLU_SUPER_API_KEY"} {
			if key == "" {
				key = getenv(env)
			}
		}
		retry := igluclient.RetryPolicy{Timeout: *retryFor}
		if *retryFor <= 0 {
			retry.Timeout = -1
		}
		rep, err := igluclient.Push(ctx, igluclient.PushOptions{
			Server: *server, APIKey: key, Dir: dirs[0], Public: *public, Retry: retry,
			Progress: func(r igluclient.PushResult) {
				if r.Status == igluclient.StatusFailed {
					fmt.Fprintf(stdout, "FAILURE: %s (%s): %s\n", r.Key, r.Path, r.Message)
					return
				}
				fmt.Fprintf(stdout, "%s: %s\n", r.Status, r.Key)
			},
		})
		if errors.Is(err, igluclient.ErrLint) {
			printLint(stdout, rep.Lint, false)
		}
		if len(rep.Results) > 0 {
			fmt.Fprintf(stdout, "TOTAL: %d schemas published (%d created, %d updated, %d unchanged), %d failed\n",
				rep.Count(igluclient.StatusCreated)+rep.Count(igluclient.StatusUpdated)+rep.Count(igluclient.StatusUnchanged),
				rep.Count(igluclient.StatusCreated), rep.Count(igluclient.StatusUpdated), rep.Count(igluclient.StatusUnchanged),
				rep.Count(igluclient.StatusFailed))
		}
		if err != nil {
			fmt.Fprintf(stderr, "snowplow-mini schemas push: %v\n", err)
			return 1
		}
		return 0
	default:
		fmt.Fprintf(stderr, "snowplow-mini schemas: unknown subcommand %q\n\n%s", sub, schemasUsage)
		return 2
	}
}

// printLint prints the findings of a folder, one line each: LEVEL path pointer: message.
func printLint(w io.Writer, rep igluclient.LintReport, info bool) {
	for _, f := range rep.Files {
		rel, err := filepath.Rel(rep.Root, f.Path)
		if err != nil {
			rel = f.Path
		}
		for _, m := range f.Messages {
			if m.Level == iglu.LintInfo && !info {
				continue
			}
			fmt.Fprintf(w, "%-7s %s %s: %s\n", m.Level, filepath.ToSlash(rel), m.Pointer, m.Message)
		}
	}
}
