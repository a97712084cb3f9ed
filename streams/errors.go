package streams

import "errors"

// Errors returned (wrapped) by Stream and Checkpointer implementations; test with
// errors.Is.
var (
	// ErrFull means a Put found the stream at its retention bound and no consumer group
	// made room in time: the batch was not written and may be retried later.
	ErrFull = errors.New("stream full")

	// ErrInvalidArgument means a request broke the stream's limits or named an invalid
	// sequence number, position or read limit. Retrying the same request cannot succeed.
	ErrInvalidArgument = errors.New("invalid argument")

	// ErrShardNotFound means a shard ID does not name a shard of the stream.
	ErrShardNotFound = errors.New("shard not found")

	// ErrClosed means the stream was closed.
	ErrClosed = errors.New("stream closed")
)
