package streams

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
)

// hashKey is a 128-bit Kinesis hash key.
type hashKey struct{ hi, lo uint64 }

func (h hashKey) less(o hashKey) bool {
	return h.hi < o.hi || (h.hi == o.hi && h.lo < o.lo)
}

// partitionHash is the hash key Kinesis derives from a partition key: the MD5 digest of
// its UTF-8 bytes, read as a big-endian unsigned integer.
func partitionHash(partitionKey string) hashKey {
	// Copying into a stack buffer spares md5.Sum a heap copy of the string.
	var buf [4 * MaxPartitionKey]byte
	var sum [md5.Size]byte
	if len(partitionKey) <= len(buf) {
		n := copy(buf[:], partitionKey)
		sum = md5.Sum(buf[:n])
	} else {
		sum = md5.Sum([]byte(partitionKey))
	}
	return hashKey{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// shardRanges splits the hash-key space [0, 2^128) into n contiguous ranges as Kinesis
// CreateStream does: range i starts at floor(i * 2^128 / n). It returns each range's
// start and the shards' descriptions.
func shardRanges(n int) ([]hashKey, []Shard) {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	starts := make([]*big.Int, n+1)
	for i := range n + 1 {
		starts[i] = new(big.Int).Div(new(big.Int).Mul(space, big.NewInt(int64(i))), big.NewInt(int64(n)))
	}
	keys := make([]hashKey, n)
	shards := make([]Shard, n)
	mask := new(big.Int).SetUint64(^uint64(0))
	for i := range n {
		s := starts[i]
		keys[i] = hashKey{
			hi: new(big.Int).Rsh(s, 64).Uint64(),
			lo: new(big.Int).And(s, mask).Uint64(),
		}
		shards[i] = Shard{
			ID:              shardID(i),
			StartingHashKey: s.String(),
			EndingHashKey:   new(big.Int).Sub(starts[i+1], big.NewInt(1)).String(),
		}
	}
	return keys, shards
}

// shardID formats a shard ID the way Kinesis does.
func shardID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

// shardFor returns the index of the range, among starts (ascending, starts[0] == 0),
// that contains h.
func shardFor(starts []hashKey, h hashKey) int {
	lo, hi := 0, len(starts) // invariant: starts[lo] <= h, and h < starts[hi] when hi < len
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if h.less(starts[mid]) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return lo
}
