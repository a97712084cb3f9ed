// Package kinesis implements streams.Stream and streams.Checkpointer on Amazon Kinesis
// Data Streams, with consumer groups' leases and checkpoints in DynamoDB tables in the
// Kinesis Client Library 2.x item format, so that the pipeline's stages run as many
// processes sharing shards, and so that Snowplow's own KCL applications and KCL
// tooling read what it writes.
//
// A Stream is one Kinesis stream. Put sends PutRecords batches within the Kinesis
// limits, retrying only the entries a response marks failed, and whole requests that
// were throttled, with ctx-aware backoff. Read is GetShardIterator plus GetRecords,
// polling while it waits. A resharded stream lists its closed parents and their
// children; a closed shard read to its end gives a streams.AtShardEnd position.
//
// As a Checkpointer and streams.Leaser, a Stream keeps one DynamoDB table per consumer
// group (its KCL application name, Config.AppName). Items are keyed by shard ID
// (leaseKey) and hold leaseOwner, leaseCounter (the fence of every conditional
// write), checkpoint and checkpointSubSequenceNumber, ownerSwitchesSinceCheckpoint
// and parentShardId. A worker takes unowned or expired leases (a counter that has not
// moved for Config.LeaseDuration on the worker's own monotonic clock), renews what it
// holds, steals one lease at a time from the most loaded worker until each worker has
// its share, and evicts its leases when it stops. The records of a shard are handed on
// only while its lease is held, and checkpoints are written only with the lease's
// current counter, so a worker that lost a lease writes nothing more for it.
//
// What the emulators used in tests (kinesalite, dynalite) do not enforce (the 1 MB
// record limit counting the partition key, throttling, partial PutRecords failures)
// is enforced or handled here and tested with fakes of KinesisAPI and DynamoDBAPI.
//
// Only main wires this package; stages see streams.Stream and streams.Checkpointer.
package kinesis
