package web

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// TestGoodEventPacking checks that a stored good event gives back exactly what enrich
// handed over: every field, parameters without a value, repeated names, empty strings,
// headers, timestamps, and no raw event at all.
func TestGoodEventPacking(t *testing.T) {
	fx := loadFixtures(t)["link_click"]
	withNils := *fx.raw
	withNils.Parameters = append([]event.NVP{{Name: "flag"}, event.NewNVP("e", ""), {Name: ""}},
		fx.raw.Parameters...)
	withNils.Parameters = append(withNils.Parameters, event.NewNVP("e", "ue"), event.NVP{Name: "last"})
	withNils.Headers = append([]string{"", "X-Empty:"}, fx.raw.Headers...)
	withNils.Hostname, withNils.UserID = "", "ü-ser"
	withNils.Timestamp = time.Date(2024, 3, 1, 12, 0, 0, 123_000_000, time.UTC)
	bare := event.RawEvent{Vendor: "com.snowplowanalytics.snowplow", Version: "tp2"}
	sparse := new(event.EnrichedEvent)
	sparse.Fields[0] = "first"
	sparse.Fields[event.NumFields-1] = "last"

	cases := []struct {
		name string
		raw  *event.RawEvent
		ev   *event.EnrichedEvent
	}{
		{"fixture", fx.raw, fx.ev},
		{"nil values, empty strings, repeats", &withNils, fx.ev},
		{"bare raw event", &bare, sparse},
		{"no raw event", nil, fx.ev},
		{"empty", nil, new(event.EnrichedEvent)},
	}
	// One scratch for every case, as a list rendering reuses it.
	sc := new(renderScratch)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := newGoodEvent(tc.raw, tc.ev)
			ev, raw := g.unpack(sc)
			if diff := cmp.Diff(tc.ev, ev); diff != "" {
				t.Errorf("unpacked enriched event (-want +got):\n%s", diff)
			}
			// An empty slice and nil render the same.
			if diff := cmp.Diff(tc.raw, raw, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("unpacked raw event (-want +got):\n%s", diff)
			}
			for f := range event.Field(event.NumFields) {
				if got := g.field(f); got != tc.ev.Fields[f] {
					t.Errorf("field(%s) = %q, want %q", f.Name(), got, tc.ev.Fields[f])
				}
			}
		})
	}
}
