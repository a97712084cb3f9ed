package iglu

import (
	"sync"
	"sync/atomic"
	"time"
)

// cacheEntry is the outcome of one lookup: a schema, or the failure with what each
// repository answered.
type cacheEntry struct {
	key    SchemaKey
	schema *Schema
	err    *ClientError
	// states are the per-repository failures of a failed lookup, in lookup order, so a
	// later lookup retries only the repositories that are due.
	states []repoState
	// expires is when the entry must be looked up again; zero means never.
	expires time.Time
	// fromLocal: the schema came from a local folder.
	fromLocal bool
	// used is the UnixNano time of the last use, for LRU eviction; updated without a
	// lock on every hit.
	used atomic.Int64
}

// repoState is one repository's failure for a key.
type repoState struct {
	history LookupHistory
	// retryAt is when the repository may be asked again; zero means not before the
	// entry is evicted.
	retryAt time.Time
}

func (s repoState) notFound() bool {
	for _, e := range s.history.Errors {
		if e.Kind != NotFound {
			return false
		}
	}
	return true
}

func (e *cacheEntry) fresh(now time.Time) bool {
	return e.expires.IsZero() || now.Before(e.expires)
}

func (e *cacheEntry) state(repository string) (repoState, bool) {
	for _, st := range e.states {
		if st.history.Repository == repository {
			return st, true
		}
	}
	return repoState{}, false
}

func (e *cacheEntry) allNotFound() bool {
	for _, st := range e.states {
		if !st.notFound() {
			return false
		}
	}
	return true
}

// lru is a map guarded by a read-write lock: hits take the read lock and stamp the
// entry's use time atomically; inserts (misses only) take the write lock and, when
// full, evict the least recently used entry by a scan, which costs less than the miss
// that caused it.
type lru struct {
	mu   sync.RWMutex
	m    map[SchemaKey]*cacheEntry
	size int
}

func newLRU(size int) *lru {
	return &lru{m: make(map[SchemaKey]*cacheEntry, min(size, 1024)), size: size}
}

func (c *lru) get(k SchemaKey) *cacheEntry {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	return e
}

func (c *lru) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

func (c *lru) put(e *cacheEntry, now time.Time) {
	e.used.Store(now.UnixNano())
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[e.key]; !ok && len(c.m) >= c.size {
		var victim SchemaKey
		oldest := int64(0)
		first := true
		for k, x := range c.m {
			if u := x.used.Load(); first || u < oldest {
				victim, oldest, first = k, u, false
			}
		}
		delete(c.m, victim)
	}
	c.m[e.key] = e
}
