package loaders

import (
	"strings"
	"sync"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Bounds of the raw events waiting for their enriched event to be loaded.
const (
	maxPendingRaw      = 1 << 16
	maxPendingRawBytes = 32 << 20
)

// pendingRaw holds the raw tracker request of each good event (what rawEventValue makes
// of it) from the moment enrich hands the event over until the sink loads it into the
// raw_event column. Events normally spend milliseconds here; the bounds only matter
// when the store stalls, and then the oldest entries go first (their events are
// loaded with a null raw_event).
type pendingRaw struct {
	mu    sync.Mutex
	byID  map[string]pendingEntry
	ring  []string // event ids in arrival order; ring[head] is the oldest
	head  int
	n     int
	bytes int
	seq   uint64
	drops func()
}

type pendingEntry struct {
	json string
	seq  uint64
}

func newPendingRaw(drops func()) *pendingRaw {
	return &pendingRaw{byID: make(map[string]pendingEntry), ring: make([]string, maxPendingRaw), drops: drops}
}

// put keeps js as the raw event of eventID.
func (p *pendingRaw) put(eventID, js string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n == len(p.ring) || (p.n > 0 && p.bytes+len(js) > maxPendingRawBytes) {
		p.evictOldest()
	}
	if old, ok := p.byID[eventID]; ok {
		p.bytes -= len(old.json)
	}
	p.seq++
	p.byID[eventID] = pendingEntry{json: js, seq: p.seq}
	p.bytes += len(js)
	p.ring[(p.head+p.n)%len(p.ring)] = eventID
	p.n++
}

// evictOldest drops the oldest ring slot, and its entry unless a later put replaced it.
func (p *pendingRaw) evictOldest() {
	id := p.ring[p.head]
	p.ring[p.head] = ""
	p.head = (p.head + 1) % len(p.ring)
	p.n--
	if e, ok := p.byID[id]; ok && p.isOldest(e) {
		delete(p.byID, id)
		p.bytes -= len(e.json)
		if p.drops != nil {
			p.drops()
		}
	}
}

// isOldest reports whether e was put no later than every slot still in the ring, i.e.
// the evicted slot is e's own: entries are only ever put at the tail, so an entry put
// after the evicted slot has a sequence number beyond the ring's oldest n slots.
func (p *pendingRaw) isOldest(e pendingEntry) bool { return e.seq <= p.seq-uint64(p.n) }

// take returns and forgets the raw event of eventID ("" when none is held). Its ring
// slot stays until it is evicted; it then finds no entry (or a newer one) and is skipped.
func (p *pendingRaw) take(eventID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.byID[eventID]
	if !ok {
		return ""
	}
	delete(p.byID, eventID)
	p.bytes -= len(e.json)
	return e.json
}

// ObserveGood keeps the raw tracker request of a good event that enrich is handing to
// the enriched stream, so that the sink stores it with the event (the raw_event
// column, Snowplow Micro's rawEvent): the enriched TSV does not carry the request.
// main wires the Sink as enrich's Observer. It copies what it keeps; raw may be nil.
func (s *Sink) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent) {
	if raw == nil {
		return
	}
	id := ev.Fields[event.EventID]
	if id == "" {
		return
	}
	s.raws.put(strings.Clone(id), s.rawEventValue(raw))
}

// rawEventValue is what the store keeps in the raw_event column of a good event. SQLite
// keeps the compact form (event.RawEvent.AppendCompact; for a browser event, 63 % of
// the JSON's size and a seventh of its instructions to make), from which Events renders
// Micro's rawEvent JSON. PostgreSQL keeps the JSON: its TEXT column takes only UTF-8
// text without NUL bytes.
func (s *Sink) rawEventValue(raw *event.RawEvent) string {
	if _, ok := s.store.(*sqliteStore); ok {
		return raw.CompactString()
	}
	return string(raw.AppendMicroJSON(nil))
}
