package streams

import (
	"strconv"
	"strings"
)

// SourceKey is the partition key a stage gives the i-th record it writes for the input
// record at (shardID, seq), when its consumer must recognise records written again
// after a crash (the durable pipeline: enrich replays the raw records it had not
// checkpointed, and writes the same outputs under the same keys). Within one output
// shard, the keys of one input shard grow in input order (CompareSourceKeys).
func SourceKey(shardID, seq string, i int) string {
	return shardID + "/" + seq + "/" + strconv.Itoa(i)
}

// SourcePosition is a parsed SourceKey.
type SourcePosition struct {
	ShardID string // the input record's shard
	Seq     string // its sequence number
	Index   int    // which of its outputs
}

// ParseSourceKey reads a partition key written by SourceKey.
func ParseSourceKey(key string) (SourcePosition, bool) {
	shard, rest, ok := strings.Cut(key, "/")
	if !ok || shard == "" {
		return SourcePosition{}, false
	}
	seq, idx, ok := strings.Cut(rest, "/")
	if !ok || !isDecimal(seq) || !isDecimal(idx) || len(idx) > 9 {
		return SourcePosition{}, false
	}
	i, _ := strconv.Atoi(idx)
	return SourcePosition{ShardID: shard, Seq: seq, Index: i}, true
}

// Compare orders positions of the same input shard: by sequence number, then index.
func (p SourcePosition) Compare(q SourcePosition) int {
	if c := CompareSequenceNumbers(p.Seq, q.Seq); c != 0 {
		return c
	}
	switch {
	case p.Index < q.Index:
		return -1
	case p.Index > q.Index:
		return 1
	}
	return 0
}

// String is the position as stored: seq.index.
func (p SourcePosition) String() string { return p.Seq + "." + strconv.Itoa(p.Index) }

// ParseSourcePosition reads what String wrote, for shardID.
func ParseSourcePosition(shardID, s string) (SourcePosition, bool) {
	seq, idx, ok := strings.Cut(s, ".")
	if !ok || !isDecimal(seq) || !isDecimal(idx) || len(idx) > 9 {
		return SourcePosition{}, false
	}
	i, _ := strconv.Atoi(idx)
	return SourcePosition{ShardID: shardID, Seq: seq, Index: i}, true
}
