package loaders

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/iglu/badrow"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// writeRequest is one handler call's rows and the checkpoint that goes with them.
type writeRequest struct {
	stream, shard, seq string
	// marks are source marks (Sink.replayed) stored with the checkpoint.
	marks  []checkpointRow
	events []*eventRow
	bad    []*badRowRow
	done   chan writeResult
}

func (r *writeRequest) rows() int { return len(r.events) + len(r.bad) }

// writeResult answers a writeRequest. With no rejected rows and no retry, its rows and
// checkpoint are committed.
type writeResult struct {
	rejected []rejection
	// retry: the transaction was rolled back because of another request's rows;
	// submit the same request again.
	retry bool
}

// submit hands req to the writer and waits for the outcome.
func (s *Sink) submit(ctx context.Context, req *writeRequest) (writeResult, error) {
	req.done = make(chan writeResult, 1)
	select {
	case s.requests <- req:
	case <-ctx.Done():
		return writeResult{}, ctx.Err()
	}
	select {
	case res := <-req.done:
		return res, nil
	case <-ctx.Done():
		return writeResult{}, ctx.Err()
	}
}

// runWriter commits requests until stop or ctx, taking every request waiting (up to
// MaxTransactionRows rows) into one transaction.
func (s *Sink) runWriter(ctx context.Context, stop <-chan struct{}) {
	for {
		var reqs []*writeRequest
		select {
		case r := <-s.requests:
			reqs = append(reqs, r)
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
		rows := reqs[0].rows()
	more:
		for rows < s.cfg.MaxTransactionRows {
			select {
			case r := <-s.requests:
				reqs = append(reqs, r)
				rows += r.rows()
			default:
				break more
			}
		}
		s.commit(ctx, reqs)
	}
}

// maxBatchAttempts bounds how often a transaction that failed with an error that is
// not transient is tried again (after reopening the database, which recreates dropped
// tables) before its rows are tried one by one and those the database refuses are
// taken out as bad rows.
const maxBatchAttempts = 3

// commit writes reqs in one transaction. Transient failures of the database (locked,
// connection lost) are retried with backoff until it works or ctx is done (the
// handlers then give up too); rows the database refuses, and a batch that keeps
// failing for any other reason, are tried row by row and the refused rows handed back
// to their requests. Each request is answered on its done channel, except when ctx
// ended.
func (s *Sink) commit(ctx context.Context, reqs []*writeRequest) {
	b := &txBatch{}
	seen := make(map[string]bool)
	var allEvents []*eventRow
	var allBad []*badRowRow
	for _, r := range reqs {
		for i, e := range r.events {
			e.req, e.index = r, i
			allEvents = append(allEvents, e)
			for _, wc := range e.wide {
				if !seen[wc.name] {
					seen[wc.name] = true
					b.wide = append(b.wide, wc.name)
				}
			}
		}
		for i, br := range r.bad {
			br.req, br.index = r, i
			allBad = append(allBad, br)
		}
	}

	delay := minBackoff
	failures := 0 // consecutive failures that are not transient
	for attempt := 1; ; attempt++ {
		b.loadTstamp = time.Now().UTC().Truncate(time.Millisecond)
		start := time.Now()
		err := s.skipLoaded(ctx, b, reqs, allEvents, allBad)
		if err == nil {
			err = s.write(ctx, b)
		}
		if errors.Is(err, errConcurrentWrite) && ctx.Err() == nil {
			// Another loader committed positions of these shards (a lease moved):
			// read the checkpoints again and drop what it loaded.
			s.log.Info("a shard's checkpoint moved under this transaction; dropping what another loader stored", "err", err)
			continue
		}
		if err == nil {
			s.metrics.observeCommit(b, time.Since(start))
			if attempt > 1 {
				s.log.Info("writing to the event store recovered", "attempts", attempt)
			}
			s.changes.notify()
			for _, r := range reqs {
				r.done <- writeResult{}
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !isRowsError(err) && !s.store.transient(err) {
			failures++
		}
		if isRowsError(err) || failures >= maxBatchAttempts {
			rejected, ferr := s.store.findRejected(ctx, b)
			if ctx.Err() != nil {
				return
			}
			if ferr == nil && len(rejected) > 0 {
				byReq := make(map[*writeRequest][]rejection)
				for _, rej := range rejected {
					byReq[rej.req] = append(byReq[rej.req], rej)
				}
				for _, r := range reqs {
					r.done <- writeResult{rejected: byReq[r], retry: true}
				}
				return
			}
			if ferr != nil {
				err = ferr
			}
			failures = 0
		}
		s.metrics.writeErrors.Inc()
		if attempt == 1 {
			s.log.Error("writing to the event store failed; retrying", "rows", len(b.events)+len(b.bad), "err", err)
		} else {
			s.log.Debug("writing to the event store failed again", "attempt", attempt, "err", err)
		}
		if !sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, maxBackoff)
		// The tables may have been dropped or altered behind our back: look again.
		if oerr := s.store.open(ctx); oerr != nil {
			s.log.Debug("reopening the event store failed", "err", oerr)
		}
	}
}

// write adds the wide columns b needs, then writes b. Once the events table is at the
// database's column limit, types without a column keep their data in the raw JSON
// columns only: their wide values are left out of b.
func (s *Sink) write(ctx context.Context, b *txBatch) error {
	var missing []string
	for _, name := range b.wide {
		if !s.store.hasColumn(name) && !s.noColumn[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 && !s.columnsFull {
		err := s.store.addColumns(ctx, missing)
		if err != nil && !errors.Is(err, errColumnLimit) {
			return err
		}
		var added []string
		for _, name := range missing {
			if s.store.hasColumn(name) {
				added = append(added, name)
			}
		}
		if len(added) > 0 {
			s.metrics.columns.Add(float64(len(added)))
			s.log.Info("added columns to events", "columns", strings.Join(added, ","))
		}
		if err != nil {
			s.columnsFull = true
			s.metrics.columnLimit.Set(1)
			s.log.Warn("the events table is at the database's column limit: types seen from now on without a column keep their data in the raw JSON columns (contexts, derived_contexts, unstruct_event) only",
				"columns_added", len(added), "err", err)
		}
	}
	if s.columnsFull {
		s.dropMissingColumns(b)
	}
	return s.store.write(ctx, b)
}

// dropMissingColumns takes the wide columns the events table does not have out of b
// and its events, counting each such type once.
func (s *Sink) dropMissingColumns(b *txBatch) {
	missing := func(name string) bool {
		if s.store.hasColumn(name) {
			return false
		}
		if !s.noColumn[name] {
			s.noColumn[name] = true
			s.metrics.noColumn.Inc()
		}
		return true
	}
	n := len(b.wide)
	b.wide = slices.DeleteFunc(b.wide, missing)
	if len(b.wide) == n {
		return
	}
	for _, e := range b.events {
		e.wide = slices.DeleteFunc(e.wide, func(wc wideColumn) bool { return s.noColumn[wc.name] })
	}
}

// outRow is a bad row the sink puts on the bad output stream.
type outRow struct {
	partitionKey string
	data         []byte
	typ          string // bad-row type, for metrics
}

// outRow marshals a bad row for the bad output stream, replacing it with a
// size_violation when it is too big for a record.
func (s *Sink) outRow(pk string, row badrow.Row) outRow {
	if pk == "" || utf8.RuneCountInString(pk) > streams.MaxPartitionKey {
		pk = "loader"
	}
	typ := badRowType(row.SchemaURI())
	data, err := row.Marshal()
	if err != nil {
		ge := &badrow.GenericError{Processor: s.processor, Timestamp: time.Now(), Errors: []string{err.Error()}}
		data, _ = ge.Marshal()
		typ = badRowType(ge.SchemaURI())
	}
	if max := streams.MaxRecordBytes - len(pk); len(data) > max {
		sv := &badrow.SizeViolation{
			Processor:               s.processor,
			Timestamp:               time.Now(),
			MaximumAllowedSizeBytes: max,
			ActualSizeBytes:         len(data),
			Expectation:             fmt.Sprintf("oversized %s bad row: its size %d exceeds the record limit of %d bytes", typ, len(data), max),
			Payload:                 badrow.TruncatePayload(string(data), max),
		}
		data, _ = sv.Marshal()
		typ = badRowType(sv.SchemaURI())
	}
	return outRow{partitionKey: pk, data: data, typ: typ}
}

// badRowType returns the type name of a bad-row schema URI.
func badRowType(uri string) string {
	rest := strings.TrimPrefix(uri, "iglu:"+badrow.Vendor+"/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// emitState remembers how many bad rows of each round of a batch are on the bad output
// stream, so that a handler called again with the same batch (after a failed Put) does
// not put them twice.
type emitState struct {
	batch string      // the first sequence number of the batch
	done  map[int]int // round -> rows put
}

// emit puts rows on the bad output stream. key names the stream and shard; batch and
// round say which rows these are.
func (s *Sink) emit(ctx context.Context, key, batch string, round int, rows []outRow) error {
	if len(rows) == 0 {
		return nil
	}
	s.emitMu.Lock()
	st := s.emitted[key]
	if st == nil || st.batch != batch {
		// Calls for one shard are sequential: a new batch means the last one is done.
		st = &emitState{batch: batch, done: make(map[int]int)}
		s.emitted[key] = st
	}
	s.emitMu.Unlock()
	for st.done[round] < len(rows) {
		start := st.done[round]
		next := rows[start:]
		n := streams.NextPut(len(next), func(i int) int { return len(next[i].data) + len(next[i].partitionKey) })
		entries := make([]streams.Entry, n)
		for i, r := range next[:n] {
			entries[i] = streams.Entry{PartitionKey: r.partitionKey, Data: r.data}
		}
		if _, err := s.badOut.Put(ctx, entries); err != nil {
			return fmt.Errorf("putting %d bad rows to stream %q: %w", len(entries), s.badOut.Name(), err)
		}
		for _, r := range rows[start : start+len(entries)] {
			s.metrics.badRows.WithLabelValues(r.typ).Inc()
		}
		st.done[round] = start + len(entries)
	}
	return nil
}

// prepareBadRow turns a bad-stream record into a bad_rows row. A record that is not a
// bad row is stored too, with only its data and stream.
func prepareBadRow(stream string, data []byte) *badRowRow {
	row := &badRowRow{data: string(data), stream: stream}
	b, err := badrow.Parse(data)
	if err != nil {
		return row
	}
	row.schema = b.Schema
	row.typ = b.Name()
	row.processorArtifact = b.Processor.Artifact
	row.processorVersion = b.Processor.Version
	row.failure = string(b.Failure)
	row.payload = string(b.Payload)
	row.appID = badRowAppID(b)
	var f struct {
		Timestamp string `json:"timestamp"`
	}
	if len(b.Failure) > 0 && b.Failure[0] == '{' && json.Unmarshal(b.Failure, &f) == nil && f.Timestamp != "" {
		if t, err := time.Parse(time.RFC3339Nano, f.Timestamp); err == nil {
			row.failureTstamp = t
		}
	}
	return row
}

// badRowAppID finds the app_id of the event a bad row is about, where its payload
// tells: the enriched event (schema_violations, enrichment_failures, loader_* rows),
// the aid parameter (raw events and collector payloads), or the first field of a TSV
// line (loader_parsing_error).
func badRowAppID(b *badrow.BadRow) string {
	var obj struct {
		AppID *string `json:"app_id"`
	}
	if enriched, ok := b.Enriched(); ok {
		if json.Unmarshal(enriched, &obj) == nil && obj.AppID != nil {
			return *obj.AppID
		}
	}
	if raw, ok, err := b.RawEvent(); ok && err == nil {
		if aid, ok := raw.Param("aid"); ok {
			return aid
		}
	}
	p := b.Payload
	switch {
	case len(p) > 0 && p[0] == '{':
		if json.Unmarshal(p, &obj) == nil && obj.AppID != nil {
			return *obj.AppID
		}
		if cp, ok, err := b.CollectorPayload(); ok && err == nil {
			for _, nv := range cp.Querystring {
				if nv.Name == "aid" && nv.Value != nil {
					return *nv.Value
				}
			}
		}
	case len(p) > 0 && p[0] == '"':
		var line string
		if json.Unmarshal(p, &line) == nil {
			if first, _, ok := strings.Cut(line, "\t"); ok {
				return first
			}
		}
	}
	return ""
}

// safeForm returns the bad row as plain text only: the record with invalid UTF-8 and
// NUL made visible, no JSON columns. It is what is stored when the database refuses
// the row as it came (PostgreSQL refuses NUL characters in text and \u0000 in JSONB).
func (b *badRowRow) safeForm() *badRowRow {
	clean := func(s string) string {
		s = strings.ToValidUTF8(s, "\uFFFD")
		return strings.ReplaceAll(s, "\x00", `\u0000`)
	}
	return &badRowRow{
		schema:            clean(b.schema),
		typ:               clean(b.typ),
		processorArtifact: clean(b.processorArtifact),
		processorVersion:  clean(b.processorVersion),
		appID:             clean(b.appID),
		failureTstamp:     b.failureTstamp,
		data:              clean(b.data),
		stream:            b.stream,
		safe:              true,
	}
}

// sinkMetrics are the sink's Prometheus metrics.
type sinkMetrics struct {
	rows        *prometheus.CounterVec
	badRows     *prometheus.CounterVec
	pruned      *prometheus.CounterVec
	txDuration  prometheus.Histogram
	txRows      prometheus.Histogram
	writeErrors prometheus.Counter
	columns     prometheus.Counter
	columnLimit prometheus.Gauge
	noColumn    prometheus.Counter
	replayed    prometheus.Counter
	skipped     prometheus.Counter
	redelivered prometheus.Counter
	reprocessed prometheus.Counter
	rawDropped  prometheus.Counter
}

func newSinkMetrics(dialect string) *sinkMetrics {
	labels := prometheus.Labels{"dialect": dialect}
	return &sinkMetrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_rows_loaded_total", Help: "Rows committed to the event store, by table.", ConstLabels: labels,
		}, []string{"table"}),
		badRows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_bad_rows_emitted_total", Help: "Bad rows the sink put on the bad output stream, by type.", ConstLabels: labels,
		}, []string{"type"}),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_rows_pruned_total", Help: "Rows deleted by retention, by table.", ConstLabels: labels,
		}, []string{"table"}),
		txDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "snowplow_mini_sink_transaction_duration_seconds", Help: "Time to write and commit one transaction.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		txRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "snowplow_mini_sink_transaction_rows", Help: "Rows written by one transaction.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_write_errors_total", Help: "Failed transactions (retried).", ConstLabels: labels,
		}),
		columns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_columns_added_total", Help: "Wide-row columns added to the events table.", ConstLabels: labels,
		}),
		columnLimit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "snowplow_mini_sink_column_limit_reached", Help: "1 once the events table is at the database's column limit: new types then keep their data in the raw JSON columns only.", ConstLabels: labels,
		}),
		noColumn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_types_without_column_total", Help: "Self-describing types that got no column of their own because of the column limit (counted once per type and run).", ConstLabels: labels,
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_replayed_records_skipped_total", Help: "Records skipped because a record with the same source key was loaded already (written again after a crash).", ConstLabels: labels,
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_bad_rows_skipped_total", Help: "Bad-stream records the database refused even as plain text.", ConstLabels: labels,
		}),
		rawDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_raw_events_dropped_total", Help: "Raw tracker requests dropped before their event was loaded (the event's raw_event is null).", ConstLabels: labels,
		}),
		reprocessed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_reprocessed_events_skipped_total", Help: "Enriched events not loaded because the same collected event was loaded already, enriched earlier (dropReprocessed).", ConstLabels: labels,
		}),
		redelivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "snowplow_mini_sink_redelivered_rows_skipped_total", Help: "Records not written again because their stream position was loaded already (a redelivery after a restart or a lease move).", ConstLabels: labels,
		}),
	}
}

