package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// evictTimeout bounds the eviction of a worker's leases once its context is done.
const evictTimeout = 5 * time.Second

// leaseTable is a consumer group's DynamoDB table and the leases this worker holds
// in it.
type leaseTable struct {
	s     *Stream
	group string
	name  string
	log   *slog.Logger
	// base anchors heldLease.renewed on the monotonic clock.
	base time.Time

	mu      sync.Mutex
	exists  bool
	leasing bool
	held    map[string]*heldLease
}

// heldLease is a lease this worker holds. Writes to its item are serialised by mu
// and fenced by counter.
type heldLease struct {
	t     *leaseTable
	shard string

	mu         sync.Mutex
	counter    int64
	checkpoint string

	renewed atomic.Int64 // when the last fenced write was sent, in ns since t.base
	lost    atomic.Bool
	cancel  context.CancelFunc
}

func (h *heldLease) ShardID() string { return h.shard }

// Held implements streams.Lease: the last renewal (or take, or checkpoint) was sent
// less than LeaseDuration ago on this worker's monotonic clock, and none failed its
// fence since. Another worker takes a lease only after seeing its counter unchanged
// for LeaseDuration on its own clock, which starts after this worker's write was sent.
func (h *heldLease) Held() bool {
	if h.lost.Load() {
		return false
	}
	sent := h.t.base.Add(time.Duration(h.renewed.Load()))
	return time.Since(sent) < h.t.s.cfg.Leases.LeaseDuration
}

func (h *heldLease) markSent(sent time.Time) { h.renewed.Store(int64(sent.Sub(h.t.base))) }

func (s *Stream) table(group string) *leaseTable {
	s.tablesMu.Lock()
	defer s.tablesMu.Unlock()
	t := s.tables[group]
	if t == nil {
		name := s.cfg.Leases.AppNames[group]
		if name == "" {
			name = s.cfg.StreamName + "-" + group
		}
		t = &leaseTable{
			s:     s,
			group: group,
			name:  name,
			log:   s.log.With("group", group, "table", name),
			base:  time.Now(),
			held:  make(map[string]*heldLease),
		}
		s.tables[group] = t
	}
	return t
}

// TableName is the lease table of a consumer group.
func (s *Stream) TableName(group string) string { return s.table(group).name }

// CheckTable verifies that group's lease table exists, creating it when
// LeaseConfig.CreateTables allows; otherwise a missing table is ErrTableNotFound.
func (s *Stream) CheckTable(ctx context.Context, group string) error {
	if s.ddb == nil {
		return fmt.Errorf("stream %q: no DynamoDB client for the lease tables", s.cfg.StreamName)
	}
	return s.table(group).ensure(ctx)
}

func (t *leaseTable) ensure(ctx context.Context) error {
	t.mu.Lock()
	ok := t.exists
	t.mu.Unlock()
	if ok {
		return nil
	}
	ddb := t.s.ddb
	created := false
	for {
		out, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(t.name)})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf) && !t.s.cfg.Leases.CreateTables:
			return fmt.Errorf("%w: %q (the lease table of group %q on stream %q; LeaseConfig.CreateTables creates it)", ErrTableNotFound, t.name, t.group, t.s.cfg.StreamName)
		case errors.As(err, &nf) && !created:
			_, err := ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(t.name),
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(attrLeaseKey), AttributeType: types.ScalarAttributeTypeS}},
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(attrLeaseKey), KeyType: types.KeyTypeHash}},
				BillingMode:          types.BillingModePayPerRequest,
			})
			var inUse *types.ResourceInUseException
			if err != nil && !errors.As(err, &inUse) {
				return fmt.Errorf("creating lease table %q: %w", t.name, err)
			}
			created = true
			t.log.Info("created lease table")
		case err != nil && !errors.As(err, &nf):
			return fmt.Errorf("describing lease table %q: %w", t.name, err)
		case err == nil && out.Table.TableStatus == types.TableStatusActive:
			t.mu.Lock()
			t.exists = true
			t.mu.Unlock()
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for lease table %q: %w", t.name, err)
		}
	}
}

