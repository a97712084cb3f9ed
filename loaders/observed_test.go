package loaders

import (
	"context"
	"encoding/json"
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

// TestParseRecord: the line of an observed event is taken from what ObserveGood made of
// it (or, once that was dropped for the memory bound, split without checks), anything
// else goes through UnmarshalTSV; the fields are the same either way.
func TestParseRecord(t *testing.T) {
	withTab := testEvent(2, "shop")
	withTab.Fields[event.PageTitle] = "Running\tshoes\r\n"
	badInt := testEvent(3, "shop")
	badInt.Fields[event.TxnID] = "x"
	// A TAB becomes four spaces and CR and LF go: the line is as long as the fields.
	sameLength := testEvent(6, "shop")
	sameLength.Fields[event.PageTitle] = "Running\tshoes\r\n\r"
	other := testEvent(4, "shop")
	changed := testEvent(4, "shop")
	changed.Fields[event.PageTitle] = strings.ToUpper(changed.Fields[event.PageTitle]) // same length
	type test struct {
		name    string
		observe *event.EnrichedEvent // handed over by enrich, nil for none
		line    []byte               // the record
		strip   bool                 // the observed event is dropped for the memory bound, its mark kept
		want    string               // how the line is read: "observed", "marked" or "parsed"
	}
	tests := []test{
		{"observed", testEvent(0, "shop"), testEvent(0, "shop").MarshalTSV(), false, "observed"},
		{"link click observed", testEvent(1, "shop"), testEvent(1, "shop").MarshalTSV(), false, "observed"},
		{"observed, then stripped to its mark", testEvent(0, "shop"), testEvent(0, "shop").MarshalTSV(), true, "marked"},
		{"not observed", nil, testEvent(0, "shop").MarshalTSV(), false, "parsed"},
		{"a field AppendTSV rewrites", withTab, withTab.MarshalTSV(), false, "parsed"},
		{"a field AppendTSV rewrites to its length", sameLength, sameLength.MarshalTSV(), false, "observed"},
		{"another line of the same event_id", other, changed.MarshalTSV(), false, "parsed"},
		{"another line of the same event_id, stripped", other, changed.MarshalTSV(), true, "parsed"},
		{"invalid, not observed", nil, badInt.MarshalTSV(), false, "parsed"},
		{"too few fields", testEvent(5, "shop"), []byte("a\tb"), false, "parsed"},
		{"not TSV", nil, []byte("abc"), false, "parsed"},
	}
	for _, ev := range enrichGoldens(t) {
		tests = append(tests, test{"enrich golden " + ev.Fields[event.EventID], ev, ev.MarshalTSV(), false, "observed"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sink{raws: newPendingRaw(nil)}
			if tt.observe != nil {
				s.ObserveGood(nil, tt.observe, tt.observe.MarshalTSV(), testEntities(t, tt.observe))
				if tt.strip {
					s.raws.stripOldestObserved()
				}
			}
			var want event.EnrichedEvent
			wantErr := want.UnmarshalTSV(tt.line)
			var got event.EnrichedEvent
			obs, observed, err := s.parseRecord(&got, tt.line)
			how := "parsed"
			switch {
			case obs != nil:
				how = "observed"
			case observed:
				how = "marked"
			}
			if how != tt.want {
				t.Errorf("parseRecord(%.40q) read the line as %s, want %s", tt.line, how, tt.want)
			}
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("parseRecord(%.40q) = %v, want %v", tt.line, err, wantErr)
			}
			if diff := cmp.Diff(want.Fields, got.Fields); diff != "" {
				t.Errorf("parseRecord(%.40q) fields (-UnmarshalTSV +parseRecord):\n%s", tt.line, diff)
			}
			if obs != nil {
				// A second record of the same line is parsed: the observed event went to
				// the first one's row.
				if again, _, _ := s.parseRecord(&got, tt.line); again != nil {
					t.Errorf("parseRecord(%.40q) gave the observed event twice", tt.line)
				}
			}
		})
	}
}

