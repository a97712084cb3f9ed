package loaders

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/internal/sharedtest"
)

// enrichGoldens returns the enriched events of testdata/enrich, written by enrich.
func enrichGoldens(t *testing.T) []*event.EnrichedEvent {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(sharedtest.Root(t), "testdata", "enrich", "*.tsv"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no enriched goldens in testdata/enrich (%v)", err)
	}
	var evs []*event.EnrichedEvent
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			ev, err := event.ParseTSV([]byte(line))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

// TestParseRecord: the line of an observed event is split without checks, anything else
// goes through UnmarshalTSV; the fields are the same either way.
func TestParseRecord(t *testing.T) {
	withTab := testEvent(2, "shop")
	withTab.Fields[event.PageTitle] = "Running\tshoes\r\n"
	badInt := testEvent(3, "shop")
	badInt.Fields[event.TxnID] = "x"
	other := testEvent(4, "shop")
	changed := testEvent(4, "shop")
	changed.Fields[event.PageTitle] = strings.ToUpper(changed.Fields[event.PageTitle]) // same length
	tests := []struct {
		name         string
		observe      *event.EnrichedEvent // handed over by enrich, nil for none
		line         []byte               // the record
		wantObserved bool
	}{
		{"observed", testEvent(0, "shop"), testEvent(0, "shop").MarshalTSV(), true},
		{"link click observed", testEvent(1, "shop"), testEvent(1, "shop").MarshalTSV(), true},
		{"not observed", nil, testEvent(0, "shop").MarshalTSV(), false},
		{"a field AppendTSV rewrites", withTab, withTab.MarshalTSV(), false},
		{"another line of the same event_id", other, changed.MarshalTSV(), false},
		{"invalid, not observed", nil, badInt.MarshalTSV(), false},
		{"too few fields", testEvent(5, "shop"), []byte("a\tb"), false},
		{"not TSV", nil, []byte("abc"), false},
	}
	for _, ev := range enrichGoldens(t) {
		tests = append(tests, struct {
			name         string
			observe      *event.EnrichedEvent
			line         []byte
			wantObserved bool
		}{"enrich golden " + ev.Fields[event.EventID], ev, ev.MarshalTSV(), true})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sink{raws: newPendingRaw(nil)}
			if tt.observe != nil {
				s.ObserveGood(nil, tt.observe)
			}
			var want event.EnrichedEvent
			wantErr := want.UnmarshalTSV(tt.line)
			var got event.EnrichedEvent
			observed, err := s.parseRecord(&got, tt.line)
			if observed != tt.wantObserved {
				t.Errorf("parseRecord(%.40q) observed = %v, want %v", tt.line, observed, tt.wantObserved)
			}
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("parseRecord(%.40q) = %v, want %v", tt.line, err, wantErr)
			}
			if diff := cmp.Diff(want.Fields, got.Fields); diff != "" {
				t.Errorf("parseRecord(%.40q) fields (-UnmarshalTSV +parseRecord):\n%s", tt.line, diff)
			}
		})
	}
}

// TestObservedRowsAreParsedRows stores the same records in two databases, once with
// every event handed over by enrich first (ObserveGood) and once without: every column
// of every stored row, and the bad rows, are the same.
func TestObservedRowsAreParsedRows(t *testing.T) {
	evs := enrichGoldens(t)
	for i := range 40 {
		evs = append(evs, testEvent(i, "shop"))
	}
	withTab := testEvent(100, "shop")
	withTab.Fields[event.PageTitle] = "Running\tshoes"
	evs = append(evs, withTab)
	// Observed as one event, on the stream as another of the same event_id.
	observedOnly := testEvent(101, "shop")
	onStream := testEvent(101, "shop")
	onStream.Fields[event.PageTitle] = strings.ToUpper(onStream.Fields[event.PageTitle])
	badInt := testEvent(102, "shop")
	badInt.Fields[event.TxnID] = "x"

	raw := func(ev *event.EnrichedEvent) *event.RawEvent {
		return &event.RawEvent{Vendor: "com.snowplowanalytics.snowplow", Version: "tp2", Encoding: "UTF-8",
			Parameters: []event.NVP{event.NewNVP("e", ev.Fields[event.Event]), event.NewNVP("eid", ev.Fields[event.EventID])}}
	}
	var lines [][]byte
	for _, ev := range evs {
		lines = append(lines, ev.MarshalTSV())
	}
	lines = append(lines, onStream.MarshalTSV(), badInt.MarshalTSV())

	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			load := func(observe bool) [][]string {
				cfg, dir := b.config(t)
				p := newPipeline(t)
				s := startSink(t, cfg, dir, p)
				for _, ev := range append(evs[:len(evs):len(evs)], observedOnly) {
					if observe {
						s.ObserveGood(raw(ev), ev)
					} else {
						// The raw event only, as a sink that was not told of the
						// event's TSV (a record of the durable replay) has it.
						// The same value as ObserveGood's: it refers to the row's
						// fields unless the TSV rewrites them.
						var row *event.EnrichedEvent
						if s.raws.markOf(ev).len > 0 {
							row = ev
						}
						s.raws.put(ev.Fields[event.EventID], s.rawEventValue(raw(ev), row), tsvMark{})
					}
				}
				put(t, p.enriched, lines...)
				poll.Until(t, "all records loaded", 20*time.Second, func() bool {
					c := s.count(t, "")
					return c.Good+c.Bad == int64(len(lines))
				})
				return storedRows(t, s.Sink)
			}
			observed, parsed := load(true), load(false)
			if len(parsed) != len(lines) {
				t.Fatalf("%d rows stored, want %d", len(parsed), len(lines))
			}
			if diff := cmp.Diff(parsed, observed); diff != "" {
				t.Errorf("stored rows (-parsed +observed):\n%s", diff)
			}
		})
	}
}

