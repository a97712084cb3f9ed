// Command snowplow-mini runs the whole Snowplow behavioural-data pipeline in one
// process: collector -> raw stream -> enrich -> enriched / bad-1 streams -> loaders
// (SQLite or PostgreSQL, S3-style files, stdout) and the Snowplow-Micro-compatible
// test API, all on one port.
//
// This file is the only place that knows every stage: it builds the configuration,
// the logger and the metrics registry, constructs the streams and stages, runs them,
// and shuts them down in pipeline order. The stages never import each other.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is the snowplow-mini version; release builds set it with
// -ldflags "-X main.version=1.2.3".
var version = "0.1.0"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}

const usage = `snowplow-mini: the Snowplow pipeline (collector, enrich, Iglu, loaders, test API) in one binary.

Usage:
  snowplow-mini serve [flags]         run the pipeline (default localhost:9090)
  snowplow-mini check-config [flags]  validate the configuration and exit
  snowplow-mini schemas lint DIR      lint a schema folder as Iglu Server does
  snowplow-mini schemas push DIR      publish a schema folder to an Iglu Server (see schemas --help)
  snowplow-mini version               print the version
  snowplow-mini help [command]        show help

Example:
  snowplow-mini serve
  curl 'http://localhost:9090/i?e=pv&p=web&tv=curl&url=https%3A%2F%2Fexample.com%2F'
  curl http://localhost:9090/micro/good

Run "snowplow-mini <command> --help" for a command's flags.
`

// run is main without the process: tests call it with their own context, arguments,
// environment and writers. ready, when not nil, is called with the listening address
// once serve accepts requests. It returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(addr string)) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve", "check-config":
		cfg, err := loadConfig(cmd, rest, getenv, stdout)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "snowplow-mini %s: %v\n", cmd, err)
			return 2
		}
		if cmd == "check-config" {
			return checkConfig(ctx, cfg, getenv, stdout, stderr)
		}
		if err := serve(ctx, cfg, getenv, stdout, stderr, ready); err != nil {
			fmt.Fprintf(stderr, "snowplow-mini serve: %v\n", err)
			return 1
		}
		return 0
	case "schemas":
		return schemasCmd(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "snowplow-mini %s\n", version)
		return 0
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 && commandHelp[rest[0]] != "" {
			_, _ = loadConfig(rest[0], []string{"--help"}, getenv, stdout)
			return 0
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "snowplow-mini: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
