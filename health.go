package main

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// HealthConfig configures /health.
type HealthConfig struct {
	// StallTimeout: /health answers 503 when a stage has had records waiting on one of
	// its input streams for this long without making progress on them (a database
	// that keeps failing, a handler stuck), not only when a stage has stopped. The
	// S3-style loader is given loaders.s3.maxFileAge more, since it holds records
	// until it stores their file. Default 1m; at least 1s.
	StallTimeout time.Duration `yaml:"stallTimeout"`
}

// defaultStallTimeout is HealthConfig.StallTimeout's default: well past the sink's
// longest backoff (10 s) and the S3-style loader's file age, so that a stage working
// through a backlog is not reported.
const defaultStallTimeout = time.Minute

// Validate reports what is wrong with c.
func (c HealthConfig) Validate() error {
	if c.StallTimeout < time.Second {
		return fmt.Errorf("health.stallTimeout: %s: must be at least 1s", c.StallTimeout)
	}
	return nil
}

// pipeStream is what serve needs of one of its streams (streams.Memory or
// streams.Durable): the stream and checkpointer the stages use, and the progress of its
// consumer groups for /health.
type pipeStream interface {
	streams.Stream
	streams.Checkpointer
	Pending(group string) (n int64, idle time.Duration)
	Close() error
}

// watch is one consumer group on one stream, as /health checks it.
type watch struct {
	stage, group string
	stream       pipeStream
	// grace is added to the stall timeout: the S3-style loader checkpoints a file's
	// records only when it stores the file, up to loaders.s3.maxFileAge after the
	// first.
	grace time.Duration
}

// watches lists every stage's consumer group on every stream it reads.
func watches(cfg Config, ss map[string]pipeStream) []watch {
	stages := map[string]string{
		enrich.ConsumerGroup:   "enrich",
		cfg.Loaders.Sink.Group: "event store",
	}
	if cfg.Loaders.S3.Enabled {
		stages[cfg.Loaders.S3.Group] = "s3 loader"
	}
	if cfg.Loaders.Stdout.Format != "" {
		stages[cfg.Loaders.Stdout.Group] = "stdout output"
	}
	var out []watch
	for name, groups := range consumerGroups(cfg) {
		s := ss[name]
		if s == nil {
			continue
		}
		for _, g := range groups {
			w := watch{stage: stages[g], group: g, stream: s}
			if cfg.Loaders.S3.Enabled && g == cfg.Loaders.S3.Group {
				w.grace = cfg.Loaders.S3.MaxFileAge.Std()
			}
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b watch) int {
		if a.stage != b.stage {
			return cmp.Compare(a.stage, b.stage)
		}
		return cmp.Compare(a.stream.Name(), b.stream.Name())
	})
	return out
}

// stalls returns one error per stage and stream where records have waited longer than
// timeout with no progress.
func stalls(ws []watch, timeout time.Duration) []error {
	var errs []error
	for _, w := range ws {
		n, idle := w.stream.Pending(w.group)
		if n > 0 && idle >= timeout+w.grace {
			errs = append(errs, fmt.Errorf("%s: no progress for %s on %d records pending on stream %s (consumer group %q)",
				w.stage, idle.Round(time.Second), n, w.stream.Name(), w.group))
		}
	}
	return errs
}
