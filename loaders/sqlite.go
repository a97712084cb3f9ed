package loaders

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// sqliteSchemaVersion is PRAGMA user_version of a database laid out by this code.
const sqliteSchemaVersion = 1

// sqlitePageSize is the page size of a new database file.
const sqlitePageSize = 32768

// sqliteMaxVariables is SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
const sqliteMaxVariables = 32766

// sqliteMaxRowsPerInsert bounds the rows of one multi-row INSERT: beyond a few dozen
// rows a longer statement saves nothing measurable.
const sqliteMaxRowsPerInsert = 32

// SQLite result codes (primary codes; extended codes carry them in the low byte).
const (
	sqliteBusy       = 5
	sqliteLocked     = 6
	sqliteNoMem      = 7
	sqliteIOErr      = 10
	sqliteFull       = 13
	sqliteCantOpen   = 14
	sqliteProtocol   = 15
	sqliteTooBig     = 18
	sqliteConstraint = 19
	sqliteMismatch   = 20
	sqliteRange      = 25
)

// sqliteTimeLayout is how the SQLite tables store timestamps: the TSV format, which
// sorts as text and which SQLite's date functions read.
const sqliteTimeLayout = event.TimestampLayout

// sqliteStore keeps the sink's tables in one SQLite file, written by a single connection
// (SQLite has one writer at a time; WAL lets readers go on meanwhile).
type sqliteStore struct {
	path   string
	log    *slog.Logger
	atomic []column

	w *sql.DB // the writer: one connection
	r *sql.DB // readers
	c *sql.DB // the WAL checkpointer: one connection

	mu      sync.Mutex      // guards columns
	columns map[string]bool // wide columns of the events table

	// rawStmts caches the writer's prepared statements on rawOwner, the driver
	// connection they belong to; only the writer goroutine uses them.
	rawOwner any
	rawStmts map[string]driver.StmtExecContext
	// direct runs the event INSERTs below the driver, on rawOwner too; noDirect
	// makes the writer use the driver's statements for them (tests compare both).
	direct   sqliteDirect
	noDirect bool
	// wbuf holds the writer's scratch slices from one transaction to the next.
	wbuf sqliteWriteBuf
}

// sqliteWriteBuf is the writer's scratch space, reused so that a transaction does not
// allocate per row what it only needs while binding.
type sqliteWriteBuf struct {
	args   []driver.NamedValue
	vals   []any
	used   []bool // per column, whether some row of the chunk has a value
	colIdx []int  // the used columns
	key    []byte // the statement cache key
}

// newSQLiteStore prepares the database handles; it opens no file.
func newSQLiteStore(path string, log *slog.Logger) (*sqliteStore, error) {
	s := &sqliteStore{
		path:     path,
		log:      log,
		atomic:   atomicColumns(),
		columns:  make(map[string]bool),
		rawStmts: make(map[string]driver.StmtExecContext),
	}
	var err error
	if s.w, err = s.openDB(true); err != nil {
		return nil, err
	}
	if s.r, err = s.openDB(false); err != nil {
		_ = s.w.Close()
		return nil, err
	}
	if s.c, err = s.openDB(true); err != nil {
		_ = s.w.Close()
		_ = s.r.Close()
		return nil, err
	}
	return s, nil
}

func (s *sqliteStore) dialect() string { return "sqlite" }

func (s *sqliteStore) location() string { return s.path }

func (s *sqliteStore) table(name string) string { return `"` + name + `"` }

