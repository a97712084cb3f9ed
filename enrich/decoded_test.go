package enrich

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/enrich/internal/jvm"
	"github.com/snowplow-mini/snowplow-mini/internal/browserload"
)

// TestDecodedParamsOfBrowserEvents checks that enrich hands every browser event's cx
// (and a link click's ue_px) over with its decoding, and that the raw_event compact
// form made with them is byte for byte the one made without.
func TestDecodedParamsOfBrowserEvents(t *testing.T) {
	e := newDefaultEnricher(t)
	r := newBrowserRecords(t)
	ctx := context.Background()
	events, unstruct := 0, 0
	for n := range uint64(30) {
		res, err := e.Process(ctx, r.record(t, n))
		if err != nil || len(res.Good) != browserload.EventsPerRequest {
			t.Fatalf("Process(record %d) = %d good, %v", n, len(res.Good), err)
		}
		for _, g := range res.Good {
			events++
			cx, _ := g.Raw.Param("cx")
			if d := g.Entities.Decoded[0]; d.Value != cx || d.Bytes == "" {
				t.Fatalf("event %s: decoded cx %+v, want the cx parameter with its decoding", g.Event.Fields[event.EventID], d)
			}
			if ue, ok := g.Raw.Param("ue_px"); ok {
				unstruct++
				if d := g.Entities.Decoded[1]; d.Value != ue || d.Bytes != string(jvm.DecodeBase64(nil, ue)) {
					t.Fatalf("event %s: decoded ue_px %+v, want the ue_px parameter with its decoding", g.Event.Fields[event.EventID], d)
				}
			}
			for _, row := range []*event.EnrichedEvent{g.Event, nil} {
				if with, without := g.Raw.CompactRowString(row, g.Entities.Decoded[:]...), g.Raw.CompactRowString(row); with != without {
					t.Fatalf("event %s (row %v): compact form with the decoded parameters\n%q\nwithout\n%q", g.Event.Fields[event.EventID], row != nil, with, without)
				}
			}
		}
	}
	if unstruct == 0 {
		t.Fatalf("none of %d browser events had ue_px", events)
	}
}

// TestJSONParamDecoded checks that only a cx given exactly as base64url text is handed
// over with its decoding.
func TestJSONParamDecoded(t *testing.T) {
	const js = `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[]}`
	exact := jvm.EncodeBase64URL([]byte(js))
	for _, tt := range []struct {
		name, text string
		exact      bool
	}{
		{"exact", exact, true},
		{"padded", exact + "=", false},
		{"line break", exact[:8] + "\n" + exact[8:], false},
		{"standard alphabet", "+/" + exact[2:], false},
		{"nonzero bits after the last byte", jvm.EncodeBase64URL([]byte(js[:len(js)/3*3])) + "QR", false},
		{"not UTF-8", jvm.EncodeBase64URL([]byte("\xff\xfe" + js)), false},
	} {
		j := &jsonParam{text: tt.text, base64: true}
		got := j.json()
		if want := jvm.ValidUTF8(string(jvm.DecodeBase64(nil, tt.text))); got != want {
			t.Errorf("%s: json() = %q, want %q", tt.name, got, want)
		}
		d := j.decodedParam()
		if tt.exact != (d != event.DecodedParam{}) {
			t.Errorf("%s: decodedParam() = %+v, want it set: %v", tt.name, d, tt.exact)
		}
		if tt.exact && (d.Value != tt.text || d.Bytes != js) {
			t.Errorf("%s: decodedParam() = %+v", tt.name, d)
		}
	}
	if d := (*jsonParam)(nil).decodedParam(); d != (event.DecodedParam{}) {
		t.Errorf("decodedParam of no parameter = %+v", d)
	}
	if d := (&jsonParam{text: js}).decodedParam(); d != (event.DecodedParam{}) {
		t.Errorf("decodedParam of a co parameter = %+v", d)
	}
}

// TestProcessReusedBuffers processes browser records one after another with the same
// buffers, as a worker does, and checks each gives what it gives with fresh ones: the
// events' parameters, the Good slice and the raw events live in those buffers.
func TestProcessReusedBuffers(t *testing.T) {
	e := newDefaultEnricher(t)
	r := newBrowserRecords(t)
	ctx := context.Background()
	b := &recordBufs{}
	for n := range uint64(20) {
		rec := r.record(t, n)
		fresh, err := e.p.process(ctx, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := goodOf(fresh)
		reused, err := e.p.process(ctx, rec, b)
		if err != nil {
			t.Fatal(err)
		}
		if got := goodOf(reused); got != want {
			t.Fatalf("record %d with reused buffers:\n%s\nwith fresh ones:\n%s", n, got, want)
		}
	}
	if cap(b.nvps) == 0 || cap(b.good) == 0 {
		t.Errorf("buffers not kept for the next record: %d parameters, %d good events", cap(b.nvps), cap(b.good))
	}
}

// goodOf renders what a result's good events carry: line, parameters, entities.
func goodOf(res Result) string {
	var sb strings.Builder
	for _, g := range res.Good {
		sb.Write(g.TSV)
		for _, p := range g.Raw.Parameters {
			fmt.Fprintf(&sb, "\n  %s=%v", p.Name, *p.Value)
		}
		fmt.Fprintf(&sb, "\n  %d contexts, %d derived, %q\n", len(g.Entities.Contexts), len(g.Entities.Derived), g.Entities.Decoded)
	}
	return sb.String()
}