// scan reads every item of the table, consistently.
func (t *leaseTable) scan(ctx context.Context) ([]leaseItem, error) {
	var items []leaseItem
	in := &dynamodb.ScanInput{TableName: aws.String(t.name), ConsistentRead: aws.Bool(true)}
	for {
		out, err := t.s.ddb.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("scanning lease table %q: %w", t.name, err)
		}
		for _, m := range out.Items {
			it, err := parseItem(m)
			if err != nil {
				return nil, fmt.Errorf("lease table %q: %w", t.name, err)
			}
			items = append(items, it)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func tableMissing(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// Checkpoints implements streams.Checkpointer: the sequence-number and ShardEnd
// checkpoints of group's lease table (the TRIM_HORIZON and LATEST sentinels of
// leases that were never checkpointed are left out). A missing table has none.
func (s *Stream) Checkpoints(ctx context.Context, group string) (map[string]string, error) {
	if s.ddb == nil {
		return nil, fmt.Errorf("stream %q: no DynamoDB client for the lease tables", s.cfg.StreamName)
	}
	t := s.table(group)
	items, err := t.scan(ctx)
	if tableMissing(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(items))
	for _, it := range items {
		if isDecimal(it.checkpoint) || it.checkpoint == CheckpointShardEnd {
			out[it.key] = it.checkpoint
		}
	}
	return out, nil
}

// Checkpoint implements streams.Checkpointer. A shard whose lease this worker holds
// is checkpointed with the lease's counter as the fence (ErrLeaseLost when another
// worker took it); a shard nobody leases (say, set by a tool before any worker ran)
// is checkpointed on its unowned lease item, created if needed; a shard another
// worker leases is refused with ErrLeaseLost. streams.ShardEnd is final.
func (s *Stream) Checkpoint(ctx context.Context, group, shardID, seq string) error {
	if seq != streams.ShardEnd && !isDecimal(seq) {
		return fmt.Errorf("checkpointing shard %s of stream %q: %w: sequence number %q", shardID, s.cfg.StreamName, streams.ErrInvalidArgument, seq)
	}
	if s.ddb == nil {
		return fmt.Errorf("stream %q: no DynamoDB client for the lease tables", s.cfg.StreamName)
	}
	sh, err := s.shard(ctx, shardID)
	if err != nil {
		return err
	}
	t := s.table(group)
	if err := t.ensure(ctx); err != nil {
		return err
	}
	t.mu.Lock()
	h := t.held[shardID]
	t.mu.Unlock()
	if h != nil {
		return t.checkpointHeld(ctx, h, seq)
	}
	return t.checkpointUnowned(ctx, sh, seq)
}

// forward reports whether checkpoint next moves on from prev.
func forward(prev, next string) bool {
	switch {
	case prev == CheckpointShardEnd:
		return false
	case next == CheckpointShardEnd, !isDecimal(prev):
		return true
	}
	return streams.CompareSequenceNumbers(next, prev) > 0
}

func (t *leaseTable) checkpointHeld(ctx context.Context, h *heldLease, seq string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.Held() {
		return fmt.Errorf("checkpointing shard %s in lease table %q: %w", h.shard, t.name, ErrLeaseLost)
	}
	if !forward(h.checkpoint, seq) {
		return nil
	}
	err := t.fencedUpdate(ctx, h, "SET checkpoint = :seq, checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero",
		map[string]types.AttributeValue{":seq": str(seq), ":zero": num(0)})
	if err != nil {
		return fmt.Errorf("checkpointing shard %s in lease table %q: %w", h.shard, t.name, err)
	}
	h.checkpoint = seq
	return nil
}

// fencedUpdate applies update (which must not set leaseCounter) to h's item if it
// still has h's counter and this worker as owner, and increments the counter. A
// failed fence marks the lease lost. The caller holds h.mu.
func (t *leaseTable) fencedUpdate(ctx context.Context, h *heldLease, update string, values map[string]types.AttributeValue) error {
	vals := map[string]types.AttributeValue{
		":next": num(h.counter + 1),
		":c":    num(h.counter),
		":me":   str(t.s.cfg.Leases.WorkerID),
	}
	for k, v := range values {
		vals[k] = v
	}
	expr := "SET leaseCounter = :next"
	if rest, ok := strings.CutPrefix(update, "SET "); ok {
		expr += ", " + rest
	} else if update != "" {
		expr += " " + update
	}
	sent := time.Now()
	_, err := t.s.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.name),
		Key:                       key(h.shard),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("leaseCounter = :c AND leaseOwner = :me"),
		ExpressionAttributeValues: vals,
	})
	if conditionFailed(err) {
		t.lose(h, "its counter moved: another worker took it")
		return ErrLeaseLost
	}
	if err != nil {
		return err
	}
	h.counter++
	h.markSent(sent)
	return nil
}

