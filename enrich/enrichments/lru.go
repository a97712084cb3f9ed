package enrichments

import (
	"container/list"
	"hash/maphash"
	"sync"
	"time"
)

// lruCache is a size-bounded, optionally time-bounded cache safe for concurrent use. It is
// split into shards so that goroutines enriching different events rarely wait on each
// other.
type lruCache[V any] struct {
	seed   maphash.Seed
	shards []lruShard[V]
	ttl    time.Duration // 0: entries do not expire
	now    func() time.Time
}

type lruShard[V any] struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[string]*list.Element
}

type lruEntry[V any] struct {
	key     string
	val     V
	expires time.Time
}

// newLRU returns a cache of about size entries in total (at least one per shard).
func newLRU[V any](size int, ttl time.Duration, now func() time.Time) *lruCache[V] {
	n := 16
	if size < 64 {
		n = 1
	}
	c := &lruCache[V]{seed: maphash.MakeSeed(), shards: make([]lruShard[V], n), ttl: ttl, now: now}
	per := max(1, (size+n-1)/n)
	for i := range c.shards {
		c.shards[i] = lruShard[V]{max: per, ll: list.New(), items: map[string]*list.Element{}}
	}
	return c
}

func (c *lruCache[V]) shard(key string) *lruShard[V] {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	return &c.shards[maphash.String(c.seed, key)%uint64(len(c.shards))]
}

// get returns the cached value of key.
func (c *lruCache[V]) get(key string) (V, bool) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	ent := el.Value.(*lruEntry[V])
	if c.ttl > 0 && c.now().After(ent.expires) {
		s.ll.Remove(el)
		delete(s.items, key)
		var zero V
		return zero, false
	}
	s.ll.MoveToFront(el)
	return ent.val, true
}

// put stores val under key, evicting the least recently used entry of a full shard.
func (c *lruCache[V]) put(key string, val V) {
	s := c.shard(key)
	var exp time.Time
	if c.ttl > 0 {
		exp = c.now().Add(c.ttl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[key]; ok {
		ent := el.Value.(*lruEntry[V])
		ent.val, ent.expires = val, exp
		s.ll.MoveToFront(el)
		return
	}
	s.items[key] = s.ll.PushFront(&lruEntry[V]{key: key, val: val, expires: exp})
	for s.ll.Len() > s.max {
		old := s.ll.Back()
		s.ll.Remove(old)
		delete(s.items, old.Value.(*lruEntry[V]).key)
	}
}