// dsn returns the file: URI of the database with connection parameters.
func (s *sqliteStore) dsn(write bool) (string, error) {
	abs, err := filepath.Abs(s.path)
	if err != nil {
		return "", fmt.Errorf("sqlite path %q: %w", s.path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if write {
		// journal_mode and page_size are set by open: they belong to the file.
		q.Add("_pragma", "synchronous(NORMAL)")
		// The writer copies the WAL back into the database once it passes 1000 pages
		// (SQLite's default), so that the WAL is reset while writes go on; maintain
		// copies most of it before that, on its own connection, while the writer goes
		// on.
		q.Add("_pragma", "wal_autocheckpoint(1000)")
		q.Add("_pragma", "temp_store(MEMORY)")
		// A small cache: the writer appends, so it rereads little but the B-tree's
		// interior pages, and every page a bigger cache adds is fresh memory that costs
		// page faults while it fills (32 MiB: 29 µs of CPU per row in
		// BenchmarkSQLiteWrite; 1 MiB: 18 µs).
		q.Add("_pragma", "cache_size(-1024)")
		q.Add("_pragma", "journal_size_limit(67108864)")
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "1")
		q.Add("_pragma", "cache_size(-16384)")
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String(), nil
}

func (s *sqliteStore) openDB(write bool) (*sql.DB, error) {
	dsn, err := s.dsn(write)
	if err != nil {
		return nil, err
	}
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite connector: %w", err)
	}
	db := sql.OpenDB(c)
	if write {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	} else {
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}

func (s *sqliteStore) open(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", s.path, err)
	}
	// The events are the user's data: the file is created readable by its owner only,
	// and SQLite gives its -wal and -shm files the mode of the database file.
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("opening %s: %w", s.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("opening %s: %w", s.path, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// page_size only takes effect before the first table is created, and not in WAL
	// mode. Rows of ~130 columns with URLs, a user agent and contexts are 1-3 KB;
	// with 32 KiB pages the B-tree splits and the WAL writes are far fewer than with
	// the default 4 KiB (the writer's CPU per row dropped by a quarter).
	for _, pragma := range []string{"PRAGMA page_size = " + strconv.Itoa(sqlitePageSize), "PRAGMA journal_mode = WAL"} {
		if _, err := s.w.ExecContext(ctx, pragma); err != nil {
			return fmt.Errorf("opening %s: %w", s.path, err)
		}
	}
	var version int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("opening %s: %w", s.path, err)
	}
	if version > sqliteSchemaVersion {
		return permanent(fmt.Errorf("%s was laid out by a newer snowplow-mini (layout %d, this one knows %d)", s.path, version, sqliteSchemaVersion))
	}
	// One transaction for the whole layout: one commit (one WAL sync) instead of one per
	// statement, which was most of the time a fresh data dir took to open.
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("creating tables in %s: %w", s.path, err)
	}
	for _, stmt := range s.ddl() {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("creating tables in %s: %w", s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("creating tables in %s: %w", s.path, err)
	}
	return s.loadColumns(ctx)
}

func (s *sqliteStore) ddl() []string {
	var cols strings.Builder
	cols.WriteString("id INTEGER PRIMARY KEY")
	for _, c := range s.atomic {
		fmt.Fprintf(&cols, ",\n  %s %s", c.name, c.sqliteType())
	}
	for _, name := range rawJSONColumns {
		fmt.Fprintf(&cols, ",\n  %s TEXT", name)
	}
	fmt.Fprintf(&cols, ",\n  %s TEXT", rawEventColumn)
	cols.WriteString(",\n  load_tstamp TEXT NOT NULL")
	return []string{
		"CREATE TABLE IF NOT EXISTS events (\n  " + cols.String() + "\n)",
		"CREATE INDEX IF NOT EXISTS events_app_id ON events (app_id)",
		`CREATE TABLE IF NOT EXISTS bad_rows (
  id INTEGER PRIMARY KEY,
  schema TEXT,
  type TEXT,
  processor_artifact TEXT,
  processor_version TEXT,
  app_id TEXT,
  failure_tstamp TEXT,
  failure TEXT,
  payload TEXT,
  data TEXT NOT NULL,
  stream TEXT NOT NULL,
  load_tstamp TEXT NOT NULL
)`,
		"CREATE INDEX IF NOT EXISTS bad_rows_app_id ON bad_rows (app_id)",
		`CREATE TABLE IF NOT EXISTS checkpoints (
  consumer_group TEXT NOT NULL,
  stream TEXT NOT NULL,
  shard_id TEXT NOT NULL,
  sequence_number TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (consumer_group, stream, shard_id)
)`,
		`CREATE TABLE IF NOT EXISTS row_counts (
  table_name TEXT PRIMARY KEY,
  row_count INTEGER NOT NULL
)`,
		`CREATE TABLE IF NOT EXISTS event_digests (
  digest BLOB PRIMARY KEY,
  load_tstamp TEXT NOT NULL
) WITHOUT ROWID`,
		// Recount at start, so that rows deleted or added by hand are accounted for.
		`INSERT INTO row_counts (table_name, row_count) VALUES ('events', (SELECT count(*) FROM events))
  ON CONFLICT (table_name) DO UPDATE SET row_count = excluded.row_count`,
		`INSERT INTO row_counts (table_name, row_count) VALUES ('bad_rows', (SELECT count(*) FROM bad_rows))
  ON CONFLICT (table_name) DO UPDATE SET row_count = excluded.row_count`,
		"PRAGMA user_version = " + strconv.Itoa(sqliteSchemaVersion),
	}
}

// loadColumns reads the wide columns the events table has. s.mu is held.
func (s *sqliteStore) loadColumns(ctx context.Context) error {
	rows, err := s.w.QueryContext(ctx, "SELECT name FROM pragma_table_info('events')")
	if err != nil {
		return fmt.Errorf("reading the columns of events: %w", err)
	}
	defer rows.Close()
	cols := make(map[string]bool)
	hasRaw := false
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return fmt.Errorf("reading the columns of events: %w", err)
		}
		if isWideColumn(name) {
			cols[name] = true
		}
		hasRaw = hasRaw || name == rawEventColumn
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the columns of events: %w", err)
	}
	rows.Close()
	if !hasRaw {
		// A file made before the raw_event column existed.
		if _, err := s.w.ExecContext(ctx, "ALTER TABLE events ADD COLUMN "+rawEventColumn+" TEXT"); err != nil {
			return fmt.Errorf("adding column %s to events: %w", rawEventColumn, err)
		}
	}
	s.columns = cols
	return nil
}