func (t *leaseTable) checkpointUnowned(ctx context.Context, sh streams.Shard, seq string) error {
	for attempt := 0; attempt < 10; attempt++ {
		out, err := t.s.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.name), Key: key(sh.ID), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("reading the lease of shard %s in table %q: %w", sh.ID, t.name, err)
		}
		if len(out.Item) == 0 {
			it := leaseItem{key: sh.ID, counter: 1, checkpoint: seq, parents: sh.ParentShardIDs}
			_, err := t.s.ddb.PutItem(ctx, &dynamodb.PutItemInput{
				TableName:           aws.String(t.name),
				Item:                it.attributes(),
				ConditionExpression: aws.String("attribute_not_exists(leaseKey)"),
			})
			if conditionFailed(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("creating the lease of shard %s in table %q: %w", sh.ID, t.name, err)
			}
			return nil
		}
		it, err := parseItem(out.Item)
		if err != nil {
			return err
		}
		if it.owner != "" {
			return fmt.Errorf("checkpointing shard %s in lease table %q: %w: worker %q holds it", sh.ID, t.name, ErrLeaseLost, it.owner)
		}
		if !forward(it.checkpoint, seq) {
			return nil
		}
		_, err = t.s.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(t.name),
			Key:                 key(sh.ID),
			UpdateExpression:    aws.String("SET leaseCounter = :next, checkpoint = :seq, checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero"),
			ConditionExpression: aws.String("leaseCounter = :c AND attribute_not_exists(leaseOwner)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":next": num(it.counter + 1), ":c": num(it.counter), ":seq": str(seq), ":zero": num(0),
			},
		})
		if conditionFailed(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("checkpointing shard %s in lease table %q: %w", sh.ID, t.name, err)
		}
		return nil
	}
	return fmt.Errorf("checkpointing shard %s in lease table %q: the item kept changing", sh.ID, t.name)
}

// shard describes shardID, listing the shards again when it is not known yet.
func (s *Stream) shard(ctx context.Context, shardID string) (streams.Shard, error) {
	s.tablesMu.Lock()
	sh, ok := s.shardCache[shardID]
	s.tablesMu.Unlock()
	if ok {
		return sh, nil
	}
	shards, err := s.Shards(ctx)
	if err != nil {
		return streams.Shard{}, err
	}
	s.tablesMu.Lock()
	defer s.tablesMu.Unlock()
	if s.shardCache == nil {
		s.shardCache = make(map[string]streams.Shard, len(shards))
	}
	for _, x := range shards {
		s.shardCache[x.ID] = x
	}
	if sh, ok := s.shardCache[shardID]; ok {
		return sh, nil
	}
	return streams.Shard{}, fmt.Errorf("stream %q: %w: %q", s.cfg.StreamName, streams.ErrShardNotFound, shardID)
}

// lose forgets a lease another worker has taken, and stops its reader.
func (t *leaseTable) lose(h *heldLease, why string) {
	if h.lost.Swap(true) {
		return
	}
	t.mu.Lock()
	if t.held[h.shard] == h {
		delete(t.held, h.shard)
	}
	n := len(t.held)
	t.mu.Unlock()
	if h.cancel != nil {
		h.cancel()
	}
	t.s.metrics.leaseChanges.WithLabelValues(t.s.cfg.Name, t.group, "lost").Inc()
	t.s.metrics.leasesHeld.WithLabelValues(t.s.cfg.Name, t.group).Set(float64(n))
	t.log.Info("lease lost", "shard_id", h.shard, "reason", why)
}
