package streams

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

func bigKey(h hashKey) *big.Int {
	n := new(big.Int).SetUint64(h.hi)
	n.Lsh(n, 64)
	return n.Or(n, new(big.Int).SetUint64(h.lo))
}

func TestPartitionHash(t *testing.T) {
	for _, key := range []string{"a", "b", "é", "c6ef3124-b53a-4b13-a233-0088f79dcbcb", strings.Repeat("日", MaxPartitionKey), strings.Repeat("x", 2000)} {
		sum := md5.Sum([]byte(key))
		want := new(big.Int).SetBytes(sum[:])
		if got := bigKey(partitionHash(key)); got.Cmp(want) != 0 {
			t.Errorf("partitionHash(%.20q) = %s, want %s", key, got, want)
		}
	}
}

func TestShardForBoundaries(t *testing.T) {
	one := big.NewInt(1)
	for _, n := range []int{1, 2, 3, 5, 16, 1024} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			starts, shards := shardRanges(n)
			for i, s := range shards {
				start, _ := new(big.Int).SetString(s.StartingHashKey, 10)
				end, _ := new(big.Int).SetString(s.EndingHashKey, 10)
				if bigKey(starts[i]).Cmp(start) != 0 {
					t.Fatalf("shard %d: start key %s, description says %s", i, bigKey(starts[i]), start)
				}
				for _, k := range []*big.Int{start, end, new(big.Int).Rsh(new(big.Int).Add(start, end), 1)} {
					h := hashKey{
						hi: new(big.Int).Rsh(k, 64).Uint64(),
						lo: new(big.Int).And(k, new(big.Int).Sub(new(big.Int).Lsh(one, 64), one)).Uint64(),
					}
					if got := shardFor(starts, h); got != i {
						t.Errorf("shardFor(%s) = %d, want %d", k, got, i)
					}
				}
			}
		})
	}
}

func BenchmarkPartitionHash(b *testing.B) {
	key := "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
	starts, _ := shardRanges(4)
	for b.Loop() {
		shardFor(starts, partitionHash(key))
	}
}