// TestObservedHolds: the fields of an observed event are told for the event's own only
// when no field was rewritten for the TSV, as a field by field comparison says.
func TestObservedHolds(t *testing.T) {
	tests := []struct {
		name  string
		title string
		want  bool
	}{
		{"plain", "Running shoes", true},
		{"four spaces", "Running    shoes", true},
		{"a TAB, rewritten to another length", "Running\tshoes", false},
		{"a TAB and three CRs, rewritten to the same length", "Running\t\r\r\rshoes", false},
		{"LF", "Running shoes\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := testEvent(1, "shop")
			ev.Fields[event.PageTitle] = tt.title
			line := ev.MarshalTSV()
			obs := observe(ev, line)
			var split event.EnrichedEvent
			if err := split.SplitTSV(line); err != nil {
				t.Fatal(err)
			}
			if want := split.Fields == ev.Fields; want != tt.want {
				t.Fatalf("test case: the line splits into the event's fields = %v, want %v", want, tt.want)
			}
			if got := obs.holds(ev); got != tt.want {
				t.Errorf("observe(%q).holds = %v, want %v", tt.title, got, tt.want)
			}
		})
	}
}

// TestEntityColumns: the wide-row columns ObserveGood makes from enrich's entities are
// those wideColumns reads from the fields, or are not used.
func TestEntityColumns(t *testing.T) {
	type test struct {
		name      string
		ev        *event.EnrichedEvent
		ents      *event.Entities
		wantKnown bool
	}
	var tests []test
	for i := range 4 {
		ev := testEvent(i, "shop")
		tests = append(tests, test{fmt.Sprintf("test event %d", i), ev, testEntities(t, ev), true})
	}
	for _, ev := range enrichGoldens(t) {
		tests = append(tests, test{"enrich golden " + ev.Fields[event.EventID], ev, testEntities(t, ev), true})
	}
	web := event.SelfDescribing{Schema: webPageSchema, Data: []byte(`{"id":"5cea9899-10df-4ccf-bf66-000000000000"}`)}
	link := event.SelfDescribing{Schema: linkClickSchema, Data: []byte(`{"targetUrl":"https://shop.acme.com/"}`)}
	with := func(f func(ev *event.EnrichedEvent, ents *event.Entities)) (*event.EnrichedEvent, *event.Entities) {
		ev := testEvent(1, "shop")
		ents := testEntities(t, ev)
		f(ev, ents)
		return ev, ents
	}
	add := func(name string, wantKnown bool, f func(ev *event.EnrichedEvent, ents *event.Entities)) {
		ev, ents := with(f)
		tests = append(tests, test{name, ev, ents, wantKnown})
	}
	add("no entities", true, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ev.Fields[event.Contexts], ev.Fields[event.DerivedContexts], ev.Fields[event.UnstructEvent] = "", "", ""
		*ents = event.Entities{}
	})
	add("null data", true, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Contexts = []event.SelfDescribing{{Schema: webPageSchema}, web}
		ev.Fields[event.Contexts] = event.MarshalContexts(ents.Contexts)
	})
	add("the same type twice, and in both contexts fields", true, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Contexts = []event.SelfDescribing{web, link, web}
		ents.Derived = append(ents.Derived, web)
		ev.Fields[event.Contexts] = event.MarshalContexts(ents.Contexts)
		ev.Fields[event.DerivedContexts] = event.MarshalContexts(ents.Derived)
	})
	add("a field rewritten after enrich (PII)", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ev.Fields[event.Contexts] = event.MarshalContexts([]event.SelfDescribing{link})
	})
	add("an entity more than the field has", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Contexts = append(ents.Contexts, web)
	})
	add("an entity less than the field has", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Contexts = ents.Contexts[:len(ents.Contexts)-1]
	})
	add("a field without its entities", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Unstruct = nil
	})
	add("entities without their field", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ev.Fields[event.DerivedContexts] = ""
	})
	add("data with spaces around", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Derived = []event.SelfDescribing{{Schema: webPageSchema, Data: []byte(` {"id":"x"} `)}}
		ev.Fields[event.DerivedContexts] = event.MarshalContexts(ents.Derived)
	})
	add("a schema with escapes", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Contexts = []event.SelfDescribing{{Schema: `iglu:com.acme/a"b/jsonschema/1-0-0`, Data: []byte(`{}`)}}
		ev.Fields[event.Contexts] = event.MarshalContexts(ents.Contexts)
	})
	add("a schema that is no Iglu URI", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ents.Unstruct = &event.SelfDescribing{Schema: "com.acme/a", Data: []byte(`{}`)}
		ev.Fields[event.UnstructEvent] = event.MarshalUnstruct(*ents.Unstruct)
	})
	add("an unstruct event with something after it", false, func(ev *event.EnrichedEvent, ents *event.Entities) {
		ev.Fields[event.UnstructEvent] = ev.Fields[event.UnstructEvent][:len(ev.Fields[event.UnstructEvent])-1] + `,"x":1}`
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := observe(tt.ev, tt.ev.MarshalTSV())
			if obs == nil {
				t.Fatal("observe: nil")
			}
			got, known := entityColumns(new(columnNames), obs, tt.ents)
			if known != tt.wantKnown {
				t.Errorf("entityColumns known = %v, want %v", known, tt.wantKnown)
			}
			if !known {
				return
			}
			want, err := wideColumns(nil, tt.ev.Fields[event.Contexts], tt.ev.Fields[event.UnstructEvent], tt.ev.Fields[event.DerivedContexts])
			if err != nil {
				t.Fatalf("wideColumns: %v", err)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(wideColumn{})); diff != "" {
				t.Errorf("columns (-wideColumns +entityColumns):\n%s", diff)
			}
		})
	}
}

