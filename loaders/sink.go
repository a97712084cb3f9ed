package loaders

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// rawJSONColumns keep the enriched event's three JSON fields as enrich wrote them
// (self-describing envelopes, exact schema versions), after the atomic columns. The
// wide-row columns carry only the data objects under the model; these keep the rest, and
// let Recent rebuild the enriched event exactly.
var rawJSONColumns = [3]string{"contexts", "derived_contexts", "unstruct_event"}

// rawEventColumn follows rawJSONColumns: the good event's raw tracker request as
// Snowplow Micro's rawEvent JSON (null when it was not known, e.g. events loaded by a
// separate loader process), for the test API.
const rawEventColumn = "raw_event"

// rawJSONFields are the fields of rawJSONColumns.
var rawJSONFields = [3]event.Field{event.Contexts, event.DerivedContexts, event.UnstructEvent}

// DefaultSQLiteFile is the name of the SQLite file in the data directory.
const DefaultSQLiteFile = "events.db"

// Backoff of the writer and of opening the database.
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

// Sink loads enriched events and bad rows into SQLite or PostgreSQL, exactly once: the
// rows of a batch and the consumer group's checkpoints are committed in one transaction,
// and a restart resumes after the stored checkpoints. After the commit the stream's own
// Checkpointer is told too, so that it may free what the sink has loaded. Two events
// with the same event_id are both kept: idempotence comes from stream positions.
//
// Tables (in the PostgreSQL schema, atomic by default, or in the SQLite file):
//
//   - events: id (load order), the 128 atomic columns of the Postgres loader, contexts,
//     derived_contexts, unstruct_event (the JSON fields as enrich wrote them),
//     load_tstamp, then one column per self-describing type seen, added when the type
//     first appears: contexts_<vendor>_<name>_<model> (JSON array of the data objects of
//     that type in contexts and derived_contexts) and unstruct_event_<vendor>_<name>_<model>
//     (the event's data object). JSONB in PostgreSQL, JSON text in SQLite.
//   - bad_rows: the bad rows of bad-1 and bad-2, with their schema, type, processor,
//     failure, payload and app_id (when the payload has one) pulled out.
//   - checkpoints: (consumer_group, stream, shard_id) -> sequence_number.
//   - row_counts: the rows of events and bad_rows, kept in step by every transaction.
//
// A record that is not a valid enriched event becomes a loader_parsing_error bad row, an
// event the database refuses (even without its wide columns) a loader_runtime_error,
// both put on the bad output stream (bad-2) before the batch commits; the rest of the
// batch goes on. Once the events table is at the database's column limit (SQLite
// 2,000, PostgreSQL 1,600 columns) a new type gets no column: its data stays in the
// raw JSON columns, and the limit is logged once and shown by the
// snowplow_mini_sink_column_limit_reached metric. Transient failures of the database
// (locked, busy, connection lost, disk full) are retried with backoff (at most 10 s
// apart, ending with ctx) and never drop data; a batch that fails otherwise is retried
// at most three times, then loaded row by row, the rows the database refuses becoming
// bad rows.
//
// One goroutine writes, batching what all shards and streams hand it up to
// MaxTransactionRows rows per transaction; another prunes by Retention. Two sinks may
// share a PostgreSQL database (columns are added with IF NOT EXISTS), but not a
// consumer group on the same streams: each would load every record.
type Sink struct {
	cfg       SinkConfig
	log       *slog.Logger
	store     store
	processor badrow.Processor
	inputs    []sinkInput
	badOut    streams.Stream
	metrics   *sinkMetrics

	requests chan *writeRequest
	ready    chan struct{}
	drainIn  chan struct{} // closed by Shutdown: drain every input but the bad output
	drainOut chan struct{} // closed once those are drained: drain the bad output too
	drainInOnce,
	drainOutOnce sync.Once
	started atomic.Bool
	done    chan struct{} // closed when Run returns

	emitMu  sync.Mutex
	emitted map[string]*emitState

	// Only the writer goroutine uses columnsFull and noColumn.
	columnsFull bool            // the events table is at the database's column limit
	noColumn    map[string]bool // wide columns that could not be added
	// digestsPruned is when the writer last pruned event_digests.
	digestsPruned time.Time

	// srcMarks are, per input stream, the last source position loaded per
	// "shard|source shard" (see replayed), read from the checkpoints table at first use.
	srcMu    sync.Mutex
	srcMarks map[string]map[string]streams.SourcePosition

	names columnNames // wide-column names by schema URI
	rows  sync.Pool   // *eventRow, recycled once committed

	raws    *pendingRaw // raw requests of good events on their way (ObserveGood)
	changes notifier    // wakes readers at every commit, reset and prune
}