func (s *sqliteStore) hasColumn(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.columns[name]
}

func (s *sqliteStore) addColumns(ctx context.Context, names []string) error {
	for _, name := range names {
		if s.hasColumn(name) {
			continue
		}
		_, err := s.w.ExecContext(ctx, "ALTER TABLE events ADD COLUMN "+quoteIdent(name)+" TEXT")
		switch {
		case err == nil, strings.Contains(err.Error(), "duplicate column name"):
		case strings.Contains(err.Error(), "too many columns"):
			return fmt.Errorf("adding column %s to events: %w: %w", name, errColumnLimit, err)
		default:
			return fmt.Errorf("adding column %s to events: %w", name, err)
		}
		s.mu.Lock()
		s.columns[name] = true
		s.mu.Unlock()
	}
	return nil
}

// convert returns the driver values of the atomic and raw JSON columns. SQLite takes any
// value, so it refuses nothing here.
func (s *sqliteStore) convert(vals []any, ev *event.EnrichedEvent, _ []wideColumn, memo *valueMemo) ([]any, error) {
	vals = slices.Grow(vals, len(s.atomic)+len(rawJSONColumns))
	for _, c := range s.atomic {
		v := ev.Fields[c.field]
		if v == "" {
			vals = append(vals, nil)
			continue
		}
		if x, ok := memo.get(c.field, v); ok {
			vals = append(vals, x)
			continue
		}
		var x any
		switch c.kind {
		case event.KindInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			x = n
		case event.KindBool:
			x = boolInt(v == "1")
		case event.KindDecimal, event.KindFloat:
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			x = f
		default:
			x = v
		}
		vals = append(vals, memo.put(c.field, v, x))
	}
	for _, f := range rawJSONFields {
		v := ev.Fields[f]
		if v == "" {
			vals = append(vals, nil)
			continue
		}
		if x, ok := memo.get(f, v); ok {
			vals = append(vals, x)
			continue
		}
		vals = append(vals, memo.put(f, v, v))
	}
	return vals, nil
}

