package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
)

// wideSchemas writes n self-describing schemas com.acme.wide/t0000.. (1-0-0) in the
// static-repo layout and returns the folder.
func wideSchemas(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		name := fmt.Sprintf("t%04d", i)
		p := filepath.Join(dir, "schemas", "com.acme.wide", name, "jsonschema")
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf(`{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
"self":{"vendor":"com.acme.wide","name":%q,"format":"jsonschema","version":"1-0-0"},
"type":"object","properties":{"v":{"type":"integer"}},"additionalProperties":false}`, name)
		if err := os.WriteFile(filepath.Join(p, "1-0-0"), []byte(schema), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "schemas")
}

// postTP2 sends events (tp2 JSON objects) in one POST and returns the status.
func postTP2(t *testing.T, base string, events ...string) int {
	t.Helper()
	body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` + strings.Join(events, ",") + `]}`
	resp, err := http.Post(base+"/com.snowplowanalytics.snowplow/tp2", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// wideEvent is a page view carrying n contexts of distinct types.
func wideEvent(n int) string {
	ctxs := make([]string, n)
	for i := range ctxs {
		ctxs[i] = fmt.Sprintf(`{"schema":"iglu:com.acme.wide/t%04d/jsonschema/1-0-0","data":{"v":%d}}`, i, i)
	}
	co := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[` + strings.Join(ctxs, ",") + `]}`
	return fmt.Sprintf(`{"e":"pv","p":"web","tv":"test","aid":"wide","eid":"00000000-0000-4000-8000-000000000001","url":"http://example.test/","co":%q}`, co)
}

