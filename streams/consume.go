package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Handler processes one batch of records. Every record of a call comes from the same
// shard, in sequence order; calls for one shard are sequential, and calls for different
// shards run concurrently. Returning nil lets Consume checkpoint the batch; returning
// an error makes Consume call again with the same records after a backoff, except an
// error matching ErrClosed, ErrShardNotFound or ErrInvalidArgument (say, from a Put to
// a closed output stream), which stops Consume with that error. ctx is done
// when Consume must stop at once. The records' Data must not be modified (it may be
// shared with other consumer groups); the slice itself is the handler's to keep.
type Handler func(ctx context.Context, records []Record) error

// ConsumeOptions configure Consume.
type ConsumeOptions struct {
	// Group names the consumer group whose checkpoints Consume reads and writes.
	// Required.
	Group string

	// BatchSize is the most records per Handler call. Default 500; 1..MaxRecordsPerRead.
	BatchSize int

	// InitialPosition is where a shard without a checkpoint for Group is read from:
	// TrimHorizon (the zero value: every retained record) or Latest.
	InitialPosition PositionType

	// Wait bounds how long one Read waits on a shard with nothing new. It adds no
	// latency when the stream wakes readers (Memory does): a Read returns as soon as a
	// record arrives. Default 1s.
	Wait time.Duration

	// Drain, once closed, makes Consume finish what is already on the stream: each shard
	// is read until a Read returns nothing new (its records handled and checkpointed),
	// then Consume returns nil. A failing handler is still retried (records are never
	// skipped), so a drain only ends early by ctx. Nil: never drain.
	Drain <-chan struct{}

	// MinBackoff and MaxBackoff bound the delay before retrying a failed handler call,
	// checkpoint or read: it starts at MinBackoff and doubles up to MaxBackoff.
	// Defaults 100ms and 10s.
	MinBackoff time.Duration
	MaxBackoff time.Duration

	// Logger receives one Error record when a failure episode (handler, checkpoint or
	// read failing, then retried) starts and one Info record when it ends; retries
	// themselves are logged at Debug. Default: no logging.
	Logger *slog.Logger
}

func (o ConsumeOptions) withDefaults() (ConsumeOptions, error) {
	if o.BatchSize == 0 {
		o.BatchSize = 500
	}
	if o.Wait == 0 {
		o.Wait = time.Second
	}
	if o.MinBackoff == 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if o.Group == "" {
		errs = append(errs, errors.New("group: must not be empty"))
	}
	if o.BatchSize < 1 || o.BatchSize > MaxRecordsPerRead {
		errs = append(errs, fmt.Errorf("batch size: must be 1..%d, got %d", MaxRecordsPerRead, o.BatchSize))
	}
	if o.InitialPosition != TrimHorizon && o.InitialPosition != Latest {
		errs = append(errs, fmt.Errorf("initial position: must be TrimHorizon or Latest, got %d", o.InitialPosition))
	}
	if o.Wait < 0 {
		errs = append(errs, fmt.Errorf("wait: must not be negative, got %s", o.Wait))
	}
	if o.MinBackoff < 0 || o.MaxBackoff < o.MinBackoff {
		errs = append(errs, fmt.Errorf("backoff: need 0 <= min <= max, got min %s max %s", o.MinBackoff, o.MaxBackoff))
	}
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("%w: consume options: %w", ErrInvalidArgument, err)
	}
	return o, nil
}

