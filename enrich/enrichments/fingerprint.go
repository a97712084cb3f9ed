package enrichments

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"slices"
	"sync"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

type fingerprintConfig struct {
	HashAlgorithm     string   `json:"hashAlgorithm" required:"true" enum:"MD5|SHA1|SHA256|SHA384|SHA512"`
	ExcludeParameters []string `json:"excludeParameters" required:"true"`
}

// fingerprint sets event_fingerprint to a hash of the event's raw tracker parameters.
type fingerprint struct {
	in       Info
	excluded func(name string) bool
	pool     sync.Pool // of *fpScratch

	// orders remembers, by the sequence of parameter names of an event, which
	// parameters are hashed and in which order: a tracker sends the same few sequences
	// (one per kind of event), and sorting them was most of the enrichment's work
	// besides hashing. At most maxFingerprintOrders sequences are kept.
	mu     sync.RWMutex
	orders map[string][]int
}

// maxFingerprintOrders bounds fingerprint.orders.
const maxFingerprintOrders = 4096

type fpScratch struct {
	h   hash.Hash
	buf []byte
	key []byte
	idx []int
	sum []byte
}

func buildFingerprint(b *builder) (enrichment, error) {
	var c fingerprintConfig
	if err := b.params(&c); err != nil {
		return nil, err
	}
	var newHash func() hash.Hash
	switch c.HashAlgorithm {
	case "MD5":
		newHash = md5.New
	case "SHA1":
		newHash = sha1.New
	case "SHA256":
		newHash = sha256.New
	case "SHA384":
		newHash = sha512.New384
	case "SHA512":
		newHash = sha512.New
	}
	e := &fingerprint{in: b.info, orders: make(map[string][]int)}
	if names := c.ExcludeParameters; len(names) <= 8 {
		// A few names (Snowplow's default is four): comparing is cheaper than hashing.
		e.excluded = func(name string) bool { return slices.Contains(names, name) }
	} else {
		set := make(map[string]bool, len(names))
		for _, n := range names {
			set[n] = true
		}
		e.excluded = func(name string) bool { return set[name] }
	}
	e.pool.New = func() any { return &fpScratch{h: newHash()} }
	return e, nil
}

func (e *fingerprint) info() Info { return e.in }

// enrich hashes "name\x1Fvalue\x1F" for every parameter with a value that is not excluded,
// in ascending name order. A repeated name counts once, with its last value (Snowplow keeps
// the parameters in a map).
func (e *fingerprint) enrich(_ context.Context, st *state) {
	s := e.pool.Get().(*fpScratch)
	defer e.pool.Put(s)
	params := st.raw.params
	// The key of the names: each name's length, then its bytes.
	key := s.key[:0]
	for i := range params {
		key = binary.AppendUvarint(key, uint64(len(params[i].Name)))
		key = append(key, params[i].Name...)
	}
	s.key = key
	e.mu.RLock()
	order, ok := e.orders[string(key)]
	e.mu.RUnlock()
	if !ok {
		order = e.order(params)
		e.mu.Lock()
		if len(e.orders) < maxFingerprintOrders {
			e.orders[string(key)] = order
		}
		e.mu.Unlock()
	}
	buf := s.buf[:0]
	for _, i := range order {
		p := &params[i]
		if p.Value == nil {
			continue
		}
		buf = append(buf, p.Name...)
		buf = append(buf, 0x1f)
		buf = append(buf, *p.Value...)
		buf = append(buf, 0x1f)
	}
	s.buf = buf
	s.h.Reset()
	s.h.Write(buf)
	s.sum = s.h.Sum(s.sum[:0])
	st.ev.Fields[event.EventFingerprint] = hex.EncodeToString(s.sum)
}

// order returns the positions of the parameters to hash, in hashing order: the names not
// excluded, sorted, each at its last position.
func (e *fingerprint) order(params []event.NVP) []int {
	var idx []int
	for i := range params {
		if !e.excluded(params[i].Name) {
			idx = append(idx, i)
		}
	}
	// Stable, so that of a repeated name the last one comes last.
	for i := 1; i < len(idx); i++ {
		x := idx[i]
		name := params[x].Name
		j := i
		for ; j > 0 && nameAfter(params[idx[j-1]].Name, name); j-- {
			idx[j] = idx[j-1]
		}
		idx[j] = x
	}
	out := idx[:0]
	for j, i := range idx {
		if j+1 < len(idx) && params[idx[j+1]].Name == params[i].Name {
			continue
		}
		out = append(out, i)
	}
	return slices.Clip(out)
}

// nameAfter reports a > b, deciding on the first bytes where it can.
func nameAfter(a, b string) bool {
	if a != "" && b != "" && a[0] != b[0] {
		return a[0] > b[0]
	}
	return a > b
}