func (m *sinkMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.rows, m.badRows, m.pruned, m.txDuration, m.txRows, m.writeErrors, m.columns, m.columnLimit, m.noColumn, m.replayed, m.skipped, m.redelivered, m.reprocessed, m.rawDropped}
}

func (m *sinkMetrics) observeCommit(b *txBatch, d time.Duration) {
	m.txDuration.Observe(d.Seconds())
	m.txRows.Observe(float64(len(b.events) + len(b.bad)))
	if len(b.events) > 0 {
		m.rows.WithLabelValues(tableEvents).Add(float64(len(b.events)))
	}
	if len(b.bad) > 0 {
		m.rows.WithLabelValues(tableBadRows).Add(float64(len(b.bad)))
	}
}

// skipLoaded fills b with the rows of reqs that lie after the stored checkpoint of
// their stream and shard, and with the checkpoints to store, conditioned on the stored
// ones. Positions at or before a stored checkpoint were loaded already: by this sink
// before a restart, or by another loader that held the shard's lease (a redelivery
// after a lease moved).
func (s *Sink) skipLoaded(ctx context.Context, b *txBatch, reqs []*writeRequest, events []*eventRow, bad []*badRowRow) error {
	stored := make(map[string]map[string]string) // stream -> shard -> seq
	for _, r := range reqs {
		if _, ok := stored[r.stream]; ok {
			continue
		}
		cps, err := s.store.checkpoints(ctx, s.cfg.Group, r.stream)
		if err != nil {
			return err
		}
		stored[r.stream] = cps
	}
	loaded := func(stream, shard, seq string) bool {
		prev, ok := stored[stream][shard]
		return ok && seq != "" && streams.CompareSequenceNumbers(seq, prev) <= 0
	}
	b.events = b.events[:0]
	for _, e := range events {
		if !loaded(e.req.stream, e.req.shard, e.seq) {
			b.events = append(b.events, e)
		}
	}
	b.bad = b.bad[:0]
	for _, r := range bad {
		if !loaded(r.req.stream, r.req.shard, r.seq) {
			b.bad = append(b.bad, r)
		}
	}
	if n := len(events) + len(bad) - len(b.events) - len(b.bad); n > 0 {
		s.metrics.redelivered.Add(float64(n))
		s.log.Info("skipped rows loaded already", "rows", n)
	}
	b.digests = b.digests[:0]
	b.pruneDigestsBefore = time.Time{}
	if s.cfg.DropReprocessed && len(b.events) > 0 {
		if err := s.skipReprocessed(ctx, b); err != nil {
			return err
		}
	}
	// One checkpoint per shard: the furthest of the transaction's requests.
	b.checkpoints = b.checkpoints[:0]
	index := make(map[[2]string]int)
	for _, r := range reqs {
		if loaded(r.stream, r.shard, r.seq) {
			continue
		}
		k := [2]string{r.stream, r.shard}
		if i, ok := index[k]; ok {
			if streams.CompareSequenceNumbers(r.seq, b.checkpoints[i].seq) > 0 {
				b.checkpoints[i].seq = r.seq
			}
			continue
		}
		index[k] = len(b.checkpoints)
		b.checkpoints = append(b.checkpoints, checkpointRow{group: s.cfg.Group, stream: r.stream, shard: r.shard, seq: r.seq, prev: stored[r.stream][r.shard], fenced: true})
	}
	for _, r := range reqs {
		b.checkpoints = append(b.checkpoints, r.marks...)
	}
	return nil
}