// Consume reads every shard of s for the consumer group opts.Group and hands the
// records to h, with at-least-once delivery: a batch's last sequence number is
// checkpointed on cp only after h returned nil for it, and a failed batch is retried
// (ctx-aware exponential backoff) until h accepts it. Each shard starts after the
// group's checkpoint in cp, or at opts.InitialPosition when it has none. After a crash
// the batches not yet checkpointed are delivered again, so handlers must tolerate
// duplicates (or store the checkpoint with their output, see MultiCheckpointer).
//
// Unless cp is a Leaser, one Consume runs per group at a time: there are no leases,
// so two would both get every record. With a Leaser (directly or among a
// MultiCheckpointer's To), any number of Consumes of the group, in any processes,
// share the shards: each reads the shards it holds a lease on, from the group's
// checkpoint as it stands when the lease is taken, hands a batch on only while the
// lease is held, and after a resharding reads a child only once its parents are read
// to their end (ShardEnd is then checkpointed on the parent).
//
// Consume runs one goroutine per shard (the shards listed when it starts) and blocks
// until: ctx is done (a hard stop: it returns nil promptly, without checkpointing the
// batch in hand); opts.Drain was closed and every shard is caught up (nil); or a
// permanent error (ErrClosed, ErrShardNotFound, ErrInvalidArgument) from the stream, cp
// or h (that error, wrapped). Other errors are retried. Options out of range are
// ErrInvalidArgument.
func Consume(ctx context.Context, s Stream, cp Checkpointer, opts ConsumeOptions, h Handler) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	c := &consumer{
		stream: s,
		cp:     cp,
		opts:   opts,
		h:      h,
		log:    opts.Logger.With("stream", s.Name(), "group", opts.Group),
	}
	if l, ok := leaserOf(cp); ok {
		return c.consumeLeased(ctx, l)
	}

	var shards []Shard
	var start map[string]string
	var ep episode
	ok, err := c.retry(ctx, &ep, "listing shards", "", func() error {
		var err error
		if shards, err = s.Shards(ctx); err != nil {
			return fmt.Errorf("listing shards of stream %q: %w", s.Name(), err)
		}
		if start, err = cp.Checkpoints(ctx, opts.Group); err != nil {
			return fmt.Errorf("reading checkpoints of group %q on stream %q: %w", opts.Group, s.Name(), err)
		}
		return nil
	})
	if !ok {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	readCtx, stopReads := drainContext(gctx, opts.Drain)
	defer stopReads()
	for _, sh := range shards {
		from, done := startPosition(start, sh.ID, opts.InitialPosition)
		if done {
			continue
		}
		g.Go(func() error { return c.consumeShard(gctx, readCtx, sh.ID, from, nil) })
	}
	return g.Wait()
}

// drainContext returns a context for reads, which a drain cancels so that idle shards
// notice at once, and a function that releases it.
func drainContext(ctx context.Context, drain <-chan struct{}) (context.Context, func()) {
	readCtx, cancelReads := context.WithCancel(ctx)
	if drain == nil {
		return readCtx, cancelReads
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-drain:
			cancelReads()
		case <-readCtx.Done():
		}
	}()
	return readCtx, func() {
		cancelReads()
		<-watched
	}
}

// startPosition is where a shard's reading starts given the group's checkpoints;
// done when the shard was read to its end already.
func startPosition(checkpoints map[string]string, shardID string, initial PositionType) (from Position, done bool) {
	seq, ok := checkpoints[shardID]
	switch {
	case !ok:
		return Position{Type: initial}, false
	case seq == ShardEnd:
		return Position{}, true
	}
	return Position{Type: AfterSequenceNumber, SequenceNumber: seq}, false
}

// consumeLeased is Consume for a Checkpointer that shares shards through leases: each
// shard is read while this worker holds its lease, starting from the group's
// checkpoint as it stands when the lease is taken.
func (c *consumer) consumeLeased(ctx context.Context, l Leaser) error {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	run := func(lctx context.Context, lease Lease) {
		id := lease.ShardID()
		var start map[string]string
		var ep episode
		ok, err := c.retry(lctx, &ep, "reading checkpoints", id, func() error {
			var err error
			start, err = c.cp.Checkpoints(lctx, c.opts.Group)
			return err
		})
		if !ok {
			if err != nil {
				fail(err)
			}
			return
		}
		from, done := startPosition(start, id, c.opts.InitialPosition)
		if done {
			return
		}
		c.log.Info("reading shard", "shard_id", id, "from", from.SequenceNumber)
		readCtx, stopReads := drainContext(lctx, c.opts.Drain)
		defer stopReads()
		if err := c.consumeShard(lctx, readCtx, id, from, lease); err != nil {
			fail(err)
		}
	}
	err := l.Lease(ctx, c.stream, c.opts.Group, c.opts.Drain, run)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return fmt.Errorf("consuming stream %q as group %q: %w", c.stream.Name(), c.opts.Group, err)
	}
	return nil
}

type consumer struct {
	stream Stream
	cp     Checkpointer
	opts   ConsumeOptions
	h      Handler
	log    *slog.Logger
}

func (c *consumer) draining() bool {
	select {
	case <-c.opts.Drain:
		return true
	default:
		return false
	}
}

