// Package streams is the transport between pipeline stages: Kinesis-like streams of
// opaque byte records (Thrift on raw, enriched TSV on enriched, self-describing JSON bad
// rows on bad-1 and bad-2).
//
// The Stream interface maps one-to-one onto Kinesis calls (PutRecords, ListShards,
// GetShardIterator+GetRecords) and a Checkpointer records how far a consumer group has
// read, so the same stages run in one process over this package's in-memory stream
// (NewMemory, or NewDurable with a log on disk) and as separate processes over real
// Kinesis (streams/kinesis, with DynamoDB leases and checkpoints). Consume gives
// at-least-once delivery on top of any implementation;
// MultiCheckpointer lets a sink keep its checkpoint with its output. Sequence numbers
// are decimal strings of any length: compare them with CompareSequenceNumbers. The
// streamtest package holds the contract every implementation passes.
//
// Every stage (collector, enrich, loaders, web) may import this package; it imports no
// stage.
package streams

import (
	"context"
	"time"
)

// Names of the four streams of the pipeline, as in Snowplow's AWS quick start.
const (
	Raw      = "raw"      // collector -> enrich: Thrift CollectorPayload records
	Enriched = "enriched" // enrich -> loaders: 131-field enriched TSV
	Bad1     = "bad-1"    // collector, enrich -> loaders: bad-row JSON
	Bad2     = "bad-2"    // loaders -> loaders (bad table / files): loader bad-row JSON
)

// KinesisName is the Kinesis stream name of a pipeline stream under a prefix, as
// Snowplow's AWS quick start names it: KinesisName("sp", Raw) is "sp-raw-stream". The
// per-stage processes and the rendered Terraform both use it, so they meet.
func KinesisName(prefix, name string) string { return prefix + "-" + name + "-stream" }

// Limits that Kinesis enforces on PutRecords and that every implementation enforces too,
// so that a pipeline tested in memory behaves the same on AWS.
const (
	MaxRecordsPerPut = 500
	MaxBytesPerPut   = 5 << 20   // 5 MiB: sum of data and partition keys in one Put
	MaxRecordBytes   = 1_000_000 // data + partition key of one record (1 MB)
	MaxPartitionKey  = 256       // Unicode characters

	MaxRecordsPerRead = 10_000   // limit of one Read, as GetRecords
	MaxBytesPerRead   = 10 << 20 // 10 MiB: a Read returns no more data (but at least one record)
)

// NextPut returns how many of the next n records fit in one Put: at most
// MaxRecordsPerPut, and no more than MaxBytesPerPut bytes where size(i) is the size of
// record i (data plus partition key), but always one when n > 0, so that a record within
// MaxRecordBytes always goes. Writers split a batch with it:
//
//	for len(entries) > 0 {
//		n := streams.NextPut(len(entries), func(i int) int { return len(entries[i].Data) + len(entries[i].PartitionKey) })
//		// Put entries[:n]
//		entries = entries[n:]
//	}
func NextPut(n int, size func(i int) int) int {
	count, bytes := 0, 0
	for count < n && count < MaxRecordsPerPut {
		sz := size(count)
		if count > 0 && bytes+sz > MaxBytesPerPut {
			break
		}
		bytes += sz
		count++
	}
	return count
}

// Entry is one record to put on a stream.
type Entry struct {
	// PartitionKey is hashed with MD5 to a 128-bit key that selects the shard whose
	// hash-key range contains it. It must be 1..256 characters.
	PartitionKey string
	Data         []byte
	// Immutable promises that Data is never changed after Put, so that a stream in
	// this process may keep Data itself rather than a copy (Memory does; a stream
	// that sends its records elsewhere has nothing to keep).
	Immutable bool
}

// PutResult tells where a put record landed.
type PutResult struct {
	ShardID        string
	SequenceNumber string
}

// Record is a record read back from a shard. Its Data may be shared with other
// readers (and with the writer of an Immutable entry): readers must not change it.
type Record struct {
	PartitionKey string
	Data         []byte
	// SequenceNumber is a decimal string; within a shard, later records have larger
	// numbers (compare with CompareSequenceNumbers, not as strings).
	SequenceNumber string
	ShardID        string
	// ArrivalTime is when the stream accepted the record.
	ArrivalTime time.Time
}

