package loaders

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

func TestWideColumns(t *testing.T) {
	ctx := func(ents ...string) string {
		return `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[` + strings.Join(ents, ",") + `]}`
	}
	cases := []struct {
		name                       string
		contexts, unstruct, derive string
		want                       []wideColumn
		err                        string
	}{
		{name: "none"},
		{
			name:     "contexts, derived and event",
			contexts: ctx(`{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"a"}}`, `{"data":{"n":[1,{"x":"]}"}]},"schema":"iglu:org.w3/PerformanceTiming/jsonschema/1-0-0"}`),
			derive:   ctx(`{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-1","data":{"id":"b \"q\""}}`, `{"schema":"iglu:nl.basjes/yauaa_context/jsonschema/1-0-4","data":{}}`),
			unstruct: `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button-press/jsonschema/2-1-0","data":{"label":"Buy"}}}`,
			want: []wideColumn{
				{"contexts_com_snowplowanalytics_snowplow_web_page_1", `[{"id":"a"},{"id":"b \"q\""}]`},
				{"contexts_org_w3_performance_timing_1", `[{"n":[1,{"x":"]}"}]}]`},
				{"contexts_nl_basjes_yauaa_context_1", `[{}]`},
				{"unstruct_event_com_acme_button_press_2", `{"label":"Buy"}`},
			},
		},
		{name: "spaces and other keys", contexts: ` { "schema" : "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0" , "x":null, "data" : [ { "schema" : "iglu:com.acme/URLClick/jsonschema/1-0-0" , "data" : 42 } ] } `,
			want: []wideColumn{{"contexts_com_acme_urlclick_1", `[42]`}}},
		{name: "escaped schema", contexts: ctx(`{"schema":"iglu:com.acme\/x\u005fy/jsonschema/3-0-0","data":true}`),
			want: []wideColumn{{"contexts_com_acme_x_y_3", `[true]`}}},
		{name: "empty contexts", contexts: ctx()},
		{name: "data not an array", contexts: `{"schema":"iglu:a/b/jsonschema/1-0-0","data":{}}`, err: "contexts: not a self-describing JSON: the data of contexts is not an array"},
		{name: "not iglu", derive: ctx(`{"schema":"http://x","data":{}}`), err: `derived_contexts: not a self-describing JSON: schema "http://x" is not an Iglu URI`},
		{name: "no data", unstruct: `{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"schema":"iglu:a/c/jsonschema/1-0-0"}}`, err: "unstruct_event: event: not a self-describing JSON: schema and data are required"},
		{name: "truncated", contexts: `{"schema":"iglu:a/b/jsonschema/1-0-0","data":[{"schema":"iglu:a/c/jsonschema/1-0-0","data":{"a":"`, err: "contexts: entity: not a self-describing JSON: unexpected JSON structure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := wideColumns(nil, tc.contexts, tc.unstruct, tc.derive)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("wideColumns error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("wideColumns: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(wideColumn{})); diff != "" {
				t.Errorf("wideColumns (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzWideColumns checks the scanner against enrich/event's parser: for every contexts
// or unstruct_event text that event accepts, the wide-row columns hold exactly the
// entities' data, under the names the Analytics-SDK JSON uses; on any input the scanner
// returns without panicking.
func FuzzWideColumns(f *testing.F) {
	ev := testEvent(1, "fuzz")
	f.Add(ev.Fields[event.Contexts], ev.Fields[event.UnstructEvent])
	f.Add(testEvent(2, "fuzz").Fields[event.Contexts], "")
	f.Add(ev.Fields[event.DerivedContexts], `{"schema":"iglu:a/b/c/1-0-0","data":{"schema":"iglu:a.b/C-d/jsonschema/10-0-0","data":"\"}"}}`)
	f.Add(`{"schema":"iglu:a/b/c/1-0-0","data":[{"schema":"iglu:x/y/jsonschema/1-0-0","data":[1e5,-0.5,"\\\\"]}]}`, "")
	f.Add(`{"data":[],"schema":"iglu:a/b/c/1-0-0"}`, `{`)
	f.Fuzz(func(t *testing.T, contexts, unstruct string) {
		var names columnNames
		cols, err := wideColumns(&names, contexts, unstruct, "")
		ents, cerr := event.ParseContexts(contexts)
		ue, ok, uerr := event.ParseUnstruct(unstruct)
		if cerr != nil || uerr != nil {
			return // event rejects it: ParseTSV would have too
		}
		if err != nil {
			t.Fatalf("wideColumns(%q, %q) = %v, but enrich/event accepts them", contexts, unstruct, err)
		}
		want := make(map[string][]any)
		var order []string
		add := func(name string, data []byte, single bool) {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				t.Fatalf("entity data %q: %v", data, err)
			}
			if _, seen := want[name]; !seen {
				order = append(order, name)
			}
			if single {
				want[name] = []any{v}
				return
			}
			want[name] = append(want[name], v)
		}
		for _, e := range ents {
			add(sdkKey(t, "contexts", e.Schema), e.Data, false)
		}
		if ok {
			add(sdkKey(t, "unstruct_event", ue.Schema), ue.Data, true)
		}
		var gotOrder []string
		got := make(map[string][]any)
		for _, c := range cols {
			gotOrder = append(gotOrder, c.name)
			var v any
			if err := json.Unmarshal([]byte(c.value), &v); err != nil {
				t.Fatalf("column %s = %q: %v", c.name, c.value, err)
			}
			if arr, isArr := v.([]any); isArr && strings.HasPrefix(c.name, "contexts_") {
				got[c.name] = arr
			} else {
				got[c.name] = []any{v}
			}
		}
		if diff := cmp.Diff(order, gotOrder); diff != "" {
			t.Fatalf("columns of (%q, %q) (-want +got):\n%s", contexts, unstruct, diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("values of (%q, %q) (-want +got):\n%s", contexts, unstruct, diff)
		}
	})
}

// sdkKey returns the key of the Analytics-SDK JSON for an entity of schema, taken from
// enrich/event's own JSON of an event carrying it.
func sdkKey(t *testing.T, prefix, schema string) string {
	t.Helper()
	var e event.EnrichedEvent
	e.Fields[event.CollectorTstamp] = "2024-03-01 12:00:00.000"
	sd := []event.SelfDescribing{{Schema: schema, Data: []byte("null")}}
	if prefix == "contexts" {
		e.Fields[event.Contexts] = event.MarshalContexts(sd)
	} else {
		e.Fields[event.UnstructEvent] = event.MarshalUnstruct(sd[0])
	}
	js, err := e.AppendJSON(nil)
	if err != nil {
		t.Fatalf("AppendJSON with schema %q: %v", schema, err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		if strings.HasPrefix(k, prefix+"_") {
			return k
		}
	}
	t.Fatalf("no %s_ key in %s", prefix, js)
	return ""
}
