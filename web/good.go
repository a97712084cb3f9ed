package web

import (
	"sync"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// goodEvent is one stored good event: copies of what enrich handed over, plus the
// metadata Micro's filters need, computed on first use.
type goodEvent struct {
	raw    event.RawEvent
	hasRaw bool
	ev     event.EnrichedEvent

	metaOnce sync.Once
	schema   string   // "iglu:vendor/name/format/version", "" when any part is missing
	contexts []string // schema URIs of the tracker-sent contexts
}

// newGoodEvent copies raw and ev: the structs and their slices, not the (immutable)
// strings, so the caller may reuse both afterwards. raw may be nil.
func newGoodEvent(raw *event.RawEvent, ev *event.EnrichedEvent) *goodEvent {
	g := &goodEvent{ev: *ev}
	if raw != nil {
		g.raw = *raw
		g.raw.Parameters = append([]event.NVP(nil), raw.Parameters...)
		g.raw.Headers = append([]string(nil), raw.Headers...)
		g.hasRaw = true
	}
	return g
}

func (g *goodEvent) meta() (schema string, contexts []string) {
	g.metaOnce.Do(func() {
		f := &g.ev.Fields
		if f[event.EventVendor] != "" && f[event.EventName] != "" && f[event.EventFormat] != "" && f[event.EventVersion] != "" {
			g.schema = "iglu:" + f[event.EventVendor] + "/" + f[event.EventName] + "/" + f[event.EventFormat] + "/" + f[event.EventVersion]
		}
		// A contexts column that does not parse cannot come from enrich; such an event
		// simply lists no contexts rather than failing the whole answer.
		entities, err := event.ParseContexts(f[event.Contexts])
		if err == nil {
			g.contexts = make([]string, len(entities))
			for i, e := range entities {
				g.contexts[i] = e.Schema
			}
		}
	})
	return g.schema, g.contexts
}

// eventType is Micro's eventType: the enriched event field ("" for null).
func (g *goodEvent) eventType() string { return g.ev.Fields[event.Event] }

// appendJSON appends Micro's GoodEvent object:
// {"rawEvent","eventType","schema","contexts","event","incomplete"}.
// An enriched event whose fields do not hold values of their kinds (enrich never writes
// one) is rendered with "event":null and the error is returned for counting.
func (g *goodEvent) appendJSON(dst []byte) ([]byte, error) {
	schema, contexts := g.meta()
	dst = append(dst, `{"rawEvent":`...)
	if g.hasRaw {
		dst = g.raw.AppendMicroJSON(dst)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"eventType":`...)
	dst = appendNullable(dst, g.eventType())
	dst = append(dst, `,"schema":`...)
	dst = appendNullable(dst, schema)
	dst = append(dst, `,"contexts":`...)
	dst = event.AppendStrings(dst, contexts)
	dst = append(dst, `,"event":`...)
	mark := len(dst)
	dst, err := g.ev.AppendMicroJSON(dst)
	if err != nil {
		dst = append(dst[:mark], "null"...)
	}
	dst = append(dst, `,"incomplete":false}`...)
	return dst, err
}

func appendNullable(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return event.AppendJSONString(dst, s)
}

// goodFilter is the body of POST /micro/good (Micro's FiltersGood) plus app_id. A nil
// field does not filter.
type goodFilter struct {
	EventType *string  `json:"event_type"`
	Schema    *string  `json:"schema"`
	Contexts  []string `json:"contexts"`
	Limit     *int     `json:"limit"`
	AppID     *string  `json:"app_id"`
}

// match reports whether e is a good event that passes every filter (ANDed, exact string
// equality, as Micro compares them).
func (f *goodFilter) match(e *entry) bool {
	g := e.good
	if g == nil {
		return false
	}
	if f.AppID != nil && e.appID != *f.AppID {
		return false
	}
	if f.EventType != nil && (g.eventType() == "" || g.eventType() != *f.EventType) {
		return false
	}
	if f.Schema == nil && len(f.Contexts) == 0 {
		return true
	}
	schema, contexts := g.meta()
	if f.Schema != nil && (schema == "" || schema != *f.Schema) {
		return false
	}
	for _, want := range f.Contexts {
		found := false
		for _, c := range contexts {
			if c == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
