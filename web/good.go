package web

import (
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// appendGoodEvent appends Micro's GoodEvent object for a stored event:
// {"rawEvent","eventType","schema","contexts","event","incomplete"}. An enriched event
// whose fields do not hold values of their kinds (enrich never writes one) is rendered
// with "event":null and the error is returned for counting.
func appendGoodEvent(dst []byte, se *StoredEvent) ([]byte, error) {
	ev := se.Event
	dst = append(dst, `{"rawEvent":`...)
	if len(se.RawEvent) > 0 {
		dst = append(dst, se.RawEvent...)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"eventType":`...)
	dst = appendNullable(dst, ev.Fields[event.Event])
	dst = append(dst, `,"schema":`...)
	dst = appendNullable(dst, eventSchema(ev))
	dst = append(dst, `,"contexts":`...)
	dst = event.AppendStrings(dst, contextSchemas(ev))
	dst = append(dst, `,"event":`...)
	mark := len(dst)
	dst, err := ev.AppendMicroJSON(dst)
	if err != nil {
		dst = append(dst[:mark], "null"...)
	}
	dst = append(dst, `,"incomplete":false}`...)
	return dst, err
}

// eventSchema is Micro's schema of an event: "iglu:vendor/name/format/version", "" when a
// part is missing.
func eventSchema(ev *event.EnrichedEvent) string {
	vendor, name, format, version := ev.Fields[event.EventVendor], ev.Fields[event.EventName], ev.Fields[event.EventFormat], ev.Fields[event.EventVersion]
	if vendor == "" || name == "" || format == "" || version == "" {
		return ""
	}
	return "iglu:" + vendor + "/" + name + "/" + format + "/" + version
}

// contextSchemas returns the schema URIs of the contexts the tracker sent. A contexts
// column that does not parse cannot come from enrich; such an event lists none.
func contextSchemas(ev *event.EnrichedEvent) []string {
	entities, err := event.ParseContexts(ev.Fields[event.Contexts])
	if err != nil {
		return []string{}
	}
	out := make([]string, len(entities))
	for i, e := range entities {
		out[i] = e.Schema
	}
	return out
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

// query returns the store query of the filters the store can apply (app_id,
// event_type, schema) and whether no event can match (a schema that is not an Iglu
// URI). contexts are checked by matchContexts.
func (f *goodFilter) query() (q EventQuery, none bool) {
	if f.AppID != nil {
		if *f.AppID == "" {
			// The store reads "" as no filter; an app_id of "" is one no event has
			// (enrich leaves app_id null rather than empty).
			return q, true
		}
		q.AppID = *f.AppID
	}
	if f.EventType != nil {
		if *f.EventType == "" {
			return q, true
		}
		q.Equal = append(q.Equal, ColumnValue{"event", *f.EventType})
	}
	if f.Schema != nil {
		rest, ok := strings.CutPrefix(*f.Schema, "iglu:")
		parts := strings.Split(rest, "/")
		if !ok || len(parts) != 4 || slicesHasEmpty(parts) {
			return q, true
		}
		for i, col := range []string{"event_vendor", "event_name", "event_format", "event_version"} {
			q.Equal = append(q.Equal, ColumnValue{col, parts[i]})
		}
	}
	return q, false
}

func slicesHasEmpty(ss []string) bool {
	for _, s := range ss {
		if s == "" {
			return true
		}
	}
	return false
}

// matchContexts reports whether ev carries every context of the filter.
func (f *goodFilter) matchContexts(ev *event.EnrichedEvent) bool {
	if len(f.Contexts) == 0 {
		return true
	}
	have := contextSchemas(ev)
	for _, want := range f.Contexts {
		found := false
		for _, c := range have {
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