type sinkInput struct {
	name     string
	in       Input
	enriched bool
}

// NewSink validates cfg and deps and returns a sink. It connects to nothing: Run opens
// the database. Call Close when done with it.
func NewSink(cfg SinkConfig, deps Deps) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := deps.logger("sink")
	s := &Sink{
		cfg:       cfg,
		log:       log,
		processor: badrow.Processor{Artifact: processorArtifact, Version: deps.version()},
		requests:  make(chan *writeRequest),
		ready:     make(chan struct{}),
		drainIn:   make(chan struct{}),
		drainOut:  make(chan struct{}),
		done:      make(chan struct{}),
		emitted:   make(map[string]*emitState),
		noColumn:  make(map[string]bool),
		srcMarks:  make(map[string]map[string]streams.SourcePosition),
	}
	var errs []error
	in, err := deps.input("loaders.sink.enrichedStream", cfg.EnrichedStream)
	if err != nil {
		errs = append(errs, err)
	}
	s.inputs = append(s.inputs, sinkInput{name: cfg.EnrichedStream, in: in, enriched: true})
	for i, name := range cfg.BadStreams {
		in, err := deps.input(fmt.Sprintf("loaders.sink.badStreams[%d]", i), name)
		if err != nil {
			errs = append(errs, err)
		}
		s.inputs = append(s.inputs, sinkInput{name: name, in: in})
	}
	if out, ok := deps.Streams[cfg.BadOutputStream]; !ok || out.Stream == nil {
		errs = append(errs, fmt.Errorf("loaders.sink.badOutputStream: no stream %q", cfg.BadOutputStream))
	} else {
		s.badOut = out.Stream
	}

	kind, target, _ := parseSinkURL(cfg.URL) // validated above
	switch kind {
	case sinkSQLite:
		if target == "" {
			if deps.DataDir == "" {
				errs = append(errs, errors.New("loaders.sink.url: the default SQLite file needs a data directory"))
			}
			target = filepath.Join(deps.DataDir, DefaultSQLiteFile)
		}
		st, err := newSQLiteStore(target, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("loaders.sink.url: %w", err))
		}
		s.store = st
	case sinkPostgres:
		st, err := newPostgresStore(target, cfg.Schema, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("loaders.sink.url: %w", err))
		}
		s.store = st
	}
	if err := errors.Join(errs...); err != nil {
		if s.store != nil {
			_ = s.store.close()
		}
		return nil, err
	}
	s.metrics = newSinkMetrics(s.store.dialect())
	s.raws = newPendingRaw(s.metrics.rawDropped.Inc)
	if err := register(deps.Registerer, s.metrics.collectors()...); err != nil {
		_ = s.store.close()
		return nil, err
	}
	return s, nil
}

// Run opens the database (creating missing tables, retrying while it is unreachable),
// then loads the input streams until ctx is done (a hard stop: what is not committed is
// loaded again by the next run) or Shutdown has drained them; both return nil. It
// returns an error only when the streams or the database fail in a way retrying cannot
// fix.
func (s *Sink) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("sink: Run called twice")
	}
	defer close(s.done)
	if err := s.openStore(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	close(s.ready)
	s.log.Info("event store ready", "dialect", s.store.dialect(), "database", s.store.location())

	g, gctx := errgroup.WithContext(ctx)
	stop := make(chan struct{})
	var bg sync.WaitGroup
	bg.Add(3)
	go func() { defer bg.Done(); s.runWriter(gctx, stop) }()
	go func() { defer bg.Done(); s.runPruner(gctx, stop) }()
	go func() { defer bg.Done(); s.runMaintenance(gctx, stop) }()

	var firsts sync.WaitGroup
	for _, in := range s.inputs {
		if in.name == s.cfg.BadOutputStream {
			g.Go(func() error { return s.consume(gctx, in, s.drainOut) })
			continue
		}
		firsts.Add(1)
		g.Go(func() error {
			defer firsts.Done()
			return s.consume(gctx, in, s.drainIn)
		})
	}
	// The sink writes its own bad rows to the bad output stream while it drains the
	// others, so that one is drained last.
	g.Go(func() error {
		firsts.Wait()
		s.drainOutOnce.Do(func() { close(s.drainOut) })
		return nil
	})
	err := g.Wait()
	close(stop)
	bg.Wait()
	return err
}

