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
	// remote: the schema came from an HTTP repository; once expired it is still
	// served while a refresh runs in the background.
	remote bool
	// ref is set when the entry is used after it was stored, and cleared by eviction
	// scans (second-chance eviction). A hit only writes it when it is clear, so a hot
	// entry's cache line is not written on every hit.
	ref atomic.Bool
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

// lru is a map guarded by a read-write lock: hits take the read lock and mark the
// entry used; inserts (misses only) take the write lock and, when full, evict an entry
// not used since the last scan (second chance, an approximation of least recently
// used). A new entry starts unused, so one-off keys evict each other before they evict
// schemas in use. The scan costs less than the miss that caused it.
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

// touch marks e used.
func (e *cacheEntry) touch() {
	if !e.ref.Load() {
		e.ref.Store(true)
	}
}

func (c *lru) remove(k SchemaKey) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

func (c *lru) put(e *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[e.key]; !ok && len(c.m) >= c.size {
		c.evictOne()
	}
	c.m[e.key] = e
}

// evictOne removes an entry whose ref is clear, clearing the ref of the entries it
// passes; after one full pass every ref is clear, so the second pass always finds one.
func (c *lru) evictOne() {
	for range 2 {
		for k, x := range c.m {
			if !x.ref.Load() {
				delete(c.m, k)
				return
			}
			x.ref.Store(false)
		}
	}
}
