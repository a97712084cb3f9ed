package enrichments

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"slices"
	"strings"
	"sync"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
)

type fingerprintConfig struct {
	HashAlgorithm     string   `json:"hashAlgorithm" required:"true" enum:"MD5|SHA1|SHA256|SHA384|SHA512"`
	ExcludeParameters []string `json:"excludeParameters" required:"true"`
}

// fingerprint sets event_fingerprint to a hash of the event's raw tracker parameters.
type fingerprint struct {
	in      Info
	exclude map[string]bool
	pool    sync.Pool // of *fpScratch
}

type fpScratch struct {
	h   hash.Hash
	buf []byte
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
	e := &fingerprint{in: b.info, exclude: map[string]bool{}}
	for _, p := range c.ExcludeParameters {
		e.exclude[p] = true
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
	s.idx = s.idx[:0]
	for i, p := range params {
		if !e.exclude[p.name] {
			s.idx = append(s.idx, i)
		}
	}
	// Stable, so that of a repeated name the last one comes last.
	slices.SortStableFunc(s.idx, func(a, b int) int { return strings.Compare(params[a].name, params[b].name) })
	buf := s.buf[:0]
	for j, i := range s.idx {
		p := params[i]
		if p.null || j+1 < len(s.idx) && params[s.idx[j+1]].name == p.name {
			continue
		}
		buf = append(buf, p.name...)
		buf = append(buf, 0x1f)
		buf = append(buf, p.value...)
		buf = append(buf, 0x1f)
	}
	s.buf = buf
	s.h.Reset()
	s.h.Write(buf)
	s.sum = s.h.Sum(s.sum[:0])
	st.ev.Fields[event.EventFingerprint] = hex.EncodeToString(s.sum)
}