// openStore opens the database, retrying with backoff until it works or ctx is done.
func (s *Sink) openStore(ctx context.Context) error {
	delay := minBackoff
	for attempt := 1; ; attempt++ {
		err := s.store.open(ctx)
		if err == nil {
			if attempt > 1 {
				s.log.Info("database reachable again", "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errPermanent) {
			return fmt.Errorf("opening the event store: %w", err)
		}
		if attempt == 1 {
			s.log.Error("opening the event store failed; retrying", "database", s.store.location(), "err", err)
		} else {
			s.log.Debug("opening the event store failed again", "attempt", attempt, "err", err)
		}
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, maxBackoff)
	}
}

// sleep waits d or until ctx is done (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Shutdown asks Run to load everything already on its input streams and return, and
// waits for it until ctx is done. Shut the sink down before a loader that reads the bad
// output stream (the S3 loader), so that the sink's last bad rows reach it.
func (s *Sink) Shutdown(ctx context.Context) error {
	s.drainInOnce.Do(func() { close(s.drainIn) })
	if !s.started.Load() {
		return nil
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sink shutdown: %w", ctx.Err())
	}
}

// Close releases the database. Call it after Run returned (or when Run never ran).
func (s *Sink) Close() error {
	return s.store.close()
}

func (s *Sink) consume(ctx context.Context, in sinkInput, drain <-chan struct{}) error {
	cp := streams.MultiCheckpointer{
		From: &storeCheckpoints{store: s.store, stream: in.name, fallback: in.in.Checkpointer},
		To:   []streams.Checkpointer{in.in.Checkpointer},
	}
	h := s.handleBad(in.name)
	if in.enriched {
		h = s.handleEnriched(in.name)
	}
	err := streams.Consume(ctx, in.in.Stream, cp, streams.ConsumeOptions{
		Group:     s.cfg.Group,
		BatchSize: s.cfg.ReadBatchSize,
		Drain:     drain,
		Logger:    s.log,
	}, h)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	return nil
}

// storeCheckpoints reads a stream's checkpoints from the database, where the writer
// stores them with each batch. A shard the database has no checkpoint for falls back
// to the stream's own Checkpointer.
type storeCheckpoints struct {
	store    store
	stream   string
	fallback streams.Checkpointer
}

// Checkpoint does nothing: the writer stored the checkpoint with the batch.
func (c *storeCheckpoints) Checkpoint(context.Context, string, string, string) error { return nil }

// Checkpoints returns the database's checkpoints, completed by the stream's.
func (c *storeCheckpoints) Checkpoints(ctx context.Context, group string) (map[string]string, error) {
	cps, err := c.store.checkpoints(ctx, group, c.stream)
	if err != nil {
		return nil, err
	}
	other, err := c.fallback.Checkpoints(ctx, group)
	if err != nil {
		return nil, err
	}
	for shard, seq := range other {
		if _, ok := cps[shard]; !ok {
			cps[shard] = seq
		}
	}
	return cps, nil
}

// Ready is closed once Run has opened the database and created its tables.
func (s *Sink) Ready() <-chan struct{} { return s.ready }

// DB returns the database handle for read-only queries; only tests use it (the test API
// and the UI read through the methods of read.go). It is valid from NewSink on; the
// tables exist once Ready is closed. Do not write through it: the sink keeps row counts
// and checkpoints in step with its own writes.
func (s *Sink) DB() *sql.DB { return s.store.readDB() }

// Dialect returns "sqlite" or "postgres".
func (s *Sink) Dialect() string { return s.store.dialect() }

// Table returns the quoted, schema-qualified name of one of the sink's tables
// ("events", "bad_rows", "checkpoints", "row_counts") for SQL on DB.
func (s *Sink) Table(name string) string { return s.store.table(name) }

func (s *Sink) waitReady(ctx context.Context) error {
	select {
	case <-s.ready:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the event store: %w", ctx.Err())
	}
}

// Count returns how many events and bad rows are stored, for appID ("" = all). With
// no appID it reads the kept counts (no table scan).
func (s *Sink) Count(ctx context.Context, appID string) (Counts, error) {
	if err := s.waitReady(ctx); err != nil {
		return Counts{}, err
	}
	return s.store.count(ctx, appID)
}

// Reset deletes the stored events and bad rows of appID ("" = all of them, as Snowplow
// Micro's /micro/reset does) and returns how many it deleted. Checkpoints are kept:
// what was deleted is not loaded again.
func (s *Sink) Reset(ctx context.Context, appID string) (Counts, error) {
	if err := s.waitReady(ctx); err != nil {
		return Counts{}, err
	}
	c, err := s.store.reset(ctx, appID)
	if err != nil {
		return Counts{}, err
	}
	s.changes.notify()
	s.log.Info("reset", "app_id", appID, "events", c.Good, "bad_rows", c.Bad)
	return c, nil
}

// maintenanceInterval is how often the database's housekeeping runs.
const maintenanceInterval = 500 * time.Millisecond

// runMaintenance runs the store's housekeeping until stop or ctx.
func (s *Sink) runMaintenance(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(maintenanceInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := s.store.maintain(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("database housekeeping failed", "err", err)
			}
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// runPruner enforces the retention bounds every interval until stop or ctx.
func (s *Sink) runPruner(ctx context.Context, stop <-chan struct{}) {
	r := s.cfg.Retention
	if r.MaxRows == 0 && r.MaxAge == 0 {
		return
	}
	t := time.NewTicker(r.Interval.Std())
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.prune(ctx, r, stop)
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// prune deletes what the retention bounds r exclude, a batch per transaction.
func (s *Sink) prune(ctx context.Context, r RetentionConfig, stop <-chan struct{}) {
	var cutoff time.Time
	if r.MaxAge > 0 {
		cutoff = time.Now().Add(-r.MaxAge.Std())
	}
	for _, table := range []string{tableEvents, tableBadRows} {
		for {
			n, err := s.store.prune(ctx, table, r.MaxRows, cutoff, r.BatchSize)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("pruning failed", "table", table, "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
			s.metrics.pruned.WithLabelValues(table).Add(float64(n))
			s.changes.notify()
			s.log.Debug("pruned", "table", table, "rows", n)
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			default:
			}
		}
	}
}

// sourceStream is the stream name under which the checkpoints table keeps the source
// marks of stream.
func sourceStream(stream string) string { return "source:" + stream }

// replayed finds the records of a batch that were loaded already under the same source
// key (streams.SourceKey): a stage that processes its input again after a crash
// writes the same outputs under the same keys, each after the originals on the same
// shard, and in input order per input shard. It returns which records to skip and the
// marks to store with the batch (nil when the records have no source keys).
func (s *Sink) replayed(ctx context.Context, stream string, recs []streams.Record) ([]bool, []checkpointRow, map[string]streams.SourcePosition, error) {
	if _, ok := streams.ParseSourceKey(recs[0].PartitionKey); !ok {
		return nil, nil, nil, nil
	}
	s.srcMu.Lock()
	marks, ok := s.srcMarks[stream]
	s.srcMu.Unlock()
	if !ok {
		stored, err := s.store.checkpoints(ctx, s.cfg.Group, sourceStream(stream))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the source marks of stream %q: %w", stream, err)
		}
		marks = make(map[string]streams.SourcePosition, len(stored))
		for key, v := range stored {
			_, src, _ := strings.Cut(key, "|")
			if p, ok := streams.ParseSourcePosition(src, v); ok {
				marks[key] = p
			}
		}
		s.srcMu.Lock()
		s.srcMarks[stream] = marks
		s.srcMu.Unlock()
	}
	skip := make([]bool, len(recs))
	next := make(map[string]streams.SourcePosition)
	s.srcMu.Lock()
	for i := range recs {
		p, ok := streams.ParseSourceKey(recs[i].PartitionKey)
		if !ok {
			continue
		}
		key := recs[i].ShardID + "|" + p.ShardID
		last, seen := next[key]
		if !seen {
			last, seen = marks[key]
		}
		if seen && p.Compare(last) <= 0 {
			skip[i] = true
			continue
		}
		next[key] = p
	}
	s.srcMu.Unlock()
	var rows []checkpointRow
	for key, p := range next {
		rows = append(rows, checkpointRow{group: s.cfg.Group, stream: sourceStream(stream), shard: key, seq: p.String()})
	}
	return skip, rows, next, nil
}

// markLoaded records the source marks of a committed batch.
func (s *Sink) markLoaded(stream string, next map[string]streams.SourcePosition) {
	if len(next) == 0 {
		return
	}
	s.srcMu.Lock()
	defer s.srcMu.Unlock()
	for k, p := range next {
		s.srcMarks[stream][k] = p
	}
}

// handleEnriched loads a batch of enriched TSV records.
func (s *Sink) handleEnriched(stream string) streams.Handler {
	return func(ctx context.Context, recs []streams.Record) error {
		req := &writeRequest{stream: stream, shard: recs[0].ShardID, seq: recs[len(recs)-1].SequenceNumber}
		skip, marks, next, err := s.replayed(ctx, stream, recs)
		if err != nil {
			return err
		}
		req.marks = marks
		req.events = make([]*eventRow, 0, len(recs))
		var out []outRow
		memo := new(valueMemo)
		for i := range recs {
			if skip != nil && skip[i] {
				s.metrics.replayed.Inc()
				continue
			}
			row, bad := s.prepareEvent(&recs[i], memo)
			if bad != nil {
				out = append(out, *bad)
				continue
			}
			row.seq = recs[i].SequenceNumber
			row.digest = nil
			if s.cfg.DropReprocessed {
				row.digest = reprocessDigest(recs[i].Data)
			}
			req.events = append(req.events, row)
		}
		if err := s.deliver(ctx, req, out, recs[0].SequenceNumber); err != nil {
			// The writer may still be reading the rows: leave them to the collector.
			return err
		}
		s.markLoaded(stream, next)
		for _, row := range req.events {
			s.recycle(row)
		}
		return nil
	}
}

// handleBad loads a batch of bad-row records.
func (s *Sink) handleBad(stream string) streams.Handler {
	return func(ctx context.Context, recs []streams.Record) error {
		req := &writeRequest{stream: stream, shard: recs[0].ShardID, seq: recs[len(recs)-1].SequenceNumber}
		skip, marks, next, err := s.replayed(ctx, stream, recs)
		if err != nil {
			return err
		}
		req.marks = marks
		for i := range recs {
			if skip != nil && skip[i] {
				s.metrics.replayed.Inc()
				continue
			}
			row := prepareBadRow(stream, recs[i].Data)
			row.seq = recs[i].SequenceNumber
			req.bad = append(req.bad, row)
		}
		if err := s.deliver(ctx, req, nil, recs[0].SequenceNumber); err != nil {
			return err
		}
		s.markLoaded(stream, next)
		return nil
	}
}

// deliver puts the batch's own bad rows on the bad output stream, then has the writer
// commit req. Rows the database refuses are taken out (events become
// loader_runtime_error bad rows, bad rows are stored in a safer form) and the rest is
// committed again.
func (s *Sink) deliver(ctx context.Context, req *writeRequest, out []outRow, batchID string) error {
	key := req.stream + "/" + req.shard
	for round := 0; ; round++ {
		if err := s.emit(ctx, key, batchID, round, out); err != nil {
			return err
		}
		res, err := s.submit(ctx, req)
		if err != nil {
			return err
		}
		if len(res.rejected) == 0 && !res.retry {
			return nil
		}
		out = nil
		refusedEvents := make(map[int]string)
		skippedBad := make(map[int]bool)
		for _, rej := range res.rejected {
			if !rej.bad {
				refusedEvents[rej.index] = rej.message
				continue
			}
			if b := req.bad[rej.index]; !b.safe {
				req.bad[rej.index] = b.safeForm()
				continue
			}
			// Even the plain-text form was refused: keep the batch moving.
			s.log.Error("bad row refused by the database; skipped", "stream", req.stream, "shard_id", req.shard, "err", rej.message)
			s.metrics.skipped.Inc()
			skippedBad[rej.index] = true
		}
		events := req.events[:0]
		for i, e := range req.events {
			if msg, ok := refusedEvents[i]; ok {
				if len(e.wide) > 0 {
					// The wide columns may be what the database refuses (PostgreSQL:
					// a row of hundreds of JSONB values is too big for a page): try
					// the event with its data in the raw JSON columns only.
					s.log.Debug("event refused; storing it without its wide columns", "event_id", e.ev.Fields[event.EventID], "err", msg)
					e.wide = nil
					events = append(events, e)
					continue
				}
				out = append(out, s.runtimeBadRow(e.ev, msg))
				continue
			}
			events = append(events, e)
		}
		req.events = events
		bad := req.bad[:0]
		for i, b := range req.bad {
			if !skippedBad[i] {
				bad = append(bad, b)
			}
		}
		req.bad = bad
	}
}

// prepareEvent parses one enriched record into a row, or into the bad row that replaces
// it. memo may be nil.
func (s *Sink) prepareEvent(r *streams.Record, memo *valueMemo) (*eventRow, *outRow) {
	row, _ := s.rows.Get().(*eventRow)
	if row == nil {
		row = new(eventRow)
		row.ev = &row.evBuf
	}
	ev := row.ev
	obs, _, err := s.parseRecord(ev, r.Data)
	if err != nil {
		s.recycle(row)
		var pe event.ParsingError
		if !errors.As(err, &pe) {
			pe = &event.RowDecodingError{Errors: []event.InvalidValue{{Message: err.Error()}}}
		}
		bad := s.outRow(r.PartitionKey, &badrow.LoaderParsingError{Processor: s.processor, Error: pe, Payload: string(r.Data)})
		return nil, &bad
	}
	var wide []wideColumn
	if obs != nil && obs.wideKnown {
		wide = obs.wide
	} else {
		wide, err = wideColumns(&s.names, ev.Fields[event.Contexts], ev.Fields[event.UnstructEvent], ev.Fields[event.DerivedContexts])
	}
	if err != nil {
		iv := event.InvalidValue{Message: err.Error()}
		var fe *fieldError
		if errors.As(err, &fe) {
			iv.Key = fe.field
			if f, ok := event.FieldByName(fe.field); ok {
				iv.Value = ev.Fields[f]
			}
		}
		s.recycle(row)
		bad := s.outRow(r.PartitionKey, &badrow.LoaderParsingError{Processor: s.processor,
			Error: &event.RowDecodingError{Errors: []event.InvalidValue{iv}}, Payload: string(r.Data)})
		return nil, &bad
	}
	vals, err := s.store.convert(row.values[:0], ev, wide, memo)
	if err != nil {
		bad := s.runtimeBadRow(ev, err.Error())
		s.recycle(row)
		return nil, &bad
	}
	// raw_event follows the values of convert.
	vals = append(vals, nullString(s.raws.take(ev.Fields[event.EventID])))
	row.values, row.wide = vals, wide
	return row, nil
}

// parseRecord sets ev to the enriched event of line, as ev.UnmarshalTSV does. The line
// of an event enrich handed over (ObserveGood) is a good event's already: its fields are
// not checked again (observed is true), and when the sink still has what it made of
// the event, they are taken from there (obs), not split.
func (s *Sink) parseRecord(ev *event.EnrichedEvent, line []byte) (obs *observedEvent, observed bool, err error) {
	if id, ok := tsvEventID(line); ok {
		obs, marked := s.raws.claim(id, line)
		if obs != nil {
			obs.fields(ev)
			return obs, true, nil
		}
		if marked && ev.SplitTSV(line) == nil {
			return nil, true, nil
		}
	}
	return nil, false, ev.UnmarshalTSV(line)
}

// tsvEventID returns the event_id field of an enriched TSV line.
func tsvEventID(line []byte) ([]byte, bool) {
	for range event.EventID {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			return nil, false
		}
		line = line[i+1:]
	}
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		return line[:i], true
	}
	return nil, false
}

// recycle takes back a row nothing refers to any more, for prepareEvent to reuse its
// memory: a row is two 2 KB blocks of pointers, the event's fields and their driver
// values, that would otherwise be allocated and collected for every event.
func (s *Sink) recycle(row *eventRow) {
	clear(row.values)
	row.values = row.values[:0]
	row.wide, row.req = nil, nil
	row.evBuf.Reset()
	s.rows.Put(row)
}

// runtimeBadRow is the loader_runtime_error of an event the database refuses.
func (s *Sink) runtimeBadRow(ev *event.EnrichedEvent, msg string) outRow {
	payload, err := ev.AppendFullJSON(nil)
	if err != nil {
		payload = []byte("null")
	}
	pk := ev.Fields[event.EventID]
	return s.outRow(pk, &badrow.LoaderRuntimeError{Processor: s.processor, Error: msg, Payload: payload})
}
