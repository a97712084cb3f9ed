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
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx := watchSignals(context.Background(), sigs, os.Stderr, os.Exit)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil)
	signal.Stop(sigs)
	os.Exit(code)
}

// watchSignals returns a context cancelled by the first signal on sigs, which starts the
// orderly shutdown (serve drains the pipeline). A second signal stops the process at once
// with exit, 128 plus the signal number as shells report it, after saying so on stderr:
// a drain waiting on a stuck database must not hold a user who asks twice.
func watchSignals(parent context.Context, sigs <-chan os.Signal, stderr io.Writer, exit func(int)) context.Context {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-parent.Done():
			return
		}
		s := <-sigs
		fmt.Fprintf(stderr, "snowplow-mini: second %v: stopping at once, without draining\n", s)
		code := 1
		if n, ok := s.(syscall.Signal); ok {
			code = 128 + int(n)
		}
		exit(code)
	}()
	return ctx
}

const usage = `snowplow-mini: the Snowplow pipeline (collector, enrich, Iglu, loaders, test API) in one binary.

Usage:
  snowplow-mini serve [flags]         run the pipeline (default localhost:9090)
  snowplow-mini run <stage> [flags]   run one stage over Kinesis: collector, enrich, loader, s3-loader
  snowplow-mini check-config [flags]  validate the configuration and exit
  snowplow-mini schemas lint DIR      lint a schema folder as Iglu Server does
  snowplow-mini schemas push DIR      publish a schema folder to an Iglu Server (see schemas --help)
  snowplow-mini deploy aws <command>  deploy the local setup to AWS (init, check, plan, apply, destroy, push-schemas)
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
	case "run":
		return runCommand(ctx, rest, getenv, stdout, stderr, ready)
	case "schemas":
		return schemasCmd(ctx, rest, getenv, stdout, stderr)
	case "deploy":
		return runDeploy(ctx, rest, getenv, stdout, stderr)
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
