package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Lease implements streams.Leaser for group on this stream (st must be s). See the
// package documentation for the algorithm.
func (s *Stream) Lease(ctx context.Context, st streams.Stream, group string, stop <-chan struct{}, run func(context.Context, streams.Lease)) error {
	if st != streams.Stream(s) {
		return fmt.Errorf("%w: leasing stream %q through stream %q", streams.ErrInvalidArgument, st.Name(), s.cfg.Name)
	}
	if s.ddb == nil {
		return fmt.Errorf("stream %q: no DynamoDB client for the lease tables", s.cfg.StreamName)
	}
	t := s.table(group)
	t.mu.Lock()
	if t.leasing {
		t.mu.Unlock()
		return fmt.Errorf("%w: group %q already consumes stream %q in this worker", streams.ErrInvalidArgument, group, s.cfg.StreamName)
	}
	t.leasing = true
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.leasing = false
		t.mu.Unlock()
	}()

	delay := s.cfg.MinBackoff
	for {
		err := t.ensure(ctx)
		if err == nil {
			break
		}
		if errors.Is(err, ErrTableNotFound) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		t.log.Warn("lease table not reachable; retrying", "err", err)
		if sleep(ctx, delay) != nil {
			return nil
		}
		delay = min(2*delay, 10*time.Second)
	}

	w := &worker{
		t:        t,
		run:      run,
		observed: make(map[string]observation),
		runDone:  make(chan *heldLease),
	}
	var runCtx context.Context
	runCtx, w.cancelRuns = context.WithCancel(ctx)
	defer w.cancelRuns()
	w.runCtx = runCtx

	renewCtx, stopRenewing := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		w.renewLoop(renewCtx)
	}()
	finish := func() error {
		w.cancelRuns()
		for w.running > 0 {
			<-w.runDone
			w.running--
		}
		stopRenewing()
		<-renewed
		ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), evictTimeout)
		defer cancel()
		t.evictAll(ectx)
		return nil
	}

	take := time.NewTicker(s.cfg.Leases.TakeInterval)
	defer take.Stop()
	stopping := false
	w.takeRound(ctx)
	for {
		select {
		case <-ctx.Done():
			return finish()
		case <-stop:
			stop = nil
			stopping = true
			t.log.Info("taking no more leases; draining the shards held", "held", w.heldCount())
			if w.running == 0 {
				return finish()
			}
		case h := <-w.runDone:
			w.running--
			w.runEnded(ctx, h, stopping)
			if stopping && w.running == 0 {
				return finish()
			}
		case <-take.C:
			if !stopping {
				w.takeRound(ctx)
			}
		}
	}
}

// worker is one Lease loop.
type worker struct {
	t          *leaseTable
	run        func(context.Context, streams.Lease)
	runCtx     context.Context
	cancelRuns context.CancelFunc
	runDone    chan *heldLease
	running    int

	observed map[string]observation
	lastSync time.Time
}

// observation is when this worker first saw a lease item with its current counter
// and owner, on its monotonic clock.
type observation struct {
	counter int64
	owner   string
	since   time.Time
}

func (w *worker) heldCount() int {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	return len(w.t.held)
}

// runEnded handles a shard reader that returned: a shard read to its end is
// released (it needs no worker any more); one that stopped for another reason
// while the worker goes on (its lease no longer held in time, say) is released too,
// so that it is taken again, here or elsewhere, and read from its checkpoint.
func (w *worker) runEnded(ctx context.Context, h *heldLease, stopping bool) {
	if stopping || h.lost.Load() || ctx.Err() != nil {
		return
	}
	h.mu.Lock()
	cp := h.checkpoint
	h.mu.Unlock()
	if cp != CheckpointShardEnd {
		w.t.log.Warn("shard reader stopped; releasing its lease", "shard_id", h.shard)
	}
	w.t.evict(ctx, h)
}

func (w *worker) renewLoop(ctx context.Context) {
	t := w.t
	tick := time.NewTicker(t.s.cfg.Leases.RenewInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		held := make([]*heldLease, 0, len(t.held))
		for _, h := range t.held {
			held = append(held, h)
		}
		t.mu.Unlock()
		for _, h := range held {
			h.mu.Lock()
			if h.lost.Load() {
				h.mu.Unlock()
				continue
			}
			err := t.fencedUpdate(ctx, h, "", nil)
			if err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
				t.log.Warn("renewing a lease failed", "shard_id", h.shard, "err", err)
				if !h.Held() {
					h.mu.Unlock()
					t.lose(h, "not renewed within the lease duration")
					continue
				}
			}
			h.mu.Unlock()
		}
	}
}

