package enrich

import (
	"context"
	"hash/maphash"
	"math/bits"
	"strings"
	"sync"
	"unsafe"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// schemaLookup is implemented by resolvers that can tell which schema a key resolves to
// right now (*iglu.Resolver does). enrich remembers validation verdicts only with such a
// resolver, so that a verdict is never reused once the key resolves to another schema.
type schemaLookup interface {
	Lookup(ctx context.Context, key iglu.SchemaKey) (*iglu.Schema, error)
}

// maxVerdictKey bounds the schema URI and data text of a remembered verdict: larger
// instances are validated every time, which bounds the memory of the cache.
const maxVerdictKey = 2048

// verdicts remembers, across records, which (schema key, data text) pairs were valid
// and against which *iglu.Schema. Validation is a function of the schema document and
// the decoded instance, and the same text always decodes to the same instance, so a
// pair is known valid while its key still resolves to the very same *iglu.Schema (the
// resolver keeps the pointer while the document is unchanged, and makes a new one when a
// local schema is edited or a repository serves another document). Entities that repeat
// across records — the ua_parser_context of a user agent, browser and application
// contexts, the session context of a session — are then validated once. With a pair it
// keeps what the entity becomes (its URI and its data printed canonically), which are
// then neither printed nor allocated again.
//
// Only verdicts of valid instances validated directly against their own key (no
// $supersededBy) are kept: failures carry reports that are cheap to recompute and rare.
// A pair is kept the second time it is found valid, not the first: many never come back
// (the session context, whose event index changes with every event), and those then
// take neither an allocation nor room that pairs which do come back would use. It holds
// at most size pairs in two generations: a hit in the older one moves to the newer one,
// and when the newer one is full the older one is dropped. It is safe for concurrent
// use.
type verdicts struct {
	lookup       schemaLookup
	half         int
	hits, misses prometheus.Counter
	seed         maphash.Seed

	mu       sync.Mutex
	cur, old map[string]*verdict
	// once holds, by slot, the hash of a pair found valid once and not kept yet; a
	// pair whose slot holds its hash is kept. Another pair taking the slot makes the
	// pair wait for a third time, two pairs with one hash make the second kept at
	// once: either way only the work saved changes, never an answer.
	once []uint64
}

// verdict is a remembered valid pair. It is never changed once in the cache.
type verdict struct {
	schema *iglu.Schema
	key    string // the map key
	// uri is the key's Iglu URI (key.String()), the head of the map key.
	uri string
	// data is the pair's data as jvm.AppendCanonical prints it, the Data of the entity
	// validateEntity returns, so that a hit neither prints it again nor allocates; nil
	// when the pair was remembered as a derived context. Entities never write into their
	// Data, so every event with this pair shares these bytes.
	data []byte
}

// newVerdicts returns a cache of size pairs, or nil (no cache) when size is 0 or the
// resolver cannot look schemas up.
func newVerdicts(r Resolver, size int, hits, misses prometheus.Counter) *verdicts {
	l, ok := r.(schemaLookup)
	if !ok || size <= 0 {
		return nil
	}
	half := max(size/2, 1)
	// As many slots as pairs kept, rounded up to a power of two: a pair seen once is
	// remembered about as long as a kept one.
	slots := 1 << bits.Len(uint(size-1))
	return &verdicts{lookup: l, half: half, hits: hits, misses: misses, seed: maphash.MakeSeed(),
		cur: make(map[string]*verdict, half), once: make([]uint64, slots)}
}

// verdictKey appends the map key of (key, data) to b: the canonical schema URI, a space
// (never part of one) and the data text. It returns nil when the pair is too large to be
// remembered.
func verdictKey[T ~string | ~[]byte](b []byte, key iglu.SchemaKey, data T) []byte {
	if len(data) > maxVerdictKey {
		return nil
	}
	b = key.AppendText(b)
	b = append(b, ' ')
	return append(b, data...)
}

// valid returns the verdict of the pair k (from verdictKey) when it was found valid
// against the schema key resolves to now, nil otherwise.
func (v *verdicts) valid(ctx context.Context, key iglu.SchemaKey, k []byte) *verdict {
	if v == nil || k == nil {
		return nil
	}
	v.mu.Lock()
	vd, ok := v.cur[string(k)]
	if !ok {
		if vd, ok = v.old[string(k)]; ok {
			v.insertLocked(vd)
		}
	}
	v.mu.Unlock()
	if ok {
		if now, err := v.lookup.Lookup(ctx, key); err == nil && now == vd.schema {
			v.hits.Inc()
			return vd
		}
	}
	v.misses.Inc()
	return nil
}

// remember records that the pair k (from verdictKey) validated with val, keeping it the
// second time. canonical is the data printed by jvm.AppendCanonical (kept, and shared with
// the callers of valid), nil for a derived context.
func (v *verdicts) remember(k []byte, val iglu.Validation, canonical []byte) {
	if v == nil || k == nil || val.Schema == nil || !val.SupersededBy.IsZero() || !val.Schema.SupersededBy.IsZero() {
		return
	}
	h := maphash.Bytes(v.seed, k)
	v.mu.Lock()
	slot := &v.once[h&uint64(len(v.once)-1)]
	first := *slot != h
	*slot = h
	v.mu.Unlock()
	if first {
		return
	}
	ks := string(k)
	sp := strings.IndexByte(ks, ' ')
	vd := &verdict{schema: val.Schema, key: ks, uri: ks[:sp], data: canonical}
	if data := ks[sp+1:]; canonical != nil && string(canonical) == data {
		// Mostly the data as received: the map key already holds those bytes.
		vd.data = unsafe.Slice(unsafe.StringData(data), len(data))
	}
	v.mu.Lock()
	v.insertLocked(vd)
	v.mu.Unlock()
}

func (v *verdicts) insertLocked(vd *verdict) {
	if _, ok := v.cur[vd.key]; !ok && len(v.cur) >= v.half {
		v.old, v.cur = v.cur, make(map[string]*verdict, v.half)
	}
	v.cur[vd.key] = vd
}
