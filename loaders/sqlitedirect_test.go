package loaders

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// TestSQLiteDirectHandle fails when the driver's connection no longer has the layout
// sqliteHandle reads: the writer would then fall back to the driver's statements.
func TestSQLiteDirectHandle(t *testing.T) {
	st := openTestSQLiteStore(t, false)
	conn, err := st.w.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Raw(func(dc any) error {
		if db, tls, ok := sqliteHandle(dc); !ok || db == 0 || tls == nil {
			t.Errorf("sqliteHandle(%T) = %#x, %p, %v, want the connection's handle", dc, db, tls, ok)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := sqliteHandle(&struct{ db, tls uintptr }{1, 2}); ok {
		t.Error("sqliteHandle accepted a struct that is not the driver's connection")
	}
}

func openTestSQLiteStore(t *testing.T, noDirect bool) *sqliteStore {
	t.Helper()
	st, err := newSQLiteStore(t.TempDir()+"/events.db", testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.close() })
	st.noDirect = noDirect
	if err := st.open(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// typedRows returns every column of every events row: its SQLite type and its bytes.
func typedRows(t *testing.T, st *sqliteStore) [][]string {
	t.Helper()
	ctx := context.Background()
	cols, err := selectStrings(ctx, st.w, "SELECT name FROM pragma_table_info('events') ORDER BY cid")
	if err != nil {
		t.Fatal(err)
	}
	var sel strings.Builder
	for i, c := range cols {
		if i > 0 {
			sel.WriteString(" || char(31) || ")
		}
		fmt.Fprintf(&sel, "%s || ':' || typeof(%s) || '=' || hex(%s)", quoteSQLText(c), quoteIdent(c), quoteIdent(c))
	}
	rows, err := selectStrings(ctx, st.w, "SELECT "+sel.String()+" FROM events ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Split(r, "\x1f")
	}
	return out
}

func quoteSQLText(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// TestSQLiteDirectRowsAreDriverRows writes the same batches below the driver and
// through it, and compares every column of every row, with its type.
func TestSQLiteDirectRowsAreDriverRows(t *testing.T) {
	var lines [][]byte
	for _, ev := range enrichGoldens(t) {
		lines = append(lines, ev.MarshalTSV())
	}
	for i := range 70 { // more than two full 32-row INSERTs, then the halves
		ev := testEvent(i, "shop")
		switch i % 5 {
		case 1:
			ev.Fields[event.PageTitle] = "Chaussures — été ✓ \U0001F45F"
		case 2:
			ev.Fields[event.PageTitle] = "nul\x00inside"
		case 3:
			ev.Fields[event.PageTitle] = strings.Repeat("long ", 40000)
		}
		lines = append(lines, ev.MarshalTSV())
	}
	ctx := context.Background()
	var got [2][][]string
	for i, noDirect := range []bool{false, true} {
		st := openTestSQLiteStore(t, noDirect)
		// Two transactions, so that the second reuses the prepared statements and
		// the binding block.
		for _, part := range [][][]byte{lines[:len(lines)/2], lines[len(lines)/2:]} {
			if err := st.write(ctx, testBatch(t, st, part, nil)); err != nil {
				t.Fatalf("noDirect %v: write: %v", noDirect, err)
			}
		}
		if direct := len(st.direct.stmts) > 0; direct == noDirect {
			t.Fatalf("noDirect %v: %d direct statements prepared", noDirect, len(st.direct.stmts))
		}
		driverEvents := 0
		for k := range st.rawStmts {
			if strings.HasPrefix(k, "events:") {
				driverEvents++
			}
		}
		if (driverEvents > 0) != noDirect {
			t.Fatalf("noDirect %v: %d events statements prepared on the driver", noDirect, driverEvents)
		}
		got[i] = typedRows(t, st)
	}
	if len(got[0]) != len(lines) {
		t.Fatalf("%d rows stored, want %d", len(got[0]), len(lines))
	}
	if diff := cmp.Diff(got[1], got[0]); diff != "" {
		t.Errorf("stored rows (-driver +direct):\n%s", diff)
	}
}

// TestSQLiteDirectRefusedRow checks that a row SQLite refuses on the direct path is
// reported as the driver reports it (a rows error, so that the sink looks for the
// row), and that the writer goes on afterwards.
func TestSQLiteDirectRefusedRow(t *testing.T) {
	ctx := context.Background()
	lines := testTSV(40, "shop")
	refused := testEvent(1000, "refuse")
	lines = append(lines[:20], append([][]byte{refused.MarshalTSV()}, lines[20:]...)...)
	var msgs [2]string
	for i, noDirect := range []bool{false, true} {
		st := openTestSQLiteStore(t, noDirect)
		if _, err := st.w.ExecContext(ctx, `CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.app_id = 'refuse'
BEGIN SELECT RAISE(FAIL, 'refused by test'); END`); err != nil {
			t.Fatal(err)
		}
		b := testBatch(t, st, lines, nil)
		err := st.write(ctx, b)
		if !isRowsError(err) {
			t.Fatalf("noDirect %v: write = %v, want a rows error", noDirect, err)
		}
		if st.transient(err) {
			t.Errorf("noDirect %v: transient(%v) = true", noDirect, err)
		}
		msgs[i] = err.Error()
		b.events = append(b.events[:20], b.events[21:]...)
		if err := st.write(ctx, b); err != nil {
			t.Fatalf("noDirect %v: write without the refused row: %v", noDirect, err)
		}
		if rows := typedRows(t, st); len(rows) != len(b.events) {
			t.Errorf("noDirect %v: %d rows stored, want %d", noDirect, len(rows), len(b.events))
		}
	}
	if msgs[0] != msgs[1] {
		t.Errorf("error on the direct path %q, through the driver %q", msgs[0], msgs[1])
	}
}

// TestSQLiteDirectBlock checks that the binding block grows as needed and is given back
// after a large batch.
func TestSQLiteDirectBlock(t *testing.T) {
	var d sqliteDirect
	defer d.free()
	for _, tt := range []struct{ need, want int }{
		{100, 64 << 10},
		{64 << 10, 64 << 10},
		{100 << 10, 128 << 10},
		{5 << 20, 5 << 20},
		{2 << 20, 5 << 20},
		{1 << 20, 1 << 20},
		{100, 1 << 20}, // 4 MiB or less is kept
	} {
		if err := d.grow(tt.need); err != nil {
			t.Fatal(err)
		}
		if len(d.mem) != tt.want {
			t.Errorf("grow(%d): block of %d bytes, want %d", tt.need, len(d.mem), tt.want)
		}
		d.mem[len(d.mem)-1] = 1 // the whole block is usable
	}
}