// skipReprocessed drops the events of b whose digest is stored already, or repeats
// one earlier in b (the same collected event enriched twice), and sets the digests
// the transaction stores.
func (s *Sink) skipReprocessed(ctx context.Context, b *txBatch) error {
	all := make([][]byte, 0, len(b.events))
	for _, e := range b.events {
		all = append(all, e.digest)
	}
	known, err := s.store.knownDigests(ctx, all)
	if err != nil {
		return err
	}
	kept := b.events[:0]
	for _, e := range b.events {
		if known[string(e.digest)] {
			continue
		}
		known[string(e.digest)] = true
		kept = append(kept, e)
		b.digests = append(b.digests, e.digest)
	}
	if n := len(b.events) - len(kept); n > 0 {
		s.metrics.reprocessed.Add(float64(n))
		s.log.Info("skipped events enriched again", "events", n)
	}
	b.events = kept
	if time.Since(s.digestsPruned) > time.Minute {
		b.pruneDigestsBefore = b.loadTstamp.Add(-digestRetention)
		s.digestsPruned = time.Now()
	}
	return nil
}

// reprocessDigest is the digest of an enriched TSV record without its etl_tstamp,
// the one field enriching the same collected event again changes.
func reprocessDigest(tsv []byte) []byte {
	h := sha256.New()
	start := 0
	for field := 0; field < int(event.EtlTstamp); field++ {
		i := bytes.IndexByte(tsv[start:], '\t')
		if i < 0 {
			start = len(tsv)
			break
		}
		start += i + 1
	}
	end := start
	if i := bytes.IndexByte(tsv[start:], '\t'); i >= 0 {
		end = start + i
	} else {
		end = len(tsv)
	}
	h.Write(tsv[:start])
	h.Write(tsv[end:])
	return h.Sum(nil)[:16]
}