func pageViews(aid string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"e":"pv","p":"web","tv":"test","aid":%q,"url":"http://example.test/%d"}`, aid, i)
	}
	return out
}

// sinkCounter counts stored events of an app and loader bad rows.
type sinkCounter interface {
	events(aid string) int
	// wideStored reports whether the wide event is stored with its 1,900 contexts in
	// the raw JSON column, or a loader bad row about it is.
	wideStored() (bool, string)
}

type sqliteCounter struct {
	t  *testing.T
	db *sql.DB
}

func (c sqliteCounter) events(aid string) int {
	var n int
	if err := c.db.QueryRow("SELECT count(*) FROM events WHERE app_id = ?", aid).Scan(&n); err != nil {
		return -1
	}
	return n
}

func (c sqliteCounter) wideStored() (bool, string) {
	var n int
	err := c.db.QueryRow("SELECT json_array_length(contexts, '$.data') FROM events WHERE app_id = 'wide'").Scan(&n)
	if err == nil {
		return n >= 1900, fmt.Sprintf("%d contexts in the raw column", n)
	}
	var typ, failure string
	if err := c.db.QueryRow("SELECT type, substr(failure, 1, 300) FROM bad_rows WHERE stream = 'bad-2' AND type LIKE 'loader_%'").Scan(&typ, &failure); err != nil {
		return false, fmt.Sprintf("neither the event nor a loader bad row is stored (%v)", err)
	}
	return true, fmt.Sprintf("a %s bad row: %s", typ, failure)
}

type pgCounter struct {
	conn   *pgx.Conn
	schema string
}

func (c pgCounter) events(aid string) int {
	var n int
	if err := c.conn.QueryRow(context.Background(), "SELECT count(*) FROM "+c.schema+".events WHERE app_id = $1", aid).Scan(&n); err != nil {
		return -1
	}
	return n
}

func (c pgCounter) wideStored() (bool, string) {
	var n int
	ctx := context.Background()
	err := c.conn.QueryRow(ctx, "SELECT json_array_length(contexts::json->'data') FROM "+c.schema+".events WHERE app_id = 'wide'").Scan(&n)
	if err == nil {
		return n >= 1900, fmt.Sprintf("%d contexts in the raw column", n)
	}
	var typ, failure string
	if err := c.conn.QueryRow(ctx, "SELECT type, left(failure::text, 300) FROM "+c.schema+".bad_rows WHERE stream = 'bad-2' AND type LIKE 'loader_%'").Scan(&typ, &failure); err != nil {
		return false, fmt.Sprintf("neither the event nor a loader bad row is stored (%v)", err)
	}
	return true, fmt.Sprintf("a %s bad row: %s", typ, failure)
}

// testColumnLimit sends one event with 1,900 contexts of distinct types (past the
// events table's column limit), then ordinary page views: the page views are stored,
// the wide event is stored with its data in the raw JSON column (or a bad row on bad-2
// says why not), and the server stops cleanly.
func testColumnLimit(t *testing.T, counter func(t *testing.T, dataDir string) sinkCounter, extra ...string) {
	const types = 1900
	dataDir := t.TempDir()
	args := append([]string{"--schemas", wideSchemas(t, types), "--shutdown-timeout", "20s"}, extra...)
	s := startServe(t, dataDir, nil, args...)
	if code := postTP2(t, s.base, wideEvent(types)); code != http.StatusOK {
		t.Fatalf("wide event: status %d", code)
	}
	if code := postTP2(t, s.base, pageViews("after", 20)...); code != http.StatusOK {
		t.Fatalf("page views: status %d", code)
	}
	c := counter(t, dataDir)
	poll.UntilState(t, "the page views after the wide event", 120*time.Second, func() (bool, string) {
		n := c.events("after")
		return n == 20, fmt.Sprintf("%d of 20 stored", n)
	})
	poll.UntilState(t, "the wide event", 120*time.Second, c.wideStored)
	_, how := c.wideStored()
	t.Logf("wide event: %s", how)
	// More page views: the store is still loading.
	if code := postTP2(t, s.base, pageViews("later", 5)...); code != http.StatusOK {
		t.Fatalf("page views: status %d", code)
	}
	poll.UntilState(t, "page views sent later", 30*time.Second, func() (bool, string) {
		n := c.events("later")
		return n == 5, fmt.Sprintf("%d of 5 stored", n)
	})
	start := time.Now()
	if code := s.stop(t); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	if n := linesWith(s.stderr.String(), "column limit"); n != 1 {
		t.Errorf("the column limit was reported %d times, want once; log:\n%s", n, s.stderr.String())
	}
}

func TestServeColumnLimitSQLite(t *testing.T) {
	testColumnLimit(t, func(t *testing.T, dataDir string) sinkCounter {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return sqliteCounter{t: t, db: db}
	})
}

func TestServeColumnLimitPostgres(t *testing.T) {
	pg := postgresSink(t, "collimit", nil)
	conn, schema, cfgFile := pg.conn, pg.schema, pg.cfgFile
	testColumnLimit(t, func(*testing.T, string) sinkCounter { return pgCounter{conn: conn, schema: schema} }, "--config", cfgFile)
}

// linesWith counts the lines of log that contain s.
func linesWith(log, s string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// TestServeCheckpointsFromAClockAhead restarts serve on checkpoints that a run whose
// clock was an hour ahead stored (an NTP step, a restored snapshot, a data dir copied
// from another machine): the events of the new run must all be stored.
//
// Memory streams only: durable streams keep numbering after their log's last record,
// which the stored checkpoints come from.
func TestServeCheckpointsFromAClockAhead(t *testing.T) {
	dataDir := t.TempDir()
	s := startServe(t, dataDir, nil, "--durable=false")
	if code := postTP2(t, s.base, pageViews("first", 10)...); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	dbPath := filepath.Join(dataDir, "events.db")
	db, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := sqliteCounter{t: t, db: db}
	poll.UntilState(t, "the first run's events", 30*time.Second, func() (bool, string) {
		n := c.events("first")
		return n == 10, fmt.Sprintf("%d of 10 stored", n)
	})
	s.stop(t)

	// Move every stored checkpoint an hour ahead, as that run's clock would have put
	// them: sequence numbers begin with the Unix nanoseconds at which the stream
	// started.
	rows, err := db.Query("SELECT consumer_group, stream, shard_id, sequence_number FROM checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	type cp struct{ group, stream, shard, seq string }
	var cps []cp
	for rows.Next() {
		var c cp
		if err := rows.Scan(&c.group, &c.stream, &c.shard, &c.seq); err != nil {
			t.Fatal(err)
		}
		cps = append(cps, c)
	}
	rows.Close()
	if len(cps) == 0 {
		t.Fatal("no checkpoints stored")
	}
	for _, c := range cps {
		if strings.HasPrefix(c.stream, "source:") {
			continue
		}
		ahead, err := seqAhead(c.seq, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE checkpoints SET sequence_number = ? WHERE consumer_group = ? AND stream = ? AND shard_id = ?",
			ahead, c.group, c.stream, c.shard); err != nil {
			t.Fatal(err)
		}
	}

	s = startServe(t, dataDir, nil, "--durable=false")
	const n = 1000
	for i := 0; i < n; i += 50 {
		if code := postTP2(t, s.base, pageViews("second", 50)...); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	poll.UntilState(t, "the second run's events", 30*time.Second, func() (bool, string) {
		got := c.events("second")
		return got == n, fmt.Sprintf("%d of %d stored", got, n)
	})
	s.stop(t)
}

// seqAhead returns seq (a memory-stream sequence number: Unix nanoseconds then a
// 20-digit counter) as a stream started d later would have numbered it.
func seqAhead(seq string, d time.Duration) (string, error) {
	if len(seq) <= 20 {
		return "", fmt.Errorf("sequence number %q is too short", seq)
	}
	var epoch int64
	if _, err := fmt.Sscan(seq[:len(seq)-20], &epoch); err != nil {
		return "", fmt.Errorf("sequence number %q: %w", seq, err)
	}
	return fmt.Sprint(epoch+int64(d)) + seq[len(seq)-20:], nil
}

// TestServeHealthReportsAStalledStage holds the SQLite write lock from outside, so that
// the event store cannot commit: /health must say so once records have waited longer
// than health.stallTimeout, and recover when the lock is released.
func TestServeHealthReportsAStalledStage(t *testing.T) {
	dataDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "health.yaml")
	if err := os.WriteFile(cfgFile, []byte("health:\n  stallTimeout: 1s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, dataDir, nil, "--config", cfgFile)
	health := func() (int, string) {
		resp, err := http.Get(s.base + "/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := health(); code != http.StatusOK {
		t.Fatalf("/health before = %d %s, want 200", code, body)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if code := postTP2(t, s.base, pageViews("stall", 5)...); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	t.Logf("%s locked", time.Now().Format(time.TimeOnly))
	poll.UntilState(t, "/health to report the stalled event store", 20*time.Second, func() (bool, string) {
		code, body := health()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "event store: no progress"), fmt.Sprintf("%d %s", code, body)
	})
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	locked = false
	t.Logf("%s released the lock", time.Now().Format(time.TimeOnly))
	poll.UntilState(t, "/health to recover", 60*time.Second, func() (bool, string) {
		code, body := health()
		return code == http.StatusOK, fmt.Sprintf("%d %s", code, body)
	})
	t.Logf("%s recovered", time.Now().Format(time.TimeOnly))
	c := sqliteCounter{t: t, db: db}
	if n := c.events("stall"); n != 5 {
		t.Errorf("stored %d of 5 events", n)
	}
}