// takeRound creates the leases of new shards, then takes unowned and expired leases,
// or steals one, until this worker holds its share.
func (w *worker) takeRound(ctx context.Context) {
	t := w.t
	cfg := t.s.cfg.Leases
	items, err := t.scan(ctx)
	if err != nil {
		if ctx.Err() == nil {
			t.log.Warn("reading the lease table failed", "err", err)
		}
		return
	}
	if w.lastSync.IsZero() || time.Since(w.lastSync) >= shardSyncInterval || hasShardEnd(items) {
		created, err := w.syncShards(ctx, items)
		if err != nil {
			if ctx.Err() == nil {
				t.log.Warn("creating the leases of new shards failed", "err", err)
			}
		} else {
			w.lastSync = time.Now()
		}
		if created {
			if items, err = t.scan(ctx); err != nil {
				return
			}
		}
	}

	now := time.Now()
	byKey := make(map[string]leaseItem, len(items))
	for _, it := range items {
		byKey[it.key] = it
		o, ok := w.observed[it.key]
		if !ok || o.counter != it.counter || o.owner != it.owner {
			w.observed[it.key] = observation{counter: it.counter, owner: it.owner, since: now}
		}
	}
	me := cfg.WorkerID
	t.mu.Lock()
	held := make(map[string]bool, len(t.held))
	for k := range t.held {
		held[k] = true
	}
	t.mu.Unlock()

	var active []leaseItem
	for _, it := range items {
		if ready(it, byKey) {
			active = append(active, it)
		}
	}
	if len(active) == 0 {
		return
	}
	expired := func(it leaseItem) bool {
		return it.owner == "" || (it.owner != me && now.Sub(w.observed[it.key].since) >= cfg.LeaseDuration)
	}
	counts := map[string]int{me: 0}
	var available []leaseItem
	for _, it := range active {
		switch {
		case held[it.key]:
			counts[me]++
		case it.owner == me || expired(it):
			// Ours in the table but not held here (an eviction that failed), or free.
			available = append(available, it)
		default:
			counts[it.owner]++
		}
	}
	target := (len(active) + len(counts) - 1) / len(counts)
	need := target - counts[me]
	if need <= 0 {
		return
	}
	// Unowned leases first, then expired ones; by shard ID within each.
	slices.SortFunc(available, func(a, b leaseItem) int {
		if (a.owner == "") != (b.owner == "") {
			if a.owner == "" {
				return -1
			}
			return 1
		}
		return compareIDs(a.key, b.key)
	})
	took := 0
	for _, it := range available {
		if took == need {
			break
		}
		if w.takeLease(ctx, it, "taken") {
			took++
		}
	}
	if took > 0 || len(available) > 0 {
		return
	}
	// Nothing free: steal one lease from the most loaded worker, if it has more than
	// its share.
	most, mostCount := "", 0
	for owner, n := range counts {
		if owner != me && (n > mostCount || n == mostCount && owner < most) {
			most, mostCount = owner, n
		}
	}
	if most == "" || mostCount <= target {
		return
	}
	var victims []leaseItem
	for _, it := range active {
		if it.owner == most && !expired(it) {
			victims = append(victims, it)
		}
	}
	slices.SortFunc(victims, func(a, b leaseItem) int { return compareIDs(b.key, a.key) })
	if len(victims) > 0 {
		w.takeLease(ctx, victims[0], "stolen")
	}
}

// shardSyncInterval is how often the shard list is compared with the lease table
// (and at once when a shard has ended, so that its children get leases).
const shardSyncInterval = time.Minute

func hasShardEnd(items []leaseItem) bool {
	for _, it := range items {
		if it.checkpoint == CheckpointShardEnd {
			return true
		}
	}
	return false
}

// ready reports whether a lease may be read: not finished, and its parents finished
// (a parent with no lease is taken as finished: it expired from the stream).
func ready(it leaseItem, byKey map[string]leaseItem) bool {
	if it.checkpoint == CheckpointShardEnd {
		return false
	}
	for _, p := range it.parents {
		if parent, ok := byKey[p]; ok && parent.checkpoint != CheckpointShardEnd {
			return false
		}
	}
	return true
}