// FuzzEntityColumns: whatever the entities (valid JSON data, as enrich guarantees) and
// however the field differs from what enrich writes for them, entityColumns gives the
// columns wideColumns reads from the field, or none.
func FuzzEntityColumns(f *testing.F) {
	f.Add(webPageSchema, `{"id":"a"}`, linkClickSchema, `{"targetUrl":"https://a/"}`, "", "")
	f.Add(webPageSchema, `null`, webPageSchema, `[1,"]}",{"a":"\"}"}]`, `,"data":[`, "}")
	f.Add("iglu:com.acme/x/jsonschema/1-0-0", `"a\\"`, "iglu:com.acme/x/jsonschema/1-0-0", ` 1 `, "", `]`)
	f.Fuzz(func(t *testing.T, schema1, data1, schema2, data2, cut, extra string) {
		if !json.Valid([]byte(data1)) || !json.Valid([]byte(data2)) {
			t.Skip()
		}
		a := event.SelfDescribing{Schema: schema1, Data: []byte(data1)}
		b := event.SelfDescribing{Schema: schema2, Data: []byte(data2)}
		ents := &event.Entities{Contexts: []event.SelfDescribing{a, b}, Derived: []event.SelfDescribing{b}, Unstruct: &a}
		ev := testEvent(0, "shop")
		ev.Fields[event.Contexts] = event.MarshalContexts(ents.Contexts)
		ev.Fields[event.DerivedContexts] = event.MarshalContexts(ents.Derived)
		// The unstruct_event field, changed: a part cut out, something added.
		u := event.MarshalUnstruct(a)
		if i := strings.Index(u, cut); cut != "" && i >= 0 {
			u = u[:i] + u[i+len(cut):]
		}
		ev.Fields[event.UnstructEvent] = u + extra
		obs := observe(ev, ev.MarshalTSV())
		if obs == nil {
			t.Skip() // a separator in a field: never observed
		}
		got, known := entityColumns(new(columnNames), obs, ents)
		if !known {
			return
		}
		want, err := wideColumns(nil, ev.Fields[event.Contexts], ev.Fields[event.UnstructEvent], ev.Fields[event.DerivedContexts])
		if err != nil {
			t.Fatalf("entityColumns gave columns where wideColumns fails: %v", err)
		}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(wideColumn{})); diff != "" {
			t.Errorf("columns (-wideColumns +entityColumns):\n%s", diff)
		}
	})
}

