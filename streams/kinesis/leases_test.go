package kinesis_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"

	"github.com/snowplow-mini/snowplow-mini/internal/poll"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/kinesis"
)

// holder runs Lease for one worker and tracks the shards it holds.
type holder struct {
	mu   sync.Mutex
	held map[string]streams.Lease
}

func (h *holder) run(ctx context.Context, l streams.Lease) {
	h.mu.Lock()
	h.held[l.ShardID()] = l
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	delete(h.held, l.ShardID())
	h.mu.Unlock()
}

func (h *holder) shards() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for id := range h.held {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func (h *holder) lease(id string) streams.Lease {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[id]
}

// worker is a Stream with its own worker ID on a shared stream and table.
func worker(t *testing.T, kin *awskinesis.Client, ddb *awsdynamodb.Client, name, id, table string) *kinesis.Stream {
	t.Helper()
	leases := testLeases()
	leases.WorkerID = id
	leases.AppNames = map[string]string{"g": table}
	s, err := kinesis.New(kinesis.Config{Name: name, StreamName: name, PollInterval: 50 * time.Millisecond, Leases: leases},
		kinesis.Deps{Kinesis: kin, DynamoDB: ddb})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Three workers on six shards end with two each: the first takes everything, the
// others steal one lease at a time from the most loaded.
func TestLeasesBalance(t *testing.T) {
	kin, ddb := emulators(t)
	name := uniqueName(t)
	newStream(t, kin, ddb, name, 6, testLeases())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	var holders []*holder
	for i := range 3 {
		h := &holder{held: map[string]streams.Lease{}}
		holders = append(holders, h)
		s := worker(t, kin, ddb, name, fmt.Sprint("worker-", i), name+"-g")
		g.Go(func() error { return s.Lease(gctx, s, "g", nil, h.run) })
		if i == 0 {
			poll.Until(t, "the first worker takes all six shards", 20*time.Second, func() bool { return len(h.shards()) == 6 })
		}
	}
	poll.Until(t, "each worker holds two shards", 30*time.Second, func() bool {
		for _, h := range holders {
			if len(h.shards()) != 2 {
				return false
			}
		}
		return true
	})
	var all []string
	for _, h := range holders {
		all = append(all, h.shards()...)
	}
	slices.Sort(all)
	if len(slices.Compact(all)) != 6 {
		t.Errorf("workers hold %v, want each of the six shards once", all)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Errorf("Lease error: %v", err)
	}
}

// A worker whose lease another worker took can neither checkpoint nor go on
// reading: the checkpoint is refused by the lease counter, the lease is no longer
// held and its reader's context is cancelled.
func TestStaleOwnerCheckpointRejected(t *testing.T) {
	kin, ddb := emulators(t)
	name := uniqueName(t)
	s := newStream(t, kin, ddb, name, 1, testLeases())
	res, err := s.Put(context.Background(), []streams.Entry{{PartitionKey: "k", Data: []byte("x")}, {PartitionKey: "k", Data: []byte("y")}})
	if err != nil {
		t.Fatal(err)
	}
	a := worker(t, kin, ddb, name, "worker-a", name+"-g")
	h := &holder{held: map[string]streams.Lease{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Lease(ctx, a, "g", nil, h.run) }()
	const shard = "shardId-000000000000"
	poll.Until(t, "worker-a takes the shard", 10*time.Second, func() bool { return len(h.shards()) == 1 })
	lease := h.lease(shard)
	if err := a.Checkpoint(ctx, "g", shard, res[0].SequenceNumber); err != nil {
		t.Fatalf("Checkpoint by the owner: %v", err)
	}

	// Another worker takes the lease, as a take does: owner and counter change.
	item, err := ddb.GetItem(ctx, &awsdynamodb.GetItemInput{TableName: aws.String(name + "-g"), Key: map[string]ddbtypes.AttributeValue{"leaseKey": &ddbtypes.AttributeValueMemberS{Value: shard}}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	counter := item.Item["leaseCounter"].(*ddbtypes.AttributeValueMemberN).Value
	_, err = ddb.UpdateItem(ctx, &awsdynamodb.UpdateItemInput{
		TableName:                 aws.String(name + "-g"),
		Key:                       map[string]ddbtypes.AttributeValue{"leaseKey": &ddbtypes.AttributeValueMemberS{Value: shard}},
		UpdateExpression:          aws.String("SET leaseOwner = :b, leaseCounter = leaseCounter + :one"),
		ConditionExpression:       aws.String("leaseCounter = :c"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":b": &ddbtypes.AttributeValueMemberS{Value: "worker-b"}, ":one": &ddbtypes.AttributeValueMemberN{Value: "1"}, ":c": &ddbtypes.AttributeValueMemberN{Value: counter}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Checkpoint(ctx, "g", shard, res[1].SequenceNumber); !errors.Is(err, kinesis.ErrLeaseLost) {
		t.Errorf("Checkpoint by the stale owner: error %v, want ErrLeaseLost", err)
	}
	if lease.Held() {
		t.Error("the stale owner still reports the lease as held")
	}
	poll.Until(t, "the stale owner's reader is stopped", 5*time.Second, func() bool { return len(h.shards()) == 0 })
	cps, err := a.Checkpoints(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{shard: res[0].SequenceNumber}, cps); diff != "" {
		t.Errorf("checkpoints after the refused write (-want +got):\n%s", diff)
	}
	cancel()
	<-done
}

// A lease table that is missing is an error unless its creation was asked for.
func TestMissingTableIsAnError(t *testing.T) {
	kin, ddb := emulators(t)
	name := uniqueName(t)
	leases := testLeases()
	leases.CreateTables = false
	s := newStream(t, kin, ddb, name, 1, leases)
	if err := s.CheckTable(context.Background(), "g"); !errors.Is(err, kinesis.ErrTableNotFound) {
		t.Errorf("CheckTable error = %v, want ErrTableNotFound", err)
	}
	err := s.Lease(context.Background(), s, "g", nil, func(context.Context, streams.Lease) {})
	if !errors.Is(err, kinesis.ErrTableNotFound) {
		t.Errorf("Lease error = %v, want ErrTableNotFound", err)
	}
	missing, err := kinesis.New(kinesis.Config{Name: "x", StreamName: name + "-missing"}, kinesis.Deps{Kinesis: kin, DynamoDB: ddb})
	if err != nil {
		t.Fatal(err)
	}
	if err := missing.Check(context.Background(), false, 1); !errors.Is(err, kinesis.ErrStreamNotFound) {
		t.Errorf("Check(missing stream) error = %v, want ErrStreamNotFound", err)
	}
}

// After a split, the children are read only once the parent is read to its end, so
// that each partition key's records stay in order; the parent's lease ends with the
// SHARD_END checkpoint.
func TestReshardingReadsParentsFirst(t *testing.T) {
	kin, ddb := emulators(t)
	name := uniqueName(t)
	s := newStream(t, kin, ddb, name, 1, testLeases())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	put := func(round int) {
		var es []streams.Entry
		for _, k := range keys {
			es = append(es, streams.Entry{PartitionKey: k, Data: []byte(fmt.Sprint(k, round))})
		}
		if _, err := s.Put(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	put(0)
	put(1)
	half := new(big.Int).Lsh(big.NewInt(1), 127)
	_, err := kin.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName:         aws.String(name),
		ShardToSplit:       aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String(half.String()),
	})
	if err != nil {
		t.Skipf("the Kinesis emulator cannot split shards: %v", err)
	}
	poll.Until(t, "the split shows in ListShards", 10*time.Second, func() bool {
		shards, err := s.Shards(ctx)
		return err == nil && len(shards) == 3
	})
	put(2)
	put(3)
	shards, err := s.Shards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !shards[0].Closed || len(shards[1].ParentShardIDs) != 1 || shards[1].ParentShardIDs[0] != shards[0].ID {
		t.Errorf("Shards() after a split = %+v, want the closed parent first, then children naming it", shards)
	}

	var mu sync.Mutex
	got := map[string][]string{} // per key, data in handling order
	drain := make(chan struct{})
	var handled int
	done := make(chan error, 1)
	go func() {
		done <- streams.Consume(ctx, s, s, streams.ConsumeOptions{Group: "g", Drain: drain, Wait: 100 * time.Millisecond}, func(_ context.Context, recs []streams.Record) error {
			if recs[0].ShardID == "shardId-000000000000" {
				// A slow parent: children read alongside it would overtake it.
				time.Sleep(500 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				got[r.PartitionKey] = append(got[r.PartitionKey], string(r.Data))
				handled++
			}
			return nil
		})
	}()
	poll.Until(t, "every record is handled", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return handled >= 4*len(keys)
	})
	close(drain)
	if err := <-done; err != nil {
		t.Fatalf("Consume error: %v", err)
	}
	for _, k := range keys {
		want := []string{k + "0", k + "1", k + "2", k + "3"}
		if diff := cmp.Diff(want, got[k]); diff != "" {
			t.Errorf("records of key %q in handling order (-want +got):\n%s", k, diff)
		}
	}
	cps, err := s.Checkpoints(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if cps["shardId-000000000000"] != streams.ShardEnd {
		t.Errorf("checkpoint of the split parent = %q, want %s", cps["shardId-000000000000"], streams.ShardEnd)
	}
}
