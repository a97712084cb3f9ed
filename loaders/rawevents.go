package loaders

import (
	"bytes"
	"hash/maphash"
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
// raw_event column, with the mark of the event's enriched TSV (see tsvMark). Events
// normally spend milliseconds here; the bounds only matter when the store stalls. Past
// maxBytes of raw requests the oldest go first (their events are loaded with a null
// raw_event), the 16-byte marks staying; past maxEntries the oldest entries go (their
// events are also parsed from their records).
type pendingRaw struct {
	mu   sync.Mutex
	byID map[string]pendingEntry
	ring []string // event ids in arrival order; ring[head] is the oldest
	head int
	n    int
	// stripped counts the oldest slots whose raw request has been dropped for the byte bound.
	stripped int
	bytes    int
	seq      uint64 // of the newest slot; the ring's slots have consecutive numbers
	maxBytes int
	drops    func()
	seed     maphash.Seed // of the marks
	lines    sync.Pool    // of *[]byte, markOf's scratch
}

type pendingEntry struct {
	json string
	mark tsvMark
	seq  uint64 // of the entry's ring slot
}

// tsvMark identifies the enriched TSV line of an observed event: its length and a
// keyed 64-bit hash (the seed is random per process, so no input can be made to
// collide on purpose). A record of the same event_id, length and hash is the line
// enrich wrote for the observed event. The zero mark matches nothing.
type tsvMark struct {
	hash uint64
	len  int
}

func newPendingRaw(drops func()) *pendingRaw {
	return newPendingRawBounded(maxPendingRaw, maxPendingRawBytes, drops)
}

func newPendingRawBounded(maxEntries, maxBytes int, drops func()) *pendingRaw {
	return &pendingRaw{byID: make(map[string]pendingEntry), ring: make([]string, maxEntries), maxBytes: maxBytes,
		drops: drops, seed: maphash.MakeSeed()}
}

// put keeps js as the raw event of eventID, and mark as its TSV's.
func (p *pendingRaw) put(eventID, js string, mark tsvMark) {
	// The ring keeps the id until 65,536 more events came: a copy of its own, as the
	// caller's may share the memory of a whole tracker request.
	eventID = strings.Clone(eventID)
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n == len(p.ring) {
		p.evictOldest()
	}
	if old, ok := p.byID[eventID]; ok {
		p.bytes -= len(old.json)
		old.json = ""
		p.byID[eventID] = old
	}
	for p.stripped < p.n && p.bytes+len(js) > p.maxBytes {
		p.stripOldest()
	}
	p.seq++
	p.byID[eventID] = pendingEntry{json: js, mark: mark, seq: p.seq}
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
	p.stripped = max(p.stripped-1, 0)
	if e, ok := p.byID[id]; ok && p.isOldest(e) {
		delete(p.byID, id)
		p.dropJSON(e)
	}
}

// stripOldest drops the raw request of the oldest slot not stripped yet, if that slot
// is its entry's (a later put of the same event_id has a slot of its own).
func (p *pendingRaw) stripOldest() {
	slotSeq := p.seq - uint64(p.n) + 1 + uint64(p.stripped)
	id := p.ring[(p.head+p.stripped)%len(p.ring)]
	p.stripped++
	if e, ok := p.byID[id]; ok && e.seq == slotSeq && e.json != "" {
		p.dropJSON(e)
		e.json = ""
		p.byID[id] = e
	}
}

// dropJSON accounts for the raw request of e being dropped.
func (p *pendingRaw) dropJSON(e pendingEntry) {
	p.bytes -= len(e.json)
	if p.drops != nil && e.json != "" {
		p.drops()
	}
}

// isOldest reports whether e was put no later than every slot still in the ring, i.e.
// the evicted slot is e's own: entries are only ever put at the tail, so an entry put
// after the evicted slot has a sequence number beyond the ring's oldest n slots.
func (p *pendingRaw) isOldest(e pendingEntry) bool { return e.seq <= p.seq-uint64(p.n) }

// observed reports whether line is the enriched TSV of the event observed under
// eventID (compared by tsvMark), without forgetting it.
func (p *pendingRaw) observed(eventID []byte, line []byte) bool {
	p.mu.Lock()
	m := p.byID[string(eventID)].mark
	p.mu.Unlock()
	return m.len > 0 && m.len == len(line) && m.hash == maphash.Bytes(p.seed, line)
}

// markOf returns the mark of ev's enriched TSV line (event.EnrichedEvent.AppendTSV).
// An event with a field AppendTSV would rewrite (a TAB, CR or LF in it) gets the zero
// mark, and is parsed from its record.
func (p *pendingRaw) markOf(ev *event.EnrichedEvent) tsvMark {
	bp, _ := p.lines.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	line := (*bp)[:0]
	for i := range ev.Fields {
		if i > 0 {
			line = append(line, '\t')
		}
		line = append(line, ev.Fields[i]...)
	}
	var m tsvMark
	if bytes.Count(line, tabs) == event.NumFields-1 && bytes.IndexByte(line, '\n') < 0 && bytes.IndexByte(line, '\r') < 0 {
		m = tsvMark{hash: maphash.Bytes(p.seed, line), len: len(line)}
	}
	*bp = line
	p.lines.Put(bp)
	return m
}

var tabs = []byte{'\t'}

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
// column, Snowplow Micro's rawEvent): the enriched TSV does not carry the request. It
// also keeps the mark of the event's TSV line: when the sink reads that very line, it
// knows it for a good event of enrich, whose fields enrich wrote valid, and does not
// check them again (event.Check: a tenth of the sink's CPU per event). main wires the
// Sink as enrich's Observer. It copies what it keeps; raw may be nil.
func (s *Sink) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent) {
	id := ev.Fields[event.EventID]
	if id == "" {
		return
	}
	mark := s.raws.markOf(ev)
	js := ""
	if raw != nil {
		// Only fields the TSV holds as they are (a mark) are what the row will hold.
		var row *event.EnrichedEvent
		if mark.len > 0 {
			row = ev
		}
		js = s.rawEventValue(raw, row)
	}
	s.raws.put(id, js, mark)
}

// rawEventValue is what the store keeps in the raw_event column of a good event whose
// row will hold row's fields (nil: not known). SQLite keeps the compact form, which
// refers to the row's fields for what the request repeats of them
// (event.RawEvent.AppendCompactRow: cx, ue_px, the page URL, the user agent…; for a
// browser event, a sixth of the JSON's size), from which Events renders Micro's
// rawEvent JSON with the row's fields. PostgreSQL keeps the JSON: its TEXT column takes
// only UTF-8 text without NUL bytes.
func (s *Sink) rawEventValue(raw *event.RawEvent, row *event.EnrichedEvent) string {
	if _, ok := s.store.(*sqliteStore); ok {
		return raw.CompactRowString(row)
	}
	return string(raw.AppendMicroJSON(nil))
}