// TestObservedRowsAreParsedRows stores the same records in several databases, once with
// every event handed over by enrich first (ObserveGood, with its entities, or
// entities that do not match its fields, or none), once the same with what the sink
// made of each event dropped for the memory bound (only the marks of their lines
// kept), and once with no event handed over: every column of every stored row (the
// wide-row columns too), and the bad rows, are the same.
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
	// Contexts rewritten after enrich (PII): the entities no longer match the field.
	rewritten := testEvent(103, "shop")
	rewrittenEnts := testEntities(t, rewritten)
	rewritten.Fields[event.Contexts] = event.MarshalContexts(rewrittenEnts.Contexts[:1])
	evs = append(evs, rewritten)
	ents := make(map[*event.EnrichedEvent]*event.Entities)
	for i, ev := range evs {
		switch {
		case ev == rewritten:
			ents[ev] = rewrittenEnts
		case i%7 != 3: // and some without
			ents[ev] = testEntities(t, ev)
		}
	}

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
			load := func(how string) [][]string {
				cfg, dir := b.config(t)
				p := newPipeline(t)
				s := startSink(t, cfg, dir, p)
				for _, ev := range append(evs[:len(evs):len(evs)], observedOnly) {
					switch how {
					case "observed":
						s.ObserveGood(raw(ev), ev, ev.MarshalTSV(), ents[ev])
					case "marked":
						s.ObserveGood(raw(ev), ev, nil, ents[ev])
						s.raws.mu.Lock()
						s.raws.stripOldestObserved()
						s.raws.mu.Unlock()
					default:
						// The raw event only, as a sink that was not told of the
						// event's TSV (a record of the durable replay) has it.
						// The same value as ObserveGood's: it refers to the row's
						// fields unless the TSV rewrites them.
						var row *event.EnrichedEvent
						if observe(ev, ev.MarshalTSV()).holds(ev) {
							row = ev
						}
						s.raws.put(ev.Fields[event.EventID], s.rawEventValue(raw(ev), row), nil)
					}
				}
				put(t, p.enriched, lines...)
				poll.Until(t, "all records loaded", 20*time.Second, func() bool {
					c := s.count(t, "")
					return c.Good+c.Bad == int64(len(lines))
				})
				return storedRows(t, s.Sink)
			}
			parsed := load("parsed")
			if len(parsed) != len(lines) {
				t.Fatalf("%d rows stored, want %d", len(parsed), len(lines))
			}
			wide := 0
			for _, row := range parsed {
				for _, c := range row {
					if strings.HasPrefix(c, "events.contexts_") || strings.HasPrefix(c, "events.unstruct_event_") {
						if !strings.HasSuffix(c, "<nil>") {
							wide++
						}
					}
				}
			}
			if wide < len(evs) {
				t.Errorf("%d wide-row values stored, want at least %d", wide, len(evs))
			}
			for _, how := range []string{"observed", "marked"} {
				if diff := cmp.Diff(parsed, load(how)); diff != "" {
					t.Errorf("stored rows (-parsed +%s):\n%s", how, diff)
				}
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

// TestPendingRawBounds: past the byte bound the oldest JSON goes; past the bound of the
// observed events the oldest are replaced by the marks of their lines; past the entry
// bound the oldest entries go; a later put of the same event_id keeps its own JSON and
// observed event when the earlier one's slot is dropped.
func TestPendingRawBounds(t *testing.T) {
	js := func(i int) string { return fmt.Sprintf("%09d", i) } // 9 bytes
	line := func(i int) string { return fmt.Sprintf("line %03d", i) }
	obsSize := (&observedEvent{line: line(0)}).size()
	// want is what take finds of an event: its JSON, and its observed event's line
	// (kept whole, or as its mark: "#" and the line).
	type want struct {
		id, json, line string
	}
	tests := []struct {
		name     string
		entries  int
		bytes    int
		obsBytes int
		puts     []int // event i: id "e<i%10>", JSON and line of i
		want     []want
		wantDrop int
	}{
		{"within bounds", 4, 100, 4 * obsSize, []int{1, 2, 3},
			[]want{{"e1", js(1), line(1)}, {"e2", js(2), line(2)}, {"e3", js(3), line(3)}}, 0},
		{"byte bound strips the oldest JSON", 10, 20, 10 * obsSize, []int{1, 2, 3, 4},
			[]want{{"e1", "", line(1)}, {"e2", "", line(2)}, {"e3", js(3), line(3)}, {"e4", js(4), line(4)}}, 2},
		{"observed bound keeps the oldest lines' marks", 10, 100, 2 * obsSize, []int{1, 2, 3, 4},
			[]want{{"e1", js(1), "#" + line(1)}, {"e2", js(2), "#" + line(2)}, {"e3", js(3), line(3)}, {"e4", js(4), line(4)}}, 0},
		{"entry bound drops the oldest entries", 2, 100, 10 * obsSize, []int{1, 2, 3},
			[]want{{"e1", "", ""}, {"e2", js(2), line(2)}, {"e3", js(3), line(3)}}, 1},
		{"a replaced entry survives its first slot", 2, 100, 10 * obsSize, []int{1, 11, 2},
			[]want{{"e1", js(11), line(11)}, {"e2", js(2), line(2)}}, 0},
		{"a replaced entry keeps its JSON when its first slot is stripped", 10, 20, 10 * obsSize, []int{1, 2, 11, 4},
			[]want{{"e1", js(11), line(11)}, {"e2", "", line(2)}, {"e4", js(4), line(4)}}, 1},
		{"a replaced entry keeps its observed event when its first slot is stripped", 10, 100, 2 * obsSize, []int{1, 2, 11, 4},
			[]want{{"e1", js(11), line(11)}, {"e2", js(2), "#" + line(2)}, {"e4", js(4), line(4)}}, 0},
		{"all bounds", 3, 20, 2 * obsSize, []int{1, 2, 3, 4, 5},
			[]want{{"e2", "", ""}, {"e3", "", "#" + line(3)}, {"e4", js(4), line(4)}, {"e5", js(5), line(5)}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			drops := 0
			p := newPendingRawBounded(tt.entries, tt.bytes, tt.obsBytes, func() { drops++ })
			for _, i := range tt.puts {
				p.put(fmt.Sprintf("e%d", i%10), js(i), &observedEvent{line: line(i)})
			}
			if drops != tt.wantDrop {
				t.Errorf("dropped %d raw events, want %d", drops, tt.wantDrop)
			}
			for _, w := range tt.want {
				id := []byte(w.id)
				gotLine := ""
				if strings.HasPrefix(w.line, "#") {
					if obs, marked := p.claim(id, []byte(w.line[1:])); obs == nil && marked {
						gotLine = w.line
					}
				} else if w.line != "" {
					if obs, _ := p.claim(id, []byte(w.line)); obs != nil {
						gotLine = obs.line
					}
				}
				if gotLine != w.line {
					t.Errorf("line of %s = %q, want %q", w.id, gotLine, w.line)
				}
				if got := p.take(w.id); got != w.json {
					t.Errorf("take(%s) = %q, want %q", w.id, got, w.json)
				}
			}
			if p.bytes != 0 || p.obsBytes != 0 || len(p.byID) != 0 {
				t.Errorf("after taking everything: %d + %d bytes, %d entries held, want none", p.bytes, p.obsBytes, len(p.byID))
			}
		})
	}
}