// boolInt returns 0 or 1 (small integers in an interface do not allocate).
func boolInt(b bool) any {
	if b {
		return int64(1)
	}
	return int64(0)
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// eventColumns returns the columns an events INSERT of b names.
func (s *sqliteStore) eventColumns(wide []string) []string {
	cols := make([]string, 0, len(s.atomic)+len(rawJSONColumns)+2+len(wide))
	for _, c := range s.atomic {
		cols = append(cols, c.name)
	}
	cols = append(cols, rawJSONColumns[:]...)
	cols = append(cols, rawEventColumn, "load_tstamp")
	return append(cols, wide...)
}

// appendEventArgs appends the values of one events row (in eventColumns order).
func appendEventArgs(args []any, e *eventRow, load any, wide []string) []any {
	args = append(args, e.values...)
	args = append(args, load)
	for _, name := range wide {
		args = append(args, e.wideValue(name))
	}
	return args
}

// wideValue returns the value of the event's wide column name, nil when it has none.
func (e *eventRow) wideValue(name string) any {
	for _, wc := range e.wide {
		if wc.name == name {
			return wc.value
		}
	}
	return nil
}

var badRowColumns = []string{"schema", "type", "processor_artifact", "processor_version", "app_id",
	"failure_tstamp", "failure", "payload", "data", "stream", "load_tstamp"}

func (s *sqliteStore) badRowArgs(b *badRowRow, load string) []any {
	var fts any
	if !b.failureTstamp.IsZero() {
		fts = b.failureTstamp.UTC().Format(sqliteTimeLayout)
	}
	return []any{nullString(b.schema), nullString(b.typ), nullString(b.processorArtifact),
		nullString(b.processorVersion), nullString(b.appID), fts, nullString(b.failure),
		nullString(b.payload), b.data, b.stream, load}
}

// insertChunks splits n rows into multi-row INSERTs of at most per rows: full chunks,
// then halves (16, 8, …) for the rest, so that few distinct statements are prepared.
func insertChunks(n, per int) []int {
	var chunks []int
	for n > 0 {
		c := per
		for c > n {
			c /= 2
		}
		chunks = append(chunks, c)
		n -= c
	}
	return chunks
}

// rawConn is what the writer needs of the driver's connection.
type rawConn interface {
	driver.ConnPrepareContext
	driver.ExecerContext
}

// write inserts the batch with multi-row INSERTs that name only the columns some row of
// the chunk has a value for: an enriched event leaves most of its 130-odd fields null,
// and binding a NULL costs about as much as binding a value. It talks to the driver
// directly (database/sql's conversion of every argument was a tenth of the cost).
func (s *sqliteStore) write(ctx context.Context, b *txBatch) error {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return sqliteError("connecting", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(rawConn)
		if !ok {
			return permanent(fmt.Errorf("sqlite driver connection %T cannot prepare statements", dc))
		}
		if dc != s.rawOwner {
			// The writer has one connection: a different one means database/sql closed
			// the old one (after a cancelled or failed statement). Its statements went
			// with it; finalizing them now would touch a closed database.
			clear(s.rawStmts)
			s.direct.forget()
			s.rawOwner = dc
		}
		if err := s.writeRaw(ctx, c, b); err != nil {
			// A failure leaves the transaction open: end it here, as database/sql does
			// not know about it.
			_, _ = c.ExecContext(context.Background(), "ROLLBACK", nil)
			return err
		}
		return nil
	})
}

