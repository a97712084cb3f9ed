package kinesis

import "errors"

var (
	// ErrStreamNotFound means the Kinesis stream does not exist (and was not to be
	// created).
	ErrStreamNotFound = errors.New("kinesis stream not found")
	// ErrTableNotFound means a consumer group's lease table does not exist and
	// LeaseConfig.CreateTables is false.
	ErrTableNotFound = errors.New("lease table not found")
	// ErrLeaseLost means a checkpoint was refused because another worker holds the
	// shard's lease (or took it since this worker last renewed it).
	ErrLeaseLost = errors.New("lease lost")
)