// consumeShard reads one shard from pos until ctx is done, a drain finds it caught
// up, or it was read to its end (ShardEnd checkpointed). With a lease, a batch is
// handed on only while the lease is held.
func (c *consumer) consumeShard(ctx, readCtx context.Context, shardID string, pos Position, lease Lease) error {
	var readEp, handleEp, checkpointEp episode
	draining := false
	for {
		if !draining {
			draining = c.draining()
		}
		var recs []Record
		var next Position
		var err error
		if draining {
			recs, next, err = c.stream.Read(ctx, shardID, pos, c.opts.BatchSize, 0)
		} else {
			recs, next, err = c.stream.Read(readCtx, shardID, pos, c.opts.BatchSize, c.opts.Wait)
		}
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return nil
			case !draining && readCtx.Err() != nil:
				continue // the drain cut the wait short
			case permanent(err):
				return fmt.Errorf("consuming shard %s: %w", shardID, err)
			}
			if !c.backoff(ctx, &readEp, "reading", shardID, err) {
				return nil
			}
			continue
		}
		c.recovered(&readEp, "reading", shardID)
		pos = next
		if len(recs) > 0 {
			if lease != nil && !lease.Held() {
				c.log.Info("lease lost; stopped reading shard", "shard_id", shardID)
				return nil
			}
			if ok, err := c.retry(ctx, &handleEp, "handling records", shardID, func() error {
				return c.h(ctx, recs)
			}); !ok {
				return err
			}
			last := recs[len(recs)-1].SequenceNumber
			if ok, err := c.retry(ctx, &checkpointEp, "checkpointing", shardID, func() error {
				return c.cp.Checkpoint(ctx, c.opts.Group, shardID, last)
			}); !ok {
				return err
			}
		}
		switch {
		case next.Type == AtShardEnd:
			ok, err := c.retry(ctx, &checkpointEp, "checkpointing the shard end", shardID, func() error {
				return c.cp.Checkpoint(ctx, c.opts.Group, shardID, ShardEnd)
			})
			if ok {
				c.log.Info("shard read to its end", "shard_id", shardID)
			}
			return err
		case len(recs) == 0 && draining:
			return nil
		}
	}
}

// permanent reports whether retrying err cannot help.
func permanent(err error) bool {
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrShardNotFound) || errors.Is(err, ErrInvalidArgument)
}

// episode tracks consecutive failures of one kind of call on one shard.
type episode struct {
	failures int
	delay    time.Duration
}

// retry calls f until it succeeds (true, nil), fails permanently (false, the error) or
// ctx is done (false, nil).
func (c *consumer) retry(ctx context.Context, ep *episode, what, shardID string, f func() error) (bool, error) {
	for {
		err := f()
		if err == nil {
			c.recovered(ep, what, shardID)
			return true, nil
		}
		if ctx.Err() != nil {
			return false, nil
		}
		if permanent(err) {
			return false, fmt.Errorf("consuming stream %q as group %q: %s: %w", c.stream.Name(), c.opts.Group, what, err)
		}
		if !c.backoff(ctx, ep, what, shardID, err) {
			return false, nil
		}
	}
}

// backoff records a failure and sleeps before the next attempt; false when ctx ended
// the sleep.
func (c *consumer) backoff(ctx context.Context, ep *episode, what, shardID string, err error) bool {
	ep.failures++
	if ep.failures == 1 {
		ep.delay = c.opts.MinBackoff
		c.log.Error(what+" failed; retrying", "shard_id", shardID, "err", err)
	} else {
		ep.delay = min(2*ep.delay, c.opts.MaxBackoff)
		c.log.Debug(what+" failed again", "shard_id", shardID, "attempt", ep.failures, "err", err)
	}
	if ep.delay <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(ep.delay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *consumer) recovered(ep *episode, what, shardID string) {
	if ep.failures > 0 {
		c.log.Info(what+" recovered", "shard_id", shardID, "attempts", ep.failures+1)
		*ep = episode{}
	}
}

// MultiCheckpointer reads a group's checkpoints from one Checkpointer and writes them
// to several, in order.
//
// Its main use is a sink that stores its checkpoint in its own database, in the same
// transaction as the rows of the batch (so that a crash neither loses nor duplicates a
// batch), while the stream must still be told, so that its retention may drop what the
// sink has processed:
//
//	cp := streams.MultiCheckpointer{From: sinkCheckpoints, To: []streams.Checkpointer{stream}}
//
// The handler commits its rows with records[len(records)-1].SequenceNumber for
// records[0].ShardID; Consume starts from the sink's checkpoints and, after each batch
// the handler committed, tells the stream. Listing the sink's Checkpointer in To as well
// suits a sink that cannot write it transactionally. With no To, Consume stores
// nothing: for a handler that buffers records and checkpoints them itself once they
// are durable (say, once their file is uploaded).
type MultiCheckpointer struct {
	// From is where Checkpoints reads.
	From Checkpointer
	// To are told of every checkpoint, in order; the first error stops and is returned.
	// Checkpoints only move forward, so a retry after a partial failure is harmless.
	To []Checkpointer
}

// Checkpoint tells every Checkpointer of To.
func (m MultiCheckpointer) Checkpoint(ctx context.Context, group, shardID, seq string) error {
	for _, cp := range m.To {
		if err := cp.Checkpoint(ctx, group, shardID, seq); err != nil {
			return err
		}
	}
	return nil
}

// Checkpoints reads From.
func (m MultiCheckpointer) Checkpoints(ctx context.Context, group string) (map[string]string, error) {
	return m.From.Checkpoints(ctx, group)
}
