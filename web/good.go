package web

import (
	"strings"
	"sync"
	"time"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// goodEvent is one stored good event, plus the metadata Micro's filters need, computed
// on first use.
//
// The event is kept packed: every string of the enriched event and of the raw event back
// to back in one string, with the end of each in ends. The copy of an event is then two
// blocks the garbage collector never scans, rather than a 2 KB struct of ~150 string
// headers that it would scan on every cycle for as long as the store keeps the event,
// and that would keep alive whatever larger buffers enrich's strings point into.
type goodEvent struct {
	text string
	// ends holds the end offset in text of event.NumFields enriched fields, then (when
	// hasRaw) of the rawStrings, of the name and value of each parameter and of each
	// header. A parameter value's end has nilValue set when the value is nil.
	ends         []uint32
	rawTimestamp time.Time
	params       int // raw parameters
	hasRaw       bool

	metaOnce sync.Once
	schema   string   // "iglu:vendor/name/format/version", "" when any part is missing
	contexts []string // schema URIs of the tracker-sent contexts
}

// rawStrings is the number of string fields of event.RawEvent (see rawFields).
const rawStrings = 10

// nilValue marks, in goodEvent.ends, a parameter without a value. Records are far
// smaller than 2 GB, so offsets never reach it.
const nilValue = 1 << 31

// rawFields returns the string fields of r in a fixed order.
func rawFields(r *event.RawEvent) [rawStrings]*string {
	return [rawStrings]*string{&r.Vendor, &r.Version, &r.ContentType, &r.LoaderName, &r.Encoding,
		&r.Hostname, &r.IPAddress, &r.UserAgent, &r.RefererURI, &r.UserID}
}

// newGoodEvent copies raw and ev, so the caller may reuse both afterwards. raw may be
// nil.
func newGoodEvent(raw *event.RawEvent, ev *event.EnrichedEvent) *goodEvent {
	g := &goodEvent{}
	size, pieces := 0, event.NumFields
	for i := range ev.Fields {
		size += len(ev.Fields[i])
	}
	if raw != nil {
		for _, f := range rawFields(raw) {
			size += len(*f)
		}
		for _, p := range raw.Parameters {
			size += len(p.Name)
			if p.Value != nil {
				size += len(*p.Value)
			}
		}
		for _, h := range raw.Headers {
			size += len(h)
		}
		pieces += rawStrings + 2*len(raw.Parameters) + len(raw.Headers)
	}
	var sb strings.Builder
	sb.Grow(size)
	ends := make([]uint32, 0, pieces)
	add := func(s string) uint32 {
		sb.WriteString(s)
		return uint32(sb.Len())
	}
	for i := range ev.Fields {
		ends = append(ends, add(ev.Fields[i]))
	}
	if raw != nil {
		for _, f := range rawFields(raw) {
			ends = append(ends, add(*f))
		}
		for _, p := range raw.Parameters {
			ends = append(ends, add(p.Name))
			if p.Value == nil {
				ends = append(ends, uint32(sb.Len())|nilValue)
			} else {
				ends = append(ends, add(*p.Value))
			}
		}
		for _, h := range raw.Headers {
			ends = append(ends, add(h))
		}
		g.rawTimestamp = raw.Timestamp
		g.params = len(raw.Parameters)
		g.hasRaw = true
	}
	g.text, g.ends = sb.String(), ends
	return g
}

// piece returns the i-th string of the event and whether it is present (false only for
// a parameter without a value).
func (g *goodEvent) piece(i int) (string, bool) {
	var start uint32
	if i > 0 {
		start = g.ends[i-1] &^ nilValue
	}
	end := g.ends[i]
	return g.text[start : end&^nilValue], end&nilValue == 0
}

// field returns the TSV text of an enriched field ("" for null).
func (g *goodEvent) field(f event.Field) string {
	s, _ := g.piece(int(f))
	return s
}

// unpack fills sc with the event and returns the enriched event and the raw event (nil
// when there is none). The strings share g's text; sc's slices are reused.
func (g *goodEvent) unpack(sc *renderScratch) (*event.EnrichedEvent, *event.RawEvent) {
	ev := &sc.ev
	for i := range ev.Fields {
		ev.Fields[i] = g.field(event.Field(i))
	}
	if !g.hasRaw {
		return ev, nil
	}
	raw := &sc.raw
	i := event.NumFields
	for _, f := range rawFields(raw) {
		*f, _ = g.piece(i)
		i++
	}
	raw.Timestamp = g.rawTimestamp
	if cap(sc.values) < g.params {
		sc.values = make([]string, 0, g.params)
	}
	sc.values = sc.values[:0]
	sc.params = sc.params[:0]
	for range g.params {
		name, _ := g.piece(i)
		value, ok := g.piece(i + 1)
		i += 2
		sc.values = append(sc.values, value)
		p := event.NVP{Name: name}
		if ok {
			// Pointing into values: it was sized for every parameter above, so it does
			// not move while they are added.
			p.Value = &sc.values[len(sc.values)-1]
		}
		sc.params = append(sc.params, p)
	}
	raw.Parameters = sc.params
	sc.headers = sc.headers[:0]
	for ; i < len(g.ends); i++ {
		h, _ := g.piece(i)
		sc.headers = append(sc.headers, h)
	}
	raw.Headers = sc.headers
	return ev, raw
}

// renderScratch is where appendJSON unpacks events; one serves a whole list.
type renderScratch struct {
	ev      event.EnrichedEvent
	raw     event.RawEvent
	params  []event.NVP
	values  []string
	headers []string
}

func (g *goodEvent) meta() (schema string, contexts []string) {
	g.metaOnce.Do(func() {
		vendor, name, format, version := g.field(event.EventVendor), g.field(event.EventName), g.field(event.EventFormat), g.field(event.EventVersion)
		if vendor != "" && name != "" && format != "" && version != "" {
			g.schema = "iglu:" + vendor + "/" + name + "/" + format + "/" + version
		}
		// A contexts column that does not parse cannot come from enrich; such an event
		// simply lists no contexts rather than failing the whole answer.
		entities, err := event.ParseContexts(g.field(event.Contexts))
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
func (g *goodEvent) eventType() string { return g.field(event.Event) }

// appendJSON appends Micro's GoodEvent object:
// {"rawEvent","eventType","schema","contexts","event","incomplete"}, unpacking the
// event into sc.
// An enriched event whose fields do not hold values of their kinds (enrich never writes
// one) is rendered with "event":null and the error is returned for counting.
func (g *goodEvent) appendJSON(dst []byte, sc *renderScratch) ([]byte, error) {
	schema, contexts := g.meta()
	ev, raw := g.unpack(sc)
	dst = append(dst, `{"rawEvent":`...)
	if raw != nil {
		dst = raw.AppendMicroJSON(dst)
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
	dst, err := ev.AppendMicroJSON(dst)
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
