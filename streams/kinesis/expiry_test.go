package kinesis_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/kinesis"
)

// partitioned is a DynamoDB client that fails every call once cut is set, as a
// worker cut off from DynamoDB (or paused) sees it.
type partitioned struct {
	kinesis.DynamoDBAPI
	cut atomic.Bool
}

var errCut = errors.New("network partition")

func (p *partitioned) UpdateItem(ctx context.Context, in *awsdynamodb.UpdateItemInput, o ...func(*awsdynamodb.Options)) (*awsdynamodb.UpdateItemOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.DynamoDBAPI.UpdateItem(ctx, in, o...)
}

func (p *partitioned) Scan(ctx context.Context, in *awsdynamodb.ScanInput, o ...func(*awsdynamodb.Options)) (*awsdynamodb.ScanOutput, error) {
	if p.cut.Load() {
		return nil, errCut
	}
	return p.DynamoDBAPI.Scan(ctx, in, o...)
}

// A worker that can no longer renew its leases (cut off, paused) stops reading its
// shards once the lease duration has passed on its own clock, and another worker
// takes them after seeing their counters unchanged for the lease duration on its own
// clock. Nothing is stored in the table about time, so clocks need not agree.
func TestExpiredLeasesMove(t *testing.T) {
	kin, ddb := emulators(t)
	name := uniqueName(t)
	newStream(t, kin, ddb, name, 2, testLeases())
	leases := testLeases()
	cutDDB := &partitioned{DynamoDBAPI: ddb}

	newWorker := func(id string, client kinesis.DynamoDBAPI) *kinesis.Stream {
		l := leases
		l.WorkerID = id
		l.AppNames = map[string]string{"g": name + "-g"}
		s, err := kinesis.New(kinesis.Config{Name: name, StreamName: name, Leases: l}, kinesis.Deps{Kinesis: kin, DynamoDB: client})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newWorker("worker-a", cutDDB)
	ha := &holder{held: map[string]streams.Lease{}}
	go func() { _ = a.Lease(ctx, a, "g", nil, ha.run) }()
	poll.Until(t, "worker-a takes both shards", 10*time.Second, func() bool { return len(ha.shards()) == 2 })

	b := newWorker("worker-b", ddb)
	hb := &holder{held: map[string]streams.Lease{}}
	go func() { _ = b.Lease(ctx, b, "g", nil, hb.run) }()
	poll.Until(t, "worker-b steals one shard to balance", 10*time.Second, func() bool { return len(hb.shards()) == 1 })
	poll.Until(t, "worker-a notices the steal", 10*time.Second, func() bool { return len(ha.shards()) == 1 })
	l0 := ha.lease(ha.shards()[0])

	cutAt := time.Now()
	cutDDB.cut.Store(true)
	poll.Until(t, "worker-a gives up its lease", 2*leases.LeaseDuration, func() bool { return !l0.Held() && len(ha.shards()) == 0 })
	if d := time.Since(cutAt); d > leases.LeaseDuration+time.Second {
		t.Errorf("worker-a still read its shards %s after its last renewal, want at most the lease duration (%s)", d, leases.LeaseDuration)
	}
	poll.Until(t, "worker-b takes both shards", 3*leases.LeaseDuration, func() bool { return len(hb.shards()) == 2 })
	took := time.Since(cutAt)
	if took < leases.LeaseDuration/2 {
		t.Errorf("worker-b took the leases %s after worker-a stopped renewing, before they could have expired", took)
	}
	t.Logf("worker-b holds both shards %s after worker-a stopped renewing (lease duration %s, take interval %s)", took.Round(time.Millisecond), leases.LeaseDuration, leases.TakeInterval)
}
