package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// stageSet says which stages a process runs: serve runs them all, `run <stage>` one.
// Every stage is wired the same way in both (build).
type stageSet struct {
	collector, enrich, loader, s3Loader, stdout, testAPI bool
}

// allStages is what serve runs.
func allStages(cfg Config) stageSet {
	return stageSet{
		collector: true,
		enrich:    true,
		loader:    true,
		s3Loader:  cfg.Loaders.S3.Enabled,
		stdout:    cfg.Loaders.Stdout.Format != "",
		testAPI:   true,
	}
}

// runStages are the stages `run` can start as a process of their own.
var runStages = map[string]stageSet{
	"collector": {collector: true},
	"enrich":    {enrich: true},
	"loader":    {loader: true},
	"s3-loader": {s3Loader: true},
}

func (s stageSet) String() string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{s.collector, "collector"}, {s.enrich, "enrich"}, {s.loader, "loader"}, {s.s3Loader, "s3-loader"}, {s.stdout, "stdout"}, {s.testAPI, "test-api"}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, ",")
}

// consumers lists, per stream, the consumer groups of the stages in s.
func (s stageSet) consumers(cfg Config) map[string][]string {
	g := map[string][]string{}
	add := func(on bool, group string, names ...string) {
		if !on {
			return
		}
		for _, n := range names {
			g[n] = append(g[n], group)
		}
	}
	add(s.enrich, enrich.ConsumerGroup, streams.Raw)
	sink := cfg.Loaders.Sink
	add(s.loader, sink.Group, append([]string{sink.EnrichedStream}, sink.BadStreams...)...)
	add(s.s3Loader, cfg.Loaders.S3.Group, cfg.Loaders.S3.Streams...)
	add(s.stdout, cfg.Loaders.Stdout.Group, cfg.Loaders.Stdout.Stream)
	return g
}

// openStreams creates the four streams on the configured backend: in this process
// (memory, or durable on disk; each
// told the groups that read it, so that retention keeps what they have not read), or
// on Kinesis (checked to exist, with the lease tables of this process's groups).
func (p *pipeline) openStreams(ctx context.Context, cfg Config, groups map[string][]string, logger *slog.Logger, reg prometheus.Registerer) error {
	if cfg.Streams.Backend == backendKinesis {
		ks, err := openKinesis(ctx, cfg.Kinesis, groups, p.sel.consumers(cfg), logger, reg)
		if err != nil {
			return err
		}
		for name, s := range ks {
			p.streams[name] = s
			p.checkpointers[name] = s
		}
		return nil
	}
	after := storedSequenceNumber(ctx, cfg, logger)
	for _, name := range streamNames {
		sc := cfg.streamConfig(name, groups[name])
		sc.After, sc.Clock = after, cfg.clock
		var s pipeStream
		var err error
		if cfg.Streams.Durable {
			s, err = streams.NewDurable(sc, streams.DurableConfig{Dir: filepath.Join(cfg.DataDir, "streams", name)}, logger, reg)
		} else {
			s, err = streams.NewMemory(sc, logger, reg)
		}
		if err != nil {
			return fmt.Errorf("stream %s: %w", name, err)
		}
		p.streams[name] = s
		p.checkpointers[name] = s
		p.local[name] = s
		p.closers = append(p.closers, s.Close)
	}
	return nil
}

// runCommand is `snowplow-mini run <stage> [flags]`: one stage, over Kinesis.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready func(string)) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 {
			if _, err := loadConfig("run", args, getenv, stdout); errors.Is(err, flag.ErrHelp) {
				return 0
			}
		}
		fmt.Fprintf(stderr, "snowplow-mini run: name a stage: %s (see snowplow-mini run --help)\n", strings.Join(runStageNames(), ", "))
		return 2
	}
	name := args[0]
	sel, ok := runStages[name]
	if !ok {
		fmt.Fprintf(stderr, "snowplow-mini run: unknown stage %q, want one of %s\n", name, strings.Join(runStageNames(), ", "))
		return 2
	}
	cfg, err := loadConfig("run", args[1:], getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "snowplow-mini run %s: %v\n", name, err)
		return 2
	}
	cfg.Streams.Backend = backendKinesis
	if cfg.Kinesis.AppName != "" {
		for _, groups := range sel.consumers(cfg) {
			for _, g := range groups {
				if cfg.Kinesis.AppNames == nil {
					cfg.Kinesis.AppNames = map[string]string{}
				}
				cfg.Kinesis.AppNames[g] = cfg.Kinesis.AppName
			}
		}
	}
	if err := serveStages(ctx, cfg, sel, getenv, stdout, stderr, ready); err != nil {
		fmt.Fprintf(stderr, "snowplow-mini run %s: %v\n", name, err)
		return 1
	}
	return 0
}

func runStageNames() []string {
	names := make([]string, 0, len(runStages))
	for n := range runStages {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