// Shard describes one shard and the inclusive range of 128-bit hash keys (decimal
// strings, as Kinesis prints them) it owns.
type Shard struct {
	ID              string
	StartingHashKey string
	EndingHashKey   string

	// ParentShardIDs name the shards this one was split or merged from (Kinesis
	// resharding; none on a stream that was never resharded). A consumer reads a
	// shard only once its parents are read to their end, which keeps each
	// partition key's records in order.
	ParentShardIDs []string
	// Closed reports that the shard takes no more records (a resharded parent): a
	// read reaches its end, signalled by a Position of type AtShardEnd.
	Closed bool
}

// PositionType says where a read starts, as a Kinesis ShardIteratorType.
type PositionType int

const (
	TrimHorizon         PositionType = iota // oldest record still retained
	Latest                                  // only records put after the read starts
	AtSequenceNumber                        // the record with SequenceNumber, then later ones
	AfterSequenceNumber                     // records after SequenceNumber
	// AtShardEnd is returned, never passed: a closed shard has been read to its end
	// and has nothing more.
	AtShardEnd
)

// Position is where a read starts within a shard.
type Position struct {
	Type           PositionType
	SequenceNumber string // for AtSequenceNumber and AfterSequenceNumber

	// Iterator is an implementation's continuation token (a Kinesis shard iterator)
	// returned by Read so that the next Read need not look the position up again.
	// When it has expired (Kinesis iterators live 5 minutes) the implementation falls
	// back to Type and SequenceNumber; those describe the same position except after
	// an empty read from Latest, where the fallback is Latest again. Callers copy it
	// along and never make one up.
	Iterator string
}

// Stream is a Kinesis-like stream. Implementations are safe for concurrent use.
type Stream interface {
	// Name returns the stream name (one of the constants above in serve).
	Name() string

	// Put appends a batch of at most MaxRecordsPerPut entries and MaxBytesPerPut bytes,
	// each at most MaxRecordBytes. It returns one result per entry, in order. Records
	// with the same partition key keep their order. A batch over the limits fails whole
	// with ErrInvalidArgument and writes nothing. An empty batch writes nothing and
	// succeeds. Put does not keep entries' Data, unless they are Immutable: the caller
	// may reuse it afterwards.
	//
	// When the stream is at its retention bound and unread records may not be dropped,
	// Put waits for consumers to make room until ctx is done or an implementation's own
	// bound passes (MemoryConfig.PutWait), then returns an error matching ErrFull (and
	// ctx's error when that ended the wait), having written nothing. Records are never
	// dropped silently.
	Put(ctx context.Context, entries []Entry) ([]PutResult, error)

	// Shards lists the shards, ordered by starting hash key.
	Shards(ctx context.Context) ([]Shard, error)

	// Read returns up to limit (1..MaxRecordsPerRead) records of one shard starting at
	// from, in sequence order, and the position to continue from. It waits until at
	// least one record is available or ctx is done or wait has passed (wait 0 returns at
	// once, as Kinesis GetRecords does); an empty result is not an error, and an empty
	// result with wait 0 means the reader has caught up with the shard. When ctx is done
	// before a record is available, Read returns an error matching ctx's error.
	//
	// A sequence number older than retention is read from the oldest retained record (as
	// TRIM_HORIZON). The position returned after an empty read from Latest is pinned, so
	// that records put between two reads are not missed. Unknown shard: ErrShardNotFound;
	// bad limit or sequence number: ErrInvalidArgument.
	//
	// Records' Data may be shared with other readers: callers must not modify it.
	Read(ctx context.Context, shardID string, from Position, limit int, wait time.Duration) ([]Record, Position, error)
}

// Checkpointer stores, per consumer group and shard, the sequence number of the last
// record the group has processed. Implementations are safe for concurrent use.
type Checkpointer interface {
	// Checkpoint records that group has processed shardID up to and including seq.
	// Checkpoints only move forward: an older seq is ignored. An unknown shard is
	// ErrShardNotFound; a seq that is not a decimal number, ErrInvalidArgument.
	Checkpoint(ctx context.Context, group, shardID, seq string) error
	// Checkpoints returns the stored sequence number per shard for group (shards with
	// no checkpoint are absent).
	Checkpoints(ctx context.Context, group string) (map[string]string, error)
}