func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// syncShards creates a lease, with the initial checkpoint, for every shard that has
// none; it reports whether it created any.
func (w *worker) syncShards(ctx context.Context, items []leaseItem) (bool, error) {
	t := w.t
	shards, err := t.s.Shards(ctx)
	if err != nil {
		return false, err
	}
	have := make(map[string]bool, len(items))
	for _, it := range items {
		have[it.key] = true
	}
	created := false
	for _, sh := range shards {
		if have[sh.ID] {
			continue
		}
		it := leaseItem{key: sh.ID, checkpoint: t.s.cfg.Leases.InitialCheckpoint, parents: sh.ParentShardIDs}
		_, err := t.s.ddb.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(t.name),
			Item:                it.attributes(),
			ConditionExpression: aws.String("attribute_not_exists(leaseKey)"),
		})
		if err != nil && !conditionFailed(err) {
			return created, fmt.Errorf("creating the lease of shard %s: %w", sh.ID, err)
		}
		if err == nil {
			created = true
			t.log.Debug("created lease", "shard_id", sh.ID, "checkpoint", it.checkpoint)
		}
	}
	return created, nil
}

// takeLease takes it (free, expired, ours from before, or stolen) with a write
// fenced by its counter and starts its reader.
func (w *worker) takeLease(ctx context.Context, it leaseItem, how string) bool {
	t := w.t
	me := t.s.cfg.Leases.WorkerID
	update := "SET leaseOwner = :me, leaseCounter = :next"
	vals := map[string]types.AttributeValue{":me": str(me), ":next": num(it.counter + 1), ":c": num(it.counter)}
	if it.owner != me {
		update += ", ownerSwitchesSinceCheckpoint = if_not_exists(ownerSwitchesSinceCheckpoint, :zero) + :one"
		vals[":zero"], vals[":one"] = num(0), num(1)
	}
	sent := time.Now()
	_, err := t.s.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.name),
		Key:                       key(it.key),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("leaseCounter = :c"),
		ExpressionAttributeValues: vals,
	})
	if err != nil {
		if !conditionFailed(err) && ctx.Err() == nil {
			t.log.Warn("taking a lease failed", "shard_id", it.key, "err", err)
		}
		return false
	}
	h := &heldLease{t: t, shard: it.key, counter: it.counter + 1, checkpoint: it.checkpoint}
	h.markSent(sent)
	lctx, cancel := context.WithCancel(w.runCtx)
	h.cancel = cancel
	t.mu.Lock()
	t.held[it.key] = h
	n := len(t.held)
	t.mu.Unlock()
	t.s.metrics.leaseChanges.WithLabelValues(t.s.cfg.Name, t.group, how).Inc()
	t.s.metrics.leasesHeld.WithLabelValues(t.s.cfg.Name, t.group).Set(float64(n))
	t.log.Info("lease "+how, "shard_id", it.key, "previous_owner", it.owner, "checkpoint", it.checkpoint)
	w.running++
	go func() {
		defer func() { w.runDone <- h }()
		defer cancel()
		w.run(lctx, h)
	}()
	return true
}

// evict gives up a held lease: leaseOwner removed, fenced by the counter.
func (t *leaseTable) evict(ctx context.Context, h *heldLease) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost.Load() {
		return
	}
	err := t.fencedUpdate(ctx, h, "REMOVE leaseOwner", nil)
	h.lost.Store(true)
	t.mu.Lock()
	if t.held[h.shard] == h {
		delete(t.held, h.shard)
	}
	n := len(t.held)
	t.mu.Unlock()
	t.s.metrics.leasesHeld.WithLabelValues(t.s.cfg.Name, t.group).Set(float64(n))
	if err != nil {
		if !errors.Is(err, ErrLeaseLost) {
			t.log.Warn("evicting a lease failed; it expires instead", "shard_id", h.shard, "err", err)
		}
		return
	}
	t.s.metrics.leaseChanges.WithLabelValues(t.s.cfg.Name, t.group, "evicted").Inc()
	t.log.Info("lease evicted", "shard_id", h.shard)
}

func (t *leaseTable) evictAll(ctx context.Context) {
	t.mu.Lock()
	held := make([]*heldLease, 0, len(t.held))
	for _, h := range t.held {
		held = append(held, h)
	}
	t.mu.Unlock()
	for _, h := range held {
		t.evict(ctx, h)
	}
}
