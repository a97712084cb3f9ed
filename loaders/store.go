package loaders

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// store is one database behind the Sink: SQLite or PostgreSQL. Only the Sink's writer
// goroutine calls write; the other methods are safe for concurrent use.
type store interface {
	// open connects, creates the tables that are missing and reads the columns the
	// events table has. It may be called again after a failure.
	open(ctx context.Context) error

	// convert turns an event into the values of the atomic and raw JSON columns
	// (numAtomicValues of them, in table order) as the driver takes them. An error is a
	// value the database would refuse (a loader_runtime_error). The values are appended
	// to dst. memo may be nil.
	convert(dst []any, ev *event.EnrichedEvent, wide []wideColumn, memo *valueMemo) ([]any, error)

	// hasColumn reports whether the events table is known to have the wide column.
	hasColumn(name string) bool
	// addColumns adds wide columns to the events table (ALTER TABLE), in order;
	// columns that exist already, maybe added by another process, are not an error.
	// When the table reaches the database's column limit it stops and returns an error
	// matching errColumnLimit (the columns before are added).
	addColumns(ctx context.Context, names []string) error

	// transient reports whether err, returned by write, addColumns or findRejected, is
	// one that retrying the same statements may cure: a locked or busy database, a
	// lost connection, an I/O error, a full disk. Other errors are about what was
	// written, and retrying them alone would never end.
	transient(err error) bool

	// write runs one transaction: the events and bad rows of the batch, the new
	// checkpoints, the row counts. It returns a *rowsError when the database refused
	// rows (see writer), a ctx error, or an operational error.
	write(ctx context.Context, b *txBatch) error
	// findRejected runs the batch row by row in a transaction that is rolled back, and
	// returns the rows the database refuses with its reasons.
	findRejected(ctx context.Context, b *txBatch) ([]rejection, error)

	// maintain does the database's periodic housekeeping off the writer goroutine
	// (SQLite: copying the WAL into the database file).
	maintain(ctx context.Context) error

	// checkpoints returns the stored sequence number per shard for group on stream.
	checkpoints(ctx context.Context, group, stream string) (map[string]string, error)

	// knownDigests returns which of the event digests (eventRow.digest) the
	// event_digests table holds.
	knownDigests(ctx context.Context, digests [][]byte) (map[string]bool, error)

	// prune deletes up to limit of the oldest rows of table when it has more than
	// maxRows (0: no bound) or rows loaded before cutoff (zero: no bound), returning
	// how many it deleted.
	prune(ctx context.Context, table string, maxRows int64, cutoff time.Time, limit int) (int64, error)

	// reset deletes the events and bad rows of appID ("" = all).
	reset(ctx context.Context, appID string) (Counts, error)

	// count returns the row counts of appID ("" = all, from the counts table).
	count(ctx context.Context, appID string) (Counts, error)
	// scanEvents runs SELECT <every stored field> FROM events <tail> with args and
	// calls fn with each row (one StoredEvent, reused) until it returns false.
	scanEvents(ctx context.Context, tail string, args []any, fn func(*StoredEvent) bool) error
	// scanBad does the same for bad_rows.
	scanBad(ctx context.Context, tail string, args []any, fn func(*StoredBadRow) bool) error
	// sqlDialect describes the store's SQL for the query builder.
	sqlDialect() sqlDialect
	// wideColumns returns the events table's wide columns, sorted.
	wideColumns() []string
	// wideFields returns the keys of the data objects stored in a wide column, sorted.
	wideFields(ctx context.Context, name string) ([]string, error)

	// readDB is the handle for read-only queries.
	readDB() *sql.DB
	// dialect is "sqlite" or "postgres".
	dialect() string
	// location names the database for logs (no password).
	location() string
	// table returns the quoted, qualified name of one of the sink's tables.
	table(name string) string

	close() error
}

// Table names of the sink.
const (
	tableEvents      = "events"
	tableBadRows     = "bad_rows"
	tableCheckpoints = "checkpoints"
	tableRowCounts   = "row_counts"
)

// txBatch is what one transaction writes.
type txBatch struct {
	loadTstamp time.Time
	events     []*eventRow
	bad        []*badRowRow
	// wide lists the union of the wide columns of events, in first-seen order.
	wide []string
	// checkpoints are the sequence numbers to store, per stream and shard.
	checkpoints []checkpointRow
	// digests of the events, stored in event_digests (SinkConfig.DropReprocessed); an
	// insert that finds one stored already fails with errConcurrentWrite.
	digests [][]byte
	// pruneDigestsBefore, when set, deletes older digests in the same transaction.
	pruneDigestsBefore time.Time
}

