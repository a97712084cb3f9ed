package loaders

import (
	"bytes"
	"hash/maphash"
	"strings"
	"sync"
	"unsafe"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

// Bounds of the raw events waiting for their enriched event to be loaded, and of what
// the sink keeps of the observed events themselves (observedEvent).
const (
	maxPendingRaw           = 1 << 16
	maxPendingRawBytes      = 32 << 20
	maxPendingObservedBytes = 32 << 20
)

// pendingRaw holds the raw tracker request of each good event (what rawEventValue makes
// of it) from the moment enrich hands the event over until the sink loads it into the
// raw_event column, with what the sink made of the event itself (observedEvent). Events
// normally spend milliseconds here; the bounds only matter when the store stalls. Past
// maxBytes of raw requests the oldest go first (their events are loaded with a null
// raw_event); past maxObsBytes of observed events the oldest are replaced by the
// 16-byte mark of their TSV line (see tsvMark); past maxEntries the oldest entries go
// (their events are parsed from their records).
type pendingRaw struct {
	mu   sync.Mutex
	byID map[string]pendingEntry
	ring []string // event ids in arrival order; ring[head] is the oldest
	head int
	n    int
	// stripped and strippedObs count the oldest slots whose raw request, and whose
	// observed event, have been dropped for the byte bounds.
	stripped, strippedObs int
	bytes, obsBytes       int
	seq                   uint64 // of the newest slot; the ring's slots have consecutive numbers
	maxBytes, maxObsBytes int
	drops                 func()
	seed                  maphash.Seed // of the marks
}

type pendingEntry struct {
	json string
	obs  *observedEvent // nil once replaced by mark
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
	return newPendingRawBounded(maxPendingRaw, maxPendingRawBytes, maxPendingObservedBytes, drops)
}

func newPendingRawBounded(maxEntries, maxBytes, maxObsBytes int, drops func()) *pendingRaw {
	return &pendingRaw{byID: make(map[string]pendingEntry), ring: make([]string, maxEntries), maxBytes: maxBytes,
		maxObsBytes: maxObsBytes, drops: drops, seed: maphash.MakeSeed()}
}

// put keeps js as the raw event of eventID, and obs (nil for none) as its observed event.
func (p *pendingRaw) put(eventID, js string, obs *observedEvent) {
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
		p.obsBytes -= old.obs.size()
		old.json, old.obs = "", nil
		p.byID[eventID] = old
	}
	for p.stripped < p.n && p.bytes+len(js) > p.maxBytes {
		p.stripOldest()
	}
	for p.strippedObs < p.n && p.obsBytes+obs.size() > p.maxObsBytes {
		p.stripOldestObserved()
	}
	p.seq++
	p.byID[eventID] = pendingEntry{json: js, obs: obs, seq: p.seq}
	p.bytes += len(js)
	p.obsBytes += obs.size()
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
	p.strippedObs = max(p.strippedObs-1, 0)
	if e, ok := p.byID[id]; ok && p.isOldest(e) {
		delete(p.byID, id)
		p.dropJSON(e)
		p.obsBytes -= e.obs.size()
	}
}

// slotEntry returns the id and entry of the ring slot k places after the oldest, if
// that slot is its entry's (a later put of the same event_id has a slot of its own).
func (p *pendingRaw) slotEntry(k int) (string, pendingEntry, bool) {
	slotSeq := p.seq - uint64(p.n) + 1 + uint64(k)
	id := p.ring[(p.head+k)%len(p.ring)]
	e, ok := p.byID[id]
	return id, e, ok && e.seq == slotSeq
}

// stripOldest drops the raw request of the oldest slot not stripped yet.
func (p *pendingRaw) stripOldest() {
	id, e, ok := p.slotEntry(p.stripped)
	p.stripped++
	if ok && e.json != "" {
		p.dropJSON(e)
		e.json = ""
		p.byID[id] = e
	}
}