// storedRows returns every column (but id and load_tstamp) of every events and bad_rows
// row, by column name, sorted.
func storedRows(t *testing.T, s *Sink) [][]string {
	t.Helper()
	var out [][]string
	for _, table := range []string{"events", "bad_rows"} {
		rows, err := s.DB().QueryContext(context.Background(), "SELECT * FROM "+s.Table(table)+" ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var row []string
			for i, c := range cols {
				if c == "id" || c == "load_tstamp" {
					continue
				}
				v := vals[i]
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				row = append(row, fmt.Sprintf("%s.%s=%T:%v", table, c, v, v))
			}
			slices.Sort(row) // the wide columns are in the order their types were first loaded
			out = append(out, row)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	// Records are loaded in shard order, and the shard of a record is random.
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// TestPendingRawBounds: past the byte bound the oldest JSON goes and the marks stay;
// past the entry bound the oldest entries go; a later put of the same event_id keeps
// its own JSON when the earlier one's slot is dropped.
func TestPendingRawBounds(t *testing.T) {
	mark := func(i int) tsvMark { return tsvMark{hash: uint64(i), len: 100 + i} }
	js := func(i int) string { return fmt.Sprintf("%09d", i) } // 9 bytes
	type want struct {
		id   string
		json string
		mark tsvMark
	}
	tests := []struct {
		name     string
		entries  int
		bytes    int
		puts     []int // event i: id "e<i%10>", JSON and mark of i
		want     []want
		wantDrop int
	}{
		{"within bounds", 4, 100, []int{1, 2, 3},
			[]want{{"e1", js(1), mark(1)}, {"e2", js(2), mark(2)}, {"e3", js(3), mark(3)}}, 0},
		{"byte bound strips the oldest JSON", 10, 20, []int{1, 2, 3, 4},
			[]want{{"e1", "", mark(1)}, {"e2", "", mark(2)}, {"e3", js(3), mark(3)}, {"e4", js(4), mark(4)}}, 2},
		{"entry bound drops the oldest entries", 2, 100, []int{1, 2, 3},
			[]want{{"e1", "", tsvMark{}}, {"e2", js(2), mark(2)}, {"e3", js(3), mark(3)}}, 1},
		{"a replaced entry survives its first slot", 2, 100, []int{1, 11, 2},
			[]want{{"e1", js(11), mark(11)}, {"e2", js(2), mark(2)}}, 0},
		{"a replaced entry keeps its JSON when its first slot is stripped", 10, 20, []int{1, 2, 11, 4},
			[]want{{"e1", js(11), mark(11)}, {"e2", "", mark(2)}, {"e4", js(4), mark(4)}}, 1},
		{"both bounds", 3, 20, []int{1, 2, 3, 4, 5},
			[]want{{"e2", "", tsvMark{}}, {"e3", "", mark(3)}, {"e4", js(4), mark(4)}, {"e5", js(5), mark(5)}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drops := 0
			p := newPendingRawBounded(tt.entries, tt.bytes, func() { drops++ })
			for _, i := range tt.puts {
				p.put(fmt.Sprintf("e%d", i%10), js(i), mark(i))
			}
			if drops != tt.wantDrop {
				t.Errorf("dropped %d raw events, want %d", drops, tt.wantDrop)
			}
			for _, w := range tt.want {
				if got := p.byID[w.id].mark; got != w.mark {
					t.Errorf("mark of %s = %+v, want %+v", w.id, got, w.mark)
				}
				if got := p.take(w.id); got != w.json {
					t.Errorf("take(%s) = %q, want %q", w.id, got, w.json)
				}
			}
			if p.bytes != 0 || len(p.byID) != 0 {
				t.Errorf("after taking everything: %d bytes, %d entries held, want none", p.bytes, len(p.byID))
			}
		})
	}
}
