package web

import (
	"sync"
)

// chunkSize is how many entries one chunk of the store holds. Readers copy one pointer
// per chunk to take a snapshot, so a snapshot of 100,000 events copies ~100 pointers.
const chunkSize = 1024

// entry is one stored event: exactly one of good and bad is set. Entries are immutable
// once added (lazily computed metadata inside good is guarded by its own sync.Once).
type entry struct {
	appID string
	good  *goodEvent
	bad   *badEvent
	size  int64 // bytes retained by this entry, about (see entryOverhead)
}

// newEntry returns the entry of one good or bad event with its retained size.
func newEntry(appID string, g *goodEvent, b *badEvent) *entry {
	e := &entry{appID: appID, good: g, bad: b, size: entryOverhead + int64(len(appID))}
	if g != nil {
		e.size += int64(len(g.text) + 4*len(g.ends))
	} else {
		e.size += int64(len(b.json))
	}
	return e
}

type chunk struct {
	entries [chunkSize]*entry
}

// store is the bounded, newest-first event log behind /micro/*. Writers (ObserveGood,
// the bad-stream reader) hold the lock for O(1) work; readers hold it only to copy the
// chunk pointers, then read entries without it, so a slow HTTP client never holds up
// the pipeline. Entry positions only grow; the entries at positions [first, next) are
// live, and position p lives in chunks[(p-off)/chunkSize].
type store struct {
	max      int   // events
	maxBytes int64 // bytes retained by the live entries

	mu     sync.Mutex
	chunks []*chunk
	off    uint64 // position of chunks[0].entries[0]
	first  uint64 // oldest live position
	next   uint64 // position of the next entry
	good   int    // live good events
	bad    int    // live bad events
	bytes  int64  // bytes retained by the live entries
	// epoch changes whenever entries are removed other than by eviction (a reset), so
	// that a waiter that scanned up to some position knows to scan again from the start.
	epoch uint64
	// changed is closed and replaced when an entry is added or a reset happens, if
	// someone took it (notifyTaken); so an add costs no allocation when nobody waits.
	changed     chan struct{}
	notifyTaken bool

	onEvict func(good bool) // called under mu for each evicted entry
}

// newStore returns a store that keeps at most max events and maxBytes bytes (0: no byte
// bound).
func newStore(max int, maxBytes int64, onEvict func(good bool)) *store {
	if onEvict == nil {
		onEvict = func(bool) {}
	}
	return &store{max: max, maxBytes: maxBytes, changed: make(chan struct{}), onEvict: onEvict}
}

// add appends e as the newest entry, evicting the oldest ones while the store holds
// more than max events or maxBytes bytes. The newest entry itself is always kept: the
// per-event cap keeps it smaller than maxBytes.
func (s *store) add(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	idx := s.next - s.off
	if idx/chunkSize >= uint64(len(s.chunks)) {
		s.chunks = append(s.chunks, new(chunk))
	}
	s.chunks[idx/chunkSize].entries[idx%chunkSize] = e
	s.next++
	if e.good != nil {
		s.good++
	} else {
		s.bad++
	}
	s.bytes += e.size
	for s.next-s.first > uint64(s.max) || (s.maxBytes > 0 && s.bytes > s.maxBytes && s.next-s.first > 1) {
		s.evictOldest()
	}
	s.notifyLocked()
}

// evictOldest drops the entry at s.first. The slot is not cleared: a reader's snapshot
// may still read it; the chunk is released once all of it is evicted.
func (s *store) evictOldest() {
	idx := s.first - s.off
	e := s.chunks[idx/chunkSize].entries[idx%chunkSize]
	if e.good != nil {
		s.good--
	} else {
		s.bad--
	}
	s.bytes -= e.size
	s.onEvict(e.good != nil)
	s.first++
	if s.first-s.off >= chunkSize {
		// Readers copy the chunk slice, so clearing the old element is safe.
		s.chunks[0] = nil
		s.chunks = s.chunks[1:]
		s.off += chunkSize
	}
}

func (s *store) notifyLocked() {
	if s.notifyTaken {
		close(s.changed)
		s.changed = make(chan struct{})
		s.notifyTaken = false
	}
}

// retained returns the bytes retained by the live events.
func (s *store) retained() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// counts returns the number of live good and bad events.
func (s *store) counts() (good, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.good, s.bad
}

// view is a consistent snapshot of the store: the live entries at the time it was
// taken, readable without the lock.
type view struct {
	chunks []*chunk
	off    uint64
	first  uint64
	next   uint64
	epoch  uint64
	good   int
	bad    int
}

// snapshot returns a view of the live entries. When notify is true it also returns a
// channel closed at the next change of the store.
func (s *store) snapshot(notify bool) (view, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := view{
		chunks: append([]*chunk(nil), s.chunks...),
		off:    s.off,
		first:  s.first,
		next:   s.next,
		epoch:  s.epoch,
		good:   s.good,
		bad:    s.bad,
	}
	var ch <-chan struct{}
	if notify {
		s.notifyTaken = true
		ch = s.changed
	}
	return v, ch
}

func (v *view) at(p uint64) *entry {
	idx := p - v.off
	return v.chunks[idx/chunkSize].entries[idx%chunkSize]
}

// newest calls fn on the entries at positions [from, v.next), newest first, until fn
// returns false. from is clamped to the oldest live entry.
func (v *view) newest(from uint64, fn func(*entry) bool) {
	from = max(from, v.first)
	for p := v.next; p > from; p-- {
		if !fn(v.at(p - 1)) {
			return
		}
	}
}

// reset removes the entries for which match returns true (all entries when match is
// nil) and returns how many good and bad events it removed.
func (s *store) reset(match func(*entry) bool) (good, bad int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
	defer s.notifyLocked()
	if match == nil {
		good, bad = s.good, s.bad
		s.chunks = nil
		s.first, s.next, s.off = 0, 0, 0
		s.good, s.bad, s.bytes = 0, 0, 0
		return good, bad
	}
	// Rebuild the kept entries into fresh chunks: snapshots taken before keep reading
	// the old ones undisturbed. This is O(live entries) under the lock, which a reset
	// (rare, and bounded by MaxEvents) can afford.
	v := view{chunks: s.chunks, off: s.off, first: s.first, next: s.next}
	var chunks []*chunk
	var n uint64
	for p := v.first; p < v.next; p++ {
		e := v.at(p)
		if match(e) {
			if e.good != nil {
				good++
			} else {
				bad++
			}
			s.bytes -= e.size
			continue
		}
		if n%chunkSize == 0 {
			chunks = append(chunks, new(chunk))
		}
		chunks[n/chunkSize].entries[n%chunkSize] = e
		n++
	}
	s.chunks = chunks
	s.off, s.first, s.next = 0, 0, n
	s.good -= good
	s.bad -= bad
	return good, bad
}