// stripOldestObserved replaces the observed event of the oldest slot not stripped yet
// by the mark of its line: the line is still known for enrich's, only split again.
func (p *pendingRaw) stripOldestObserved() {
	id, e, ok := p.slotEntry(p.strippedObs)
	p.strippedObs++
	if ok && e.obs != nil && !e.obs.claimed {
		p.obsBytes -= e.obs.size()
		e.mark = tsvMark{hash: maphash.String(p.seed, e.obs.line), len: len(e.obs.line)}
		e.obs = nil
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

// claim returns the observed event of eventID when line is its TSV line, for one
// caller only: a second record of the same line finds none (and is parsed, to the same
// fields). Otherwise it reports whether line has the mark of the event observed under
// eventID. Either way the raw request stays, for take.
func (p *pendingRaw) claim(eventID, line []byte) (obs *observedEvent, marked bool) {
	p.mu.Lock()
	e := p.byID[string(eventID)]
	if e.obs != nil && !e.obs.claimed && e.obs.line == string(line) {
		obs = e.obs
		p.obsBytes -= obs.size()
		obs.claimed = true // not e.obs = nil: storing the entry again would copy its key
	}
	p.mu.Unlock()
	if obs != nil {
		return obs, true
	}
	m := e.mark
	return nil, m.len > 0 && m.len == len(line) && m.hash == maphash.Bytes(p.seed, line)
}

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
	p.obsBytes -= e.obs.size()
	return e.json
}

// observedEvent is what the sink makes of a good event enrich hands over, so that
// loading its record reads nothing again: the event's TSV line (enrich's, which it
// never changes), where each field ends in it, and the wide-row columns of its JSON
// fields. It is not changed once made (but for claimed).
type observedEvent struct {
	line string
	ends [event.NumFields]uint32 // the end of each field in line
	// wide are the wide-row columns (substrings of line, or of one string of their
	// own); wideKnown is false when they are to be read from the fields.
	wide      []wideColumn
	wideKnown bool
	// claimed is set, under pendingRaw.mu, when a record was found to be this event's.
	claimed bool
}

// observe returns the observed event of ev, whose TSV line is tsv. It splits its copy
// of the line where ev's fields end, as event.SplitTSV would split it: the line has
// exactly one TAB there and none elsewhere. It returns nil when that is not so (a field
// held a TAB, CR or LF, which AppendTSV rewrote): the line is parsed from its record.
func observe(ev *event.EnrichedEvent, tsv []byte) *observedEvent {
	if bytes.Count(tsv, tabs) != event.NumFields-1 {
		return nil
	}
	// Not a copy: enrich never changes a TSV line it has handed over (enrich.Observer),
	// and the record read back from the stream is this very memory.
	obs := &observedEvent{line: unsafe.String(unsafe.SliceData(tsv), len(tsv))}
	end := 0
	for i := range ev.Fields {
		end += len(ev.Fields[i])
		if i < event.NumFields-1 && (end >= len(obs.line) || obs.line[end] != '\t') {
			return nil
		}
		obs.ends[i] = uint32(end)
		end++
	}
	if int(obs.ends[event.NumFields-1]) != len(obs.line) {
		return nil
	}
	return obs
}

var tabs = []byte{'\t'}

// holds reports whether the fields of o are those of ev as they are, none rewritten by
// AppendTSV (false for nil). A field can only be rewritten to its own length (which
// observe has checked) by turning TABs into four spaces while dropping three times as
// many CRs and LFs: a line without four spaces in a row has none, and only a line
// with them is compared field by field.
func (o *observedEvent) holds(ev *event.EnrichedEvent) bool {
	if o == nil {
		return false
	}
	if !strings.Contains(o.line, "    ") {
		return true
	}
	for i := range ev.Fields {
		if o.field(event.Field(i)) != ev.Fields[i] {
			return false
		}
	}
	return true
}

// field returns the text of field f.
func (o *observedEvent) field(f event.Field) string {
	start := uint32(0)
	if f > 0 {
		start = o.ends[f-1] + 1
	}
	return o.line[start:o.ends[f]]
}

// fields sets the fields of ev to those of the observed event.
func (o *observedEvent) fields(ev *event.EnrichedEvent) {
	start := uint32(0)
	for i, end := range o.ends {
		ev.Fields[i] = o.line[start:end]
		start = end + 1
	}
}

// size is what o holds in memory, for the bound of the pending events (0 for nil, or
// once claimed: the row it went to holds it then).
func (o *observedEvent) size() int {
	if o == nil || o.claimed {
		return 0
	}
	n := int(unsafe.Sizeof(*o)) + len(o.line) + len(o.wide)*int(unsafe.Sizeof(wideColumn{}))
	for _, w := range o.wide {
		n += len(w.value)
	}
	return n
}

// ObserveGood keeps the raw tracker request of a good event that enrich is handing to
// the enriched stream, so that the sink stores it with the event (the raw_event
// column, Snowplow Micro's rawEvent): the enriched TSV does not carry the request. It
// also keeps the event's TSV line tsv (nil: ev.AppendTSV), which enrich never changes
// once handed over (enrich.Observer), split into fields, and the wide-row columns of
// ents (nil when not known): when the sink reads that very line, it knows it for a
// good event of enrich, whose fields enrich wrote valid, and neither checks
// (event.Check), splits nor reads its JSON fields again. main wires the Sink as
// enrich's Observer. It copies what it keeps of raw, ev and ents; raw may be nil.
func (s *Sink) ObserveGood(raw *event.RawEvent, ev *event.EnrichedEvent, tsv []byte, ents *event.Entities) {
	id := ev.Fields[event.EventID]
	if id == "" {
		return
	}
	if tsv == nil {
		tsv = ev.AppendTSV(nil)
	}
	obs := observe(ev, tsv)
	if obs != nil && ents != nil {
		obs.wide, obs.wideKnown = entityColumns(&s.names, obs, ents)
	}
	js := ""
	if raw != nil {
		// Only fields the TSV holds as they are are what the row will hold.
		var row *event.EnrichedEvent
		if obs.holds(ev) {
			row = ev
		}
		var decoded []event.DecodedParam
		if ents != nil {
			decoded = ents.Decoded[:]
		}
		js = s.rawEventValue(raw, row, decoded...)
	}
	s.raws.put(id, js, obs)
}

// rawEventValue is what the store keeps in the raw_event column of a good event whose
// row will hold row's fields (nil: not known). SQLite keeps the compact form, which
// refers to the row's fields for what the request repeats of them
// (event.RawEvent.AppendCompactRow: cx, ue_px, the page URL, the user agent…; for a
// browser event, a sixth of the JSON's size), from which Events renders Micro's
// rawEvent JSON with the row's fields. PostgreSQL keeps the JSON: its TEXT column takes
// only UTF-8 text without NUL bytes.
// decoded are parameters of raw with their decoding (event.Entities.Decoded).
func (s *Sink) rawEventValue(raw *event.RawEvent, row *event.EnrichedEvent, decoded ...event.DecodedParam) string {
	if _, ok := s.store.(*sqliteStore); ok {
		return raw.CompactRowString(row, decoded...)
	}
	return string(raw.AppendMicroJSON(nil))
}
