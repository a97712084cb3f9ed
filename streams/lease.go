package streams

import (
	"context"
)

// ShardEnd is the checkpoint of a shard read to its end (a closed shard, see
// Shard.Closed), as Kinesis Client Library lease tables spell it. Consume writes it
// through Checkpointer.Checkpoint once every record of a closed shard is handled; a
// Checkpointer that cannot hold it (Memory, whose shards never close) never sees it.
const ShardEnd = "SHARD_END"

// Leaser is implemented by a Checkpointer whose consumer groups may run as several
// workers (processes) at once, sharing the shards through leases: Kinesis with its
// DynamoDB lease table. Consume, given one (directly or as one of a
// MultiCheckpointer's To), reads only the shards this worker holds a lease on, and a
// shard that another worker takes over stops here before its next batch is handed on.
type Leaser interface {
	// Lease takes leases on shards of s for group, keeps them renewed and shares the
	// shards with the group's other workers, until ctx is done or stop is closed. For
	// each lease it takes it calls run in a new goroutine; run's context is cancelled
	// when the lease is lost (expired, or taken by another worker) or ctx is done, and
	// run returns when the shard needs it no more (drained, read to its end, or its
	// context done). A child shard's lease is taken only once its parents have the
	// ShardEnd checkpoint.
	//
	// After stop is closed Lease takes no more leases and waits for every run to
	// return; then (and also when ctx is done) it releases what it holds so that
	// other workers take the shards over at once, and returns nil. Errors of the lease
	// store are retried; Lease returns an error only when it cannot work at all (say,
	// the lease table is missing and may not be created).
	Lease(ctx context.Context, s Stream, group string, stop <-chan struct{}, run func(context.Context, Lease)) error
}

// Lease is one worker's hold on one shard.
type Lease interface {
	// ShardID names the shard.
	ShardID() string
	// Held reports whether the worker still holds the lease, judged on its own
	// monotonic clock (the last renewal is recent enough that no other worker can
	// have taken it). Consume checks it before handing each batch on.
	Held() bool
}

// leaserOf returns the Leaser behind cp, if any: cp itself or, for a
// MultiCheckpointer, the first of its To that is one.
func leaserOf(cp Checkpointer) (Leaser, bool) {
	if l, ok := cp.(Leaser); ok {
		return l, true
	}
	if m, ok := cp.(MultiCheckpointer); ok {
		for _, to := range m.To {
			if l, ok := leaserOf(to); ok {
				return l, true
			}
		}
	}
	if m, ok := cp.(*MultiCheckpointer); ok && m != nil {
		return leaserOf(*m)
	}
	return nil, false
}
