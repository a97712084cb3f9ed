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

// TestSQLiteDirectRebinds writes 32-row batches that run the same statement again and
// again, with values that stay, change at the same length, shrink, grow out of their
// slot, turn NULL and back, and grow the statement's block past 4 MiB and shrink it,
// and compares the stored rows with the driver's: exec binds only what changed.
func TestSQLiteDirectRebinds(t *testing.T) {
	titles := []string{"Shoes", "Boots", "Shoes, running", "", "Shoes", strings.Repeat("x", 40)}
	values := []string{"1.5", "2.5", "-0", "0", ""}
	var batches [][][]byte
	for k := range 12 {
		var lines [][]byte
		for j := range 32 {
			ev := testEvent(k*32+j, "shop")
			ev.Fields[event.PageTitle] = titles[(k+j*k)%len(titles)]
			switch {
			case k == 6:
				ev.Fields[event.PageTitle] = strings.Repeat("big ", 50000+j)
			case k == 8 && j == 3:
				ev.Fields[event.PageTitle] = strings.Repeat("a rather longer title ", 20)
			}
			if j == 0 {
				// Keeps the column in the statement of every batch.
				ev.Fields[event.PageTitle] += "."
			}
			ev.Fields[event.SeValue] = values[(j*k)%len(values)]
			ev.Fields[event.DomainSessionIdx] = fmt.Sprint(1 + (j*k)%3)
			lines = append(lines, ev.MarshalTSV())
		}
		batches = append(batches, lines)
	}
	ctx := context.Background()
	var got [2][][]string
	for i, noDirect := range []bool{false, true} {
		st := openTestSQLiteStore(t, noDirect)
		for _, lines := range batches {
			if err := st.write(ctx, testBatch(t, st, lines, nil)); err != nil {
				t.Fatalf("noDirect %v: write: %v", noDirect, err)
			}
		}
		if !noDirect && len(st.direct.stmts) > 2 {
			t.Errorf("%d direct statements prepared, want the batches to share them", len(st.direct.stmts))
		}
		got[i] = typedRows(t, st)
	}
	if len(got[0]) != 12*32 {
		t.Fatalf("%d rows stored, want %d", len(got[0]), 12*32)
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

// TestSQLiteDirectBlock checks that a statement's binding block grows as needed, is
// given back after a large batch, and that replacing it drops the text bindings into it.
func TestSQLiteDirectBlock(t *testing.T) {
	var d sqliteDirect
	defer d.free()
	st := &directStmt{slots: make([]bindSlot, 1)}
	defer d.release(st)
	for _, tt := range []struct {
		top, need, total int
		want             int
		moved            bool
	}{
		{0, 100, 100, 4 << 10, true},
		{4000, 96, 100, 4 << 10, false},
		{4000, 112, 1000, 4 << 10, true},
		{0, 5 << 20, 5 << 20, 10 << 20, true},
		{5 << 20, 0, 3 << 20, 10 << 20, false},
		{0, 0, 1 << 20, 2 << 20, true}, // less than a quarter of a block over 4 MiB
		{0, 0, 100, 2 << 20, false},    // 4 MiB or less is kept
	} {
		st.top = tt.top
		st.slots[0] = bindSlot{kind: boundText, off: 0, n: 3, cap: 16}
		block := st.block
		if err := d.layout(st, tt.need, tt.total); err != nil {
			t.Fatal(err)
		}
		if len(st.mem) != tt.want {
			t.Errorf("layout(top %d, need %d, total %d): block of %d bytes, want %d", tt.top, tt.need, tt.total, len(st.mem), tt.want)
		}
		if moved := st.block != block; moved != tt.moved {
			t.Errorf("layout(top %d, need %d, total %d): new block %v, want %v", tt.top, tt.need, tt.total, moved, tt.moved)
		}
		if tt.moved && (st.top != 0 || st.slots[0].kind != boundUnknown || st.slots[0].cap != 0) {
			t.Errorf("layout(top %d, need %d, total %d): top %d, slot %+v after a new block, want 0 and an unknown binding without room", tt.top, tt.need, tt.total, st.top, st.slots[0])
		}
		st.mem[len(st.mem)-1] = 1 // the whole block is usable
	}
}