func (s *sqliteStore) writeRaw(ctx context.Context, c rawConn, b *txBatch) error {
	load := b.loadTstamp.UTC().Format(sqliteTimeLayout)
	// Statements run without ctx: the driver would start a goroutine per statement to
	// watch it. ctx is checked between statements instead.
	bg := context.Background()
	if _, err := c.ExecContext(bg, "BEGIN IMMEDIATE", nil); err != nil {
		return sqliteError("beginning a transaction", err)
	}
	cols := s.eventColumns(b.wide)
	per := min(sqliteMaxRowsPerInsert, sqliteMaxVariables/len(cols))
	// cols are the values of convert and raw_event (nv of them), load_tstamp, then b.wide.
	nv := len(s.atomic) + len(rawJSONColumns) + 1
	loadArg := any(load)
	w := &s.wbuf
	w.used = slices.Grow(w.used[:0], len(cols))[:len(cols)]
	rest := b.events
	for _, n := range insertChunks(len(b.events), per) {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := rest[:n]
		clear(w.used)
		w.used[nv] = true
		for _, e := range chunk {
			for j, v := range e.values {
				if v != nil {
					w.used[j] = true
				}
			}
			for _, wc := range e.wide {
				w.used[nv+1+slices.Index(b.wide, wc.name)] = true
			}
		}
		w.colIdx = w.colIdx[:0]
		w.key = append(w.key[:0], "events:"...)
		for j, u := range w.used {
			if u {
				w.colIdx = append(w.colIdx, j)
				w.key = append(w.key, cols[j]...)
				w.key = append(w.key, ',')
			}
		}
		w.key = strconv.AppendInt(w.key, int64(n), 10)
		query := func() string {
			names := make([]string, len(w.colIdx))
			for i, j := range w.colIdx {
				names[i] = cols[j]
			}
			// OR FAIL: a refused row fails the statement without undoing the rows
			// before it, which spares SQLite a statement journal (a copy of every page
			// the statement changes); the writer rolls the whole transaction back on
			// any error anyway.
			return insertSQL("events", names, n, func(int) string { return "?" }, "OR FAIL")
		}
		vals := slices.Grow(w.vals[:0], n*len(w.colIdx))[:n*len(w.colIdx)]
		k := 0
		for _, e := range chunk {
			for _, j := range w.colIdx {
				switch {
				case j < nv:
					vals[k] = e.values[j]
				case j == nv:
					vals[k] = loadArg
				default:
					vals[k] = e.wideValue(b.wide[j-nv-1])
				}
				k++
			}
		}
		w.vals = vals
		err := s.insertEvents(c, w.key, query, vals)
		clear(vals) // let the rows' strings go once they are stored
		if err != nil {
			return err
		}
		rest = rest[n:]
	}
	if len(b.bad) > 0 {
		st, err := s.rawStmt(c, []byte("bad_rows"), func() string {
			return insertSQL("bad_rows", badRowColumns, 1, func(int) string { return "?" }, "")
		})
		if err != nil {
			return err
		}
		for _, r := range b.bad {
			if _, err := st.ExecContext(bg, namedValues(s.badRowArgs(r, load))); err != nil {
				return sqliteError("inserting bad rows", err)
			}
		}
	}
	if len(b.checkpoints) > 0 {
		st, err := s.rawStmt(c, []byte("checkpoints"), func() string { return sqliteCheckpointUpsert })
		if err != nil {
			return err
		}
		for _, cp := range b.checkpoints {
			res, err := st.ExecContext(bg, namedValues([]any{cp.group, cp.stream, cp.shard, cp.seq, load, !cp.fenced, cp.prev}))
			if err != nil {
				return sqliteError("storing checkpoints", err)
			}
			if n, err := res.RowsAffected(); err == nil && cp.fenced && n != 1 {
				return fmt.Errorf("%w: %s shard %s is no longer at %q", errConcurrentWrite, cp.stream, cp.shard, cp.prev)
			}
		}
	}
	if len(b.digests) > 0 {
		st, err := s.rawStmt(c, []byte("event_digests"), func() string {
			return "INSERT INTO event_digests (digest, load_tstamp) VALUES (?, ?) ON CONFLICT DO NOTHING"
		})
		if err != nil {
			return err
		}
		for _, d := range b.digests {
			res, err := st.ExecContext(bg, namedValues([]any{d, load}))
			if err != nil {
				return sqliteError("storing event digests", err)
			}
			if n, err := res.RowsAffected(); err == nil && n != 1 {
				return fmt.Errorf("%w: an event digest was stored already", errConcurrentWrite)
			}
		}
	}
	if !b.pruneDigestsBefore.IsZero() {
		if _, err := c.ExecContext(bg, "DELETE FROM event_digests WHERE load_tstamp < ?", namedValues([]any{b.pruneDigestsBefore.UTC().Format(sqliteTimeLayout)})); err != nil {
			return sqliteError("pruning event digests", err)
		}
	}
	for _, t := range []struct {
		table string
		n     int
	}{{tableEvents, len(b.events)}, {tableBadRows, len(b.bad)}} {
		if t.n == 0 {
			continue
		}
		st, err := s.rawStmt(c, []byte("row_counts"), func() string {
			return "UPDATE row_counts SET row_count = row_count + ? WHERE table_name = ?"
		})
		if err != nil {
			return err
		}
		if _, err := st.ExecContext(bg, namedValues([]any{int64(t.n), t.table})); err != nil {
			return sqliteError("counting rows", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := c.ExecContext(bg, "COMMIT", nil); err != nil {
		return sqliteError("committing", err)
	}
	return nil
}

// insertEvents runs the events INSERT of key (query() is its text) with vals: below
// the driver when it can (sqliteDirect), through the driver's statement otherwise.
func (s *sqliteStore) insertEvents(c rawConn, key []byte, query func() string, vals []any) error {
	if !s.noDirect && directValues(vals) {
		if db, tls, ok := s.direct.handle(c); ok {
			st, err := s.direct.prepare(tls, db, key, query)
			if err != nil {
				return err
			}
			return sqliteError("inserting events", s.direct.exec(tls, db, st, vals))
		}
	}
	st, err := s.rawStmt(c, key, query)
	if err != nil {
		return err
	}
	args := s.wbuf.args[:0]
	for i, v := range vals {
		args = append(args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	s.wbuf.args = args
	_, err = st.ExecContext(context.Background(), args)
	clear(args)
	return sqliteError("inserting events", err)
}

const sqliteCheckpointUpsert = `INSERT INTO checkpoints (consumer_group, stream, shard_id, sequence_number, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (consumer_group, stream, shard_id) DO UPDATE SET sequence_number = excluded.sequence_number, updated_at = excluded.updated_at
WHERE ? OR checkpoints.sequence_number = ?`

func namedValues(vals []any) []driver.NamedValue {
	nv := make([]driver.NamedValue, len(vals))
	for i, v := range vals {
		nv[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return nv
}

// rawStmt returns the writer's prepared statement for key, preparing query() on c the
// first time.
func (s *sqliteStore) rawStmt(c rawConn, key []byte, query func() string) (driver.StmtExecContext, error) {
	if st, ok := s.rawStmts[string(key)]; ok {
		return st, nil
	}
	if len(s.rawStmts) >= 128 {
		s.closeRawStmts()
	}
	st, err := c.PrepareContext(context.Background(), query())
	if err != nil {
		return nil, sqliteError("preparing an insert", err)
	}
	se, ok := st.(driver.StmtExecContext)
	if !ok {
		_ = st.Close()
		return nil, permanent(fmt.Errorf("sqlite driver statement %T cannot execute with a context", st))
	}
	s.rawStmts[string(key)] = se
	return se, nil
}

func (s *sqliteStore) closeRawStmts() {
	for k, st := range s.rawStmts {
		if c, ok := st.(io.Closer); ok {
			_ = c.Close()
		}
		delete(s.rawStmts, k)
	}
}

func (s *sqliteStore) findRejected(ctx context.Context, b *txBatch) ([]rejection, error) {
	load := b.loadTstamp.UTC().Format(sqliteTimeLayout)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, sqliteError("beginning a transaction", err)
	}
	defer func() { _ = tx.Rollback() }()
	var rejected []rejection
	try := func(query string, args []any) (string, error) {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT row"); err != nil {
			return "", sqliteError("savepoint", err)
		}
		_, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			err = sqliteError("inserting", err)
			if s.transient(err) {
				return "", err
			}
			if !isRowsError(err) {
				err = &rowsError{err: err}
			}
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO row"); rerr != nil {
				return "", sqliteError("rollback to savepoint", rerr)
			}
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE row"); rerr != nil {
			return "", sqliteError("release savepoint", rerr)
		}
		if err != nil {
			return errors.Unwrap(err).Error(), nil
		}
		return "", nil
	}
	cols := s.eventColumns(b.wide)
	eventsInsert := insertSQL("events", cols, 1, func(int) string { return "?" }, "")
	for _, e := range b.events {
		msg, err := try(eventsInsert, appendEventArgs(nil, e, load, b.wide))
		if err != nil {
			return nil, err
		}
		if msg != "" {
			rejected = append(rejected, rejection{req: e.req, index: e.index, message: msg})
		}
	}
	badInsert := insertSQL("bad_rows", badRowColumns, 1, func(int) string { return "?" }, "")
	for _, r := range b.bad {
		msg, err := try(badInsert, s.badRowArgs(r, load))
		if err != nil {
			return nil, err
		}
		if msg != "" {
			rejected = append(rejected, rejection{req: r.req, bad: true, index: r.index, message: msg})
		}
	}
	return rejected, nil
}

// sqliteCode returns SQLite's result code in err, from the driver or the direct path.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	var de *sqliteCodeError
	if errors.As(err, &de) {
		return de.Code(), true
	}
	return 0, false
}

// sqliteError wraps err with what failed, as a *rowsError when SQLite refused a value
// rather than failed.
func sqliteError(what string, err error) error {
	if err == nil {
		return nil
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff {
		case sqliteTooBig, sqliteConstraint, sqliteMismatch, sqliteRange:
			return &rowsError{err: err}
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *sqliteStore) knownDigests(ctx context.Context, digests [][]byte) (map[string]bool, error) {
	known := make(map[string]bool)
	for len(digests) > 0 {
		n := min(len(digests), 500)
		args := make([]any, n)
		for i := range n {
			args[i] = digests[i]
		}
		rows, err := s.w.QueryContext(ctx, "SELECT digest FROM event_digests WHERE digest IN (?"+strings.Repeat(", ?", n-1)+")", args...)
		if err != nil {
			return nil, fmt.Errorf("reading event digests: %w", err)
		}
		for rows.Next() {
			var d []byte
			if err := rows.Scan(&d); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading event digests: %w", err)
			}
			known[string(d)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading event digests: %w", err)
		}
		digests = digests[n:]
	}
	return known, nil
}

// transient: SQLite's busy, locked, out-of-memory, I/O, disk-full and cannot-open
// codes, and any error that is not SQLite's own (a connection of database/sql).
func (s *sqliteStore) transient(err error) bool {
	if errors.Is(err, errColumnLimit) || errors.Is(err, errPermanent) {
		return false
	}
	code, ok := sqliteCode(err)
	if !ok {
		return true
	}
	switch code & 0xff {
	case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteProtocol:
		return true
	}
	return false
}

func (s *sqliteStore) checkpoints(ctx context.Context, group, stream string) (map[string]string, error) {
	rows, err := s.w.QueryContext(ctx, "SELECT shard_id, sequence_number FROM checkpoints WHERE consumer_group = ? AND stream = ?", group, stream)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	defer rows.Close()
	cps := make(map[string]string)
	for rows.Next() {
		var shard, seq string
		if err := rows.Scan(&shard, &seq); err != nil {
			return nil, fmt.Errorf("reading checkpoints: %w", err)
		}
		cps[shard] = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	return cps, nil
}

func (s *sqliteStore) prune(ctx context.Context, table string, maxRows int64, cutoff time.Time, limit int) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	defer func() { _ = tx.Rollback() }()
	var deleted int64
	if maxRows > 0 {
		var n int64
		if err := tx.QueryRowContext(ctx, "SELECT row_count FROM row_counts WHERE table_name = ?", table).Scan(&n); err != nil {
			return 0, fmt.Errorf("pruning %s: %w", table, err)
		}
		if excess := n - maxRows; excess > 0 {
			res, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" ORDER BY id LIMIT ?)", min(excess, int64(limit)))
			if err != nil {
				return 0, fmt.Errorf("pruning %s: %w", table, err)
			}
			deleted, _ = res.RowsAffected()
		}
	}
	if deleted == 0 && !cutoff.IsZero() {
		// Load order is id order, so the oldest rows come first: looking at the first
		// limit rows finds them without an index on load_tstamp.
		res, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM (SELECT id, load_tstamp FROM "+table+
			" ORDER BY id LIMIT ?) WHERE load_tstamp < ?)", limit, cutoff.UTC().Format(sqliteTimeLayout))
		if err != nil {
			return 0, fmt.Errorf("pruning %s: %w", table, err)
		}
		deleted, _ = res.RowsAffected()
	}
	if deleted == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE row_counts SET row_count = row_count - ? WHERE table_name = ?", deleted, table); err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("pruning %s: %w", table, err)
	}
	return deleted, nil
}

func (s *sqliteStore) reset(ctx context.Context, appID string) (Counts, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Counts{}, fmt.Errorf("resetting: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var c Counts
	for _, t := range []struct {
		table string
		n     *int64
	}{{"events", &c.Good}, {"bad_rows", &c.Bad}} {
		var res sql.Result
		if appID == "" {
			res, err = tx.ExecContext(ctx, "DELETE FROM "+t.table)
		} else {
			res, err = tx.ExecContext(ctx, "DELETE FROM "+t.table+" WHERE app_id = ?", appID)
		}
		if err != nil {
			return Counts{}, fmt.Errorf("resetting %s: %w", t.table, err)
		}
		*t.n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, "UPDATE row_counts SET row_count = max(row_count - ?, 0) WHERE table_name = ?", *t.n, t.table); err != nil {
			return Counts{}, fmt.Errorf("resetting %s: %w", t.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Counts{}, fmt.Errorf("resetting: %w", err)
	}
	return c, nil
}

func (s *sqliteStore) count(ctx context.Context, appID string) (Counts, error) {
	var c Counts
	var err error
	if appID == "" {
		err = s.r.QueryRowContext(ctx, `SELECT
  coalesce((SELECT row_count FROM row_counts WHERE table_name = 'events'), 0),
  coalesce((SELECT row_count FROM row_counts WHERE table_name = 'bad_rows'), 0)`).Scan(&c.Good, &c.Bad)
	} else {
		err = s.r.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM events WHERE app_id = ?1),
  (SELECT count(*) FROM bad_rows WHERE app_id = ?1)`, appID).Scan(&c.Good, &c.Bad)
	}
	if err != nil {
		return Counts{}, fmt.Errorf("counting rows: %w", err)
	}
	return c, nil
}

func (s *sqliteStore) sqlDialect() sqlDialect { return sqliteDialect() }

func (s *sqliteStore) wideColumns() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.columns))
}

func (s *sqliteStore) wideFields(ctx context.Context, name string) ([]string, error) {
	col := quoteIdent(name)
	query := "SELECT DISTINCT k.key FROM events, json_each(events." + col + ") AS k WHERE events." + col + " IS NOT NULL AND k.type IS NOT NULL ORDER BY 1"
	if strings.HasPrefix(name, "contexts_") {
		query = "SELECT DISTINCT k.key FROM events, json_each(events." + col + ") AS e, json_each(e.value) AS k WHERE events." + col +
			" IS NOT NULL AND e.type = 'object' ORDER BY 1"
	}
	return selectStrings(ctx, s.r, query)
}

func (s *sqliteStore) scanEvents(ctx context.Context, tail string, args []any, fn func(*StoredEvent) bool) error {
	var sb strings.Builder
	sb.WriteString("SELECT id, load_tstamp")
	for _, c := range s.atomic {
		sb.WriteString(", ")
		sb.WriteString(c.name)
	}
	for _, c := range rawJSONColumns {
		sb.WriteString(", ")
		sb.WriteString(c)
	}
	sb.WriteString(", " + rawEventColumn + " FROM events")
	sb.WriteString(tail)
	rows, err := s.r.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	defer rows.Close()
	vals := make([]sql.RawBytes, len(s.atomic)+len(rawJSONColumns)+1)
	dest := make([]any, 2, 2+len(vals))
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	var se StoredEvent
	se.Event = new(event.EnrichedEvent)
	var load string
	for rows.Next() {
		dest[0], dest[1] = &se.ID, &load
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reading events: %w", err)
		}
		se.LoadTstamp, _ = time.Parse(sqliteTimeLayout, load)
		for i, c := range s.atomic {
			se.Event.Fields[c.field] = sqliteText(c.kind, vals[i])
		}
		for i, f := range rawJSONFields {
			se.Event.Fields[f] = string(vals[len(s.atomic)+i])
		}
		se.RawEvent = vals[len(vals)-1]
		if !fn(&se) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading events: %w", err)
	}
	return nil
}

// sqliteText returns the TSV text of a stored value: SQLite hands integers and reals
// over as their decimal text.
func sqliteText(k event.Kind, v sql.RawBytes) string {
	if v == nil {
		return ""
	}
	if k == event.KindDecimal || k == event.KindFloat {
		// REAL columns come back as e.g. "12.0": write them as the TSV had them.
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return string(v)
}

func (s *sqliteStore) scanBad(ctx context.Context, tail string, args []any, fn func(*StoredBadRow) bool) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, load_tstamp, stream, coalesce(schema, ''), coalesce(type, ''), coalesce(app_id, ''), data
FROM bad_rows`+tail, args...)
	if err != nil {
		return fmt.Errorf("reading bad rows: %w", err)
	}
	defer rows.Close()
	var b StoredBadRow
	var load string
	var data sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&b.ID, &load, &b.Stream, &b.Schema, &b.Type, &b.AppID, &data); err != nil {
			return fmt.Errorf("reading bad rows: %w", err)
		}
		b.LoadTstamp, _ = time.Parse(sqliteTimeLayout, load)
		b.Data = data
		if !fn(&b) {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading bad rows: %w", err)
	}
	return nil
}

// selectStrings runs a query of one text column and returns its values.
func selectStrings(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *sqliteStore) readDB() *sql.DB { return s.r }

// maintain copies committed WAL frames into the database file without blocking the
// writer (a PASSIVE checkpoint), so that the WAL is reused rather than growing.
func (s *sqliteStore) maintain(ctx context.Context) error {
	if _, err := s.c.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
		return fmt.Errorf("checkpointing the WAL of %s: %w", s.path, err)
	}
	return nil
}

func (s *sqliteStore) close() error {
	// The cached statements are finalized on the connection they belong to, if it is
	// still the writer's; otherwise they went with their connection.
	if len(s.rawStmts) > 0 || len(s.direct.stmts) > 0 {
		if conn, err := s.w.Conn(context.Background()); err == nil {
			_ = conn.Raw(func(dc any) error {
				if dc == s.rawOwner {
					s.closeRawStmts()
					if _, tls, ok := sqliteHandle(dc); ok {
						s.direct.finalize(tls)
					}
				}
				return nil
			})
			_ = conn.Close()
		}
		clear(s.rawStmts)
		s.rawOwner = nil
	}
	s.direct.forget()
	s.direct.free()
	return errors.Join(s.c.Close(), s.r.Close(), s.w.Close())
}

// quoteIdent quotes an SQL identifier (both SQLite and PostgreSQL use double quotes).
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// insertSQL returns INSERT [or] INTO table (cols) VALUES (…)×rows with placeholders
// from ph (1-based argument number).
func insertSQL(table string, cols []string, rows int, ph func(int) string, or string) string {
	var sb strings.Builder
	sb.WriteString("INSERT ")
	if or != "" {
		sb.WriteString(or)
		sb.WriteByte(' ')
	}
	sb.WriteString("INTO ")
	sb.WriteString(table)
	sb.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(quoteIdent(c))
	}
	sb.WriteString(") VALUES ")
	n := 1
	for r := 0; r < rows; r++ {
		if r > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for i := range cols {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(ph(n))
			n++
		}
		sb.WriteByte(')')
	}
	return sb.String()
}