// eventRow is one event ready for the database. Rows are recycled once committed
// (Sink.recycle), with their slices and event.
type eventRow struct {
	values []any // atomic and raw JSON columns, from store.convert
	wide   []wideColumn
	ev     *event.EnrichedEvent // &evBuf
	req    *writeRequest
	index  int    // in req.events
	seq    string // the record's sequence number on its stream and shard
	digest []byte // of the record without etl_tstamp, with SinkConfig.DropReprocessed
	evBuf  event.EnrichedEvent
}

// badRowRow is one bad row ready for the database.
type badRowRow struct {
	schema            string // "" when the record is not a bad row
	typ               string
	processorArtifact string
	processorVersion  string
	appID             string
	failureTstamp     time.Time // zero when the failure has none
	failure           string    // JSON, "" for none
	payload           string    // JSON, "" for none
	data              string    // the record as received
	stream            string
	safe              bool // already the plain-text form (safeForm)
	req               *writeRequest
	index             int    // in req.bad
	seq               string // the record's sequence number on its stream and shard
}

// checkpointRow is a checkpoint to store. A fenced one is written only if the stored
// one is still prev ("": none), so that two loaders that both had a shard (a lease that
// moved) cannot both commit the same positions.
type checkpointRow struct {
	group, stream, shard, seq string
	// fenced rows are written only if the stored value is still prev; the others
	// (source marks) are upserted.
	fenced bool
	prev   string
}

// errConcurrentWrite means another loader stored a checkpoint of a shard, or the
// digest of an event, since the transaction read them: the transaction was rolled
// back, and is retried after the rows now loaded are dropped.
var errConcurrentWrite = errors.New("another loader wrote the same positions or events")

// tableDigests holds the digests of SinkConfig.DropReprocessed.
const tableDigests = "event_digests"

// digestRetention is how long an event's digest is kept.
const digestRetention = time.Hour

// rejection is a row the database refused.
type rejection struct {
	req     *writeRequest
	bad     bool // a bad_rows row, else an events row
	index   int
	message string
}

// rowsError says that the database refused some rows (a data error: a constraint, a
// value out of range, …) rather than failing.
type rowsError struct{ err error }

func (e *rowsError) Error() string { return "database refused a row: " + e.err.Error() }
func (e *rowsError) Unwrap() error { return e.err }

// isRowsError reports whether err is a refusal of rows.
func isRowsError(err error) bool {
	var re *rowsError
	return errors.As(err, &re)
}

// Counts are the numbers of stored events and bad rows.
type Counts struct {
	Good int64 `json:"good"`
	Bad  int64 `json:"bad"`
}

// Query selects rows for Recent and RecentBad.
type Query struct {
	// AppID keeps only rows of this app_id ("" = all). Bad rows have an app_id when it
	// can be read from their payload.
	AppID string
	// AfterID keeps only rows with a larger ID (rows loaded later), for polling.
	AfterID int64
	// Limit is the most rows returned, newest first. 0 means 100.
	Limit int
}

// StoredEvent is an event read back from the sink.
type StoredEvent struct {
	// ID orders events by load: a later load has a larger ID.
	ID int64
	// LoadTstamp is when the sink committed the event.
	LoadTstamp time.Time
	// Event holds the TSV text of every field, as enrich wrote it (numbers and
	// timestamps are re-formatted from their database values).
	Event *event.EnrichedEvent
	// JSON is the event in the Analytics-SDK shape (event.EnrichedEvent.AppendJSON),
	// set by Recent only.
	JSON []byte
	// RawEvent is the tracker's request as Snowplow Micro's rawEvent JSON, nil when the
	// sink did not know it (see Sink.ObserveGood).
	RawEvent []byte
}

// StoredBadRow is a bad row read back from the sink.
type StoredBadRow struct {
	ID         int64
	LoadTstamp time.Time
	// Stream is the stream the bad row was read from.
	Stream string
	// Schema is the bad row's schema URI ("" when the record was not a bad row).
	Schema string
	// Type is the bad-row type, e.g. "schema_violations".
	Type string
	// AppID is the app_id read from the payload, when there is one.
	AppID string
	// Data is the record as it was on the stream: the bad row's self-describing JSON.
	Data []byte
}

// valueMemo remembers, per field, the last text converted and its driver value. Events
// of one batch repeat most of their values (the same app, tracker, user agent, page, …):
// with the memo, a run of repeats shares one boxed value instead of allocating one per
// event. One memo serves one handler call at a time.
type valueMemo struct {
	text [event.NumFields]string
	val  [event.NumFields]any
}

// get returns the value converted from text for f last time, if text is the same.
func (m *valueMemo) get(f event.Field, text string) (any, bool) {
	if m == nil || m.val[f] == nil || m.text[f] != text {
		return nil, false
	}
	return m.val[f], true
}

// put remembers v as the value of text for f and returns v.
func (m *valueMemo) put(f event.Field, text string, v any) any {
	if m != nil {
		m.text[f], m.val[f] = text, v
	}
	return v
}
