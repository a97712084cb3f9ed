package loaders

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// StdoutLoader prints every good event of the enriched stream on a writer, one line
// each: the enriched TSV as it is on the stream, or its Analytics-SDK JSON
// (event.EnrichedEvent.AppendJSON). Lines of one batch are written together; batches of
// different shards do not interleave. Records that are not valid enriched events are
// skipped in JSON mode (the sink turns them into bad rows) and printed as they are in
// TSV mode. Delivery is at least once.
type StdoutLoader struct {
	cfg     StdoutConfig
	log     *slog.Logger
	in      Input
	out     io.Writer
	mu      sync.Mutex // serialises writes to out
	printed prometheus.Counter

	drain     chan struct{}
	drainOnce sync.Once
	started   atomic.Bool
	done      chan struct{}
}

// NewStdoutLoader validates cfg and deps (Deps.Stdout is required).
func NewStdoutLoader(cfg StdoutConfig, deps Deps) (*StdoutLoader, error) {
	if cfg.Format == "" {
		return nil, errors.New("loaders.stdout.format: the stdout loader is off")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in, err := deps.input("loaders.stdout.stream", cfg.Stream)
	if err != nil {
		return nil, err
	}
	if deps.Stdout == nil {
		return nil, errors.New("loaders.stdout: no writer to print to")
	}
	l := &StdoutLoader{
		cfg: cfg,
		log: deps.logger("stdout-loader"),
		in:  in,
		out: deps.Stdout,
		printed: prometheus.NewCounter(prometheus.CounterOpts{
			Name:        "snowplow_mini_stdout_loader_events_total",
			Help:        "Events printed on standard output.",
			ConstLabels: prometheus.Labels{"format": cfg.Format},
		}),
		drain: make(chan struct{}),
		done:  make(chan struct{}),
	}
	if err := register(deps.Registerer, l.printed); err != nil {
		return nil, err
	}
	return l, nil
}

// Run prints events until ctx is done or Shutdown has drained the stream; both return
// nil. A failing writer is retried with backoff.
func (l *StdoutLoader) Run(ctx context.Context) error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("stdout loader: Run called twice")
	}
	defer close(l.done)
	err := streams.Consume(ctx, l.in.Stream, l.in.Checkpointer, streams.ConsumeOptions{
		Group:  l.cfg.Group,
		Drain:  l.drain,
		Logger: l.log,
	}, l.print)
	if err != nil {
		return fmt.Errorf("stdout loader: %w", err)
	}
	return nil
}

// Shutdown asks Run to print what is already on the stream and return, and waits for
// it until ctx is done.
func (l *StdoutLoader) Shutdown(ctx context.Context) error {
	l.drainOnce.Do(func() { close(l.drain) })
	if !l.started.Load() {
		return nil
	}
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stdout loader shutdown: %w", ctx.Err())
	}
}

func (l *StdoutLoader) print(_ context.Context, recs []streams.Record) error {
	var buf []byte
	n := 0
	for i := range recs {
		data := recs[i].Data
		if l.cfg.Format == "tsv" {
			buf = append(buf, data...)
			buf = append(buf, '\n')
			n++
			continue
		}
		ev, err := event.ParseTSV(data)
		if err != nil {
			l.log.Debug("skipping a record that is not an enriched event", "err", err)
			continue
		}
		mark := len(buf)
		if buf, err = ev.AppendJSON(buf); err != nil {
			buf = buf[:mark]
			l.log.Debug("skipping an event that has no JSON form", "err", err)
			continue
		}
		buf = append(buf, '\n')
		n++
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.out.Write(buf); err != nil {
		return fmt.Errorf("printing events: %w", err)
	}
	l.printed.Add(float64(n))
	return nil
}
