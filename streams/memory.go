package streams

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Memory is an in-memory Kinesis-like stream: it implements Stream and, for its own
// consumer groups, Checkpointer. Create it with NewMemory; it starts no goroutine. All
// methods are safe for concurrent use.
//
// Sequence numbers are decimal strings: an epoch followed by a 20-digit counter shared
// by all shards. The epoch is the Unix time in nanoseconds at which the stream was
// created, raised past MemoryConfig.After when that is later, so a stream created by a
// restarted process issues larger numbers than any its previous run issued or any
// checkpoint kept elsewhere, whatever the wall clock did in between (an NTP step, a
// restored snapshot, a data dir copied from a machine whose clock was ahead). Numbers
// grow within a shard and are unique across shards.
//
// Records are kept until retention (MemoryConfig.MaxBytes, MemoryConfig.Retention)
// needs them gone and every declared consumer group has checkpointed them; they are
// never dropped unread. Read hands out the stored Data without copying.
//
// Lock order: trimMu, then shard.mu. Only trimForRoom holds more than one shard lock: it
// takes trimMu first and then every shard's mu in m.shards order. Every other path holds
// at most one shard's mu at a time and no other lock with it. roomMu is a leaf: it is
// taken (waitRoom, signalRoom) with no shard lock held and nothing is locked under it.
// The rest of the shared state is atomics. Durable's mu comes before all of these: it
// reads shard checkpoints under it (snapshot, deleteSegments) and calls into Memory only
// before taking it.
type Memory struct {
	cfg    MemoryConfig
	logger *slog.Logger
	reg    prometheus.Registerer
	coll   *memoryCollector

	epoch      string           // the sequence-number prefix, see above
	clock      func() time.Time // MemoryConfig.Clock or time.Now
	startWall  int64            // Unix nanoseconds at creation
	startClock time.Time        // carries the monotonic reading now() measures from

	shards  []*shard
	byID    map[string]*shard
	groups  map[string]int // declared consumer group -> index in shard.declared
	infos   []Shard
	keys    []hashKey // starting hash key per shard
	counter atomic.Uint64

	bytes atomic.Int64 // retained plus reserved by Puts in progress

	trimMu sync.Mutex // serialises size-based trimming, which locks every shard

	roomMu      sync.Mutex
	room        chan struct{} // closed when room may have been made
	roomWaiting atomic.Bool
	blocked     atomic.Bool  // a Put found no room, and none has got room since
	warned      atomic.Bool  // the current full episode was logged
	lastWarn    atomic.Int64 // m.now() of the last full-stream warning, 0 for none
	unlogged    atomic.Int64 // full episodes since lastWarn that were not logged

	closeOnce sync.Once
	closed    chan struct{}

	putRecords, putBytes   atomic.Int64
	readRecords, readBytes atomic.Int64
	dropRecords, dropBytes atomic.Int64
	putsFull               atomic.Int64
}

type shard struct {
	id string

	mu      sync.RWMutex
	recs    []rec // recs[head:] are retained, in counter order
	head    int
	last    uint64 // counter of the last record put, 0 before any
	cum     int64  // bytes ever put to the shard
	dropCum int64  // bytes ever dropped from the shard

	notify  chan struct{} // closed and replaced by Put when readers wait
	waiting atomic.Bool

	cps      map[string]checkpoint // every group's checkpoint
	cpAt     map[string]int64      // m.now() when each group's checkpoint last moved
	declared []uint64              // declared groups' checkpointed counters (0: none)
	minCP    uint64                // records with counter <= minCP may be dropped
}

type rec struct {
	counter uint64
	seq     string
	pk      string
	data    []byte
	arrival int64 // Unix nanoseconds
	cum     int64 // shard.cum just after this record
}

func (r *rec) size() int64 { return int64(len(r.pk) + len(r.data)) }

type checkpoint struct {
	seq     string
	counter uint64 // counter of seq in this stream's run, 0 when seq is from an earlier run
}

// seqCounterDigits is the width of the counter part of a sequence number.
const seqCounterDigits = 20

// maxSeqDigits is the longest sequence number Kinesis accepts.
const maxSeqDigits = 129

// NewMemory validates cfg and returns an empty stream. Its metrics are registered on reg
// when reg is not nil (several streams may share one registry: each is labelled with
// its name). logger may be nil.
func NewMemory(cfg MemoryConfig, logger *slog.Logger, reg prometheus.Registerer) (*Memory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("memory stream config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	now := clock()
	wall := max(now.UnixNano(), 1)
	epoch := wall
	if cfg.After != "" {
		after, _ := epochAfter(cfg.After) // validated
		epoch = max(epoch, after)
	}
	m := &Memory{
		cfg:        cfg,
		logger:     logger.With("component", "streams", "stream", cfg.Name),
		epoch:      strconv.FormatInt(epoch, 10),
		clock:      clock,
		startWall:  wall,
		startClock: now,
		byID:       make(map[string]*shard, cfg.Shards),
		groups:     make(map[string]int, len(cfg.ConsumerGroups)),
		room:       make(chan struct{}),
		closed:     make(chan struct{}),
	}
	m.cfg.ConsumerGroups = append([]string(nil), cfg.ConsumerGroups...)
	for i, g := range m.cfg.ConsumerGroups {
		m.groups[g] = i
	}
	m.keys, m.infos = shardRanges(cfg.Shards)
	for _, info := range m.infos {
		s := &shard{
			id:       info.ID,
			notify:   make(chan struct{}),
			cps:      make(map[string]checkpoint),
			cpAt:     make(map[string]int64),
			declared: make([]uint64, len(m.groups)),
		}
		if len(m.groups) == 0 {
			s.minCP = math.MaxUint64
		}
		m.shards = append(m.shards, s)
		m.byID[s.id] = s
	}
	if reg != nil {
		m.coll = newMemoryCollector(m)
		if err := reg.Register(m.coll); err != nil {
			return nil, fmt.Errorf("registering metrics of stream %q: %w", cfg.Name, err)
		}
		m.reg = reg
	}
	return m, nil
}

// Name returns the configured stream name.
func (m *Memory) Name() string { return m.cfg.Name }

// Close wakes every waiting Read and Put with ErrClosed; later calls of any method
// return ErrClosed. Retained records are released with the stream. Close unregisters
// the stream's metrics, so a new stream of the same name may register them.
func (m *Memory) Close() error {
	m.closeOnce.Do(func() {
		close(m.closed)
		if m.reg != nil {
			m.reg.Unregister(m.coll)
		}
	})
	return nil
}

func (m *Memory) isClosed() bool {
	select {
	case <-m.closed:
		return true
	default:
		return false
	}
}

func (m *Memory) errClosed() error {
	return fmt.Errorf("stream %q: %w", m.cfg.Name, ErrClosed)
}

// now returns Unix nanoseconds, advancing with the monotonic clock since creation so
// that a wall-clock step during the run cannot reorder arrival times.
func (m *Memory) now() int64 {
	return m.startWall + int64(m.clock().Sub(m.startClock))
}

// Shards lists the shards, ordered by starting hash key. The hash-key space is split
// evenly, as Kinesis CreateStream splits it.
func (m *Memory) Shards(context.Context) ([]Shard, error) {
	if m.isClosed() {
		return nil, m.errClosed()
	}
	return append([]Shard(nil), m.infos...), nil
}

// Put implements Stream.Put. A batch takes each of its shards' locks once. When the
// stream is full, Put waits at most MemoryConfig.PutWait.
func (m *Memory) Put(ctx context.Context, entries []Entry) ([]PutResult, error) {
	if m.isClosed() {
		return nil, m.errClosed()
	}
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > MaxRecordsPerPut {
		return nil, fmt.Errorf("putting %d records to stream %q: %w: at most %d records per put",
			len(entries), m.cfg.Name, ErrInvalidArgument, MaxRecordsPerPut)
	}
	var total int64
	for i := range entries {
		if err := validEntry(&entries[i]); err != nil {
			return nil, fmt.Errorf("putting %d records to stream %q: record %d: %w", len(entries), m.cfg.Name, i, err)
		}
		total += int64(len(entries[i].PartitionKey) + len(entries[i].Data))
	}
	if total > MaxBytesPerPut {
		return nil, fmt.Errorf("putting %d records to stream %q: %w: %d bytes, at most %d per put",
			len(entries), m.cfg.Name, ErrInvalidArgument, total, MaxBytesPerPut)
	}

	// Route before reserving room, so that a Put that waits holds nothing but bytes.
	single, order, bounds := m.route(entries)
	if err := m.reserve(ctx, total); err != nil {
		return nil, fmt.Errorf("putting %d records to stream %q: %w", len(entries), m.cfg.Name, err)
	}

	results := make([]PutResult, len(entries))
	if order == nil {
		m.appendShard(m.shards[single], entries, nil, results)
	} else {
		for i, s := range m.shards {
			if part := order[bounds[i]:bounds[i+1]]; len(part) > 0 {
				m.appendShard(s, entries, part, results)
			}
		}
	}
	m.putRecords.Add(int64(len(entries)))
	m.putBytes.Add(total)
	// A Put waiting for room may now drop what the others have appended.
	m.signalRoom()
	return results, nil
}

// validEntry checks one entry against the Kinesis limits.
func validEntry(e *Entry) error {
	pk := e.PartitionKey
	switch {
	case pk == "":
		return fmt.Errorf("%w: empty partition key", ErrInvalidArgument)
	case !utf8.ValidString(pk):
		return fmt.Errorf("%w: partition key is not valid UTF-8", ErrInvalidArgument)
	case len(pk) > MaxPartitionKey && utf8.RuneCountInString(pk) > MaxPartitionKey:
		return fmt.Errorf("%w: partition key of %d characters, at most %d", ErrInvalidArgument, utf8.RuneCountInString(pk), MaxPartitionKey)
	case len(pk)+len(e.Data) > MaxRecordBytes:
		return fmt.Errorf("%w: %d bytes of data and partition key, at most %d", ErrInvalidArgument, len(pk)+len(e.Data), MaxRecordBytes)
	}
	return nil
}

// route finds the shard of each entry. When they all go to one shard, it returns its
// index and a nil order; otherwise order holds the entry indexes grouped by shard
// (order[bounds[s]:bounds[s+1]] go to shard s), in entry order within each shard.
func (m *Memory) route(entries []Entry) (single int, order []int32, bounds []int) {
	if len(m.shards) == 1 {
		return 0, nil, nil
	}
	first := shardFor(m.keys, partitionHash(entries[0].PartitionKey))
	if len(entries) == 1 {
		return first, nil, nil
	}
	buf := make([]int32, 2*len(entries))
	dest, order := buf[:len(entries)], buf[len(entries):]
	dest[0] = int32(first)
	same := true
	for i := 1; i < len(entries); i++ {
		s := shardFor(m.keys, partitionHash(entries[i].PartitionKey))
		dest[i] = int32(s)
		same = same && s == first
	}
	if same {
		return first, nil, nil
	}
	// A counting sort by shard.
	bounds = make([]int, 2*len(m.shards)+1)
	bounds, next := bounds[:len(m.shards)+1], bounds[len(m.shards)+1:]
	for _, s := range dest {
		bounds[s+1]++
	}
	for s := range m.shards {
		bounds[s+1] += bounds[s]
	}
	copy(next, bounds[:len(m.shards)])
	for i, s := range dest {
		order[next[s]] = int32(i)
		next[s]++
	}
	return 0, order, bounds
}

// appendShard appends entries[part...] (all entries when part is nil) to s under one
// lock, and fills their results.
func (m *Memory) appendShard(s *shard, entries []Entry, part []int32, results []PutResult) {
	n := len(entries)
	entry := func(k int) int { return k }
	if part != nil {
		n = len(part)
		entry = func(k int) int { return int(part[k]) }
	}
	// One allocation holds the data of every record of the batch in this shard that
	// is not Immutable (those are kept as they are); bytes.Join makes it without
	// zeroing memory about to be overwritten.
	var arena []byte
	var one [1][]byte // the part of a one-record Put stays on the stack
	parts := one[:0]
	if n > 1 {
		parts = make([][]byte, 0, n)
	}
	for k := range n {
		if e := &entries[entry(k)]; !e.Immutable {
			parts = append(parts, e.Data)
		}
	}
	if len(parts) > 0 {
		arena = bytes.Join(parts, nil)
	}

	seqLen := len(m.epoch) + seqCounterDigits
	seqBuf := make([]byte, 0, n*seqLen)

	s.mu.Lock()
	now := m.now() // under the lock, so that arrival times never decrease in a shard
	m.trimAged(s, now)
	first := m.counter.Add(uint64(n)) - uint64(n) + 1
	digits := appendCounter(make([]byte, 0, seqCounterDigits), first)
	for range n {
		seqBuf = append(seqBuf, m.epoch...)
		seqBuf = append(seqBuf, digits...)
		incrementDecimal(digits)
	}
	seqs := string(seqBuf)
	off := 0
	for k := range n {
		i := entry(k)
		e := &entries[i]
		data := e.Data[:len(e.Data):len(e.Data)]
		if !e.Immutable {
			end := off + len(e.Data)
			data = arena[off:end:end]
			off = end
		}
		r := rec{
			counter: first + uint64(k),
			seq:     seqs[k*seqLen : (k+1)*seqLen],
			pk:      e.PartitionKey,
			data:    data,
			arrival: now,
		}
		s.cum += r.size()
		r.cum = s.cum
		s.recs = append(s.recs, r)
		results[i] = PutResult{ShardID: s.id, SequenceNumber: r.seq}
	}
	s.last = first + uint64(n) - 1
	if s.waiting.Load() {
		close(s.notify)
		s.notify = make(chan struct{})
		s.waiting.Store(false)
	}
	s.mu.Unlock()
}

// appendCounter appends c as seqCounterDigits decimal digits.
func appendCounter(b []byte, c uint64) []byte {
	var d [seqCounterDigits]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + c%10)
		c /= 10
	}
	return append(b, d[:]...)
}

// incrementDecimal adds one to the fixed-width decimal number in d.
func incrementDecimal(d []byte) {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return
		}
		d[i] = '0'
	}
}

// reserve counts n more bytes against MaxBytes, dropping processed records or waiting
// for consumers when there is no room.
func (m *Memory) reserve(ctx context.Context, n int64) error {
	if m.tryReserve(n, m.cfg.MaxBytes) {
		m.unblocked()
		return nil
	}
	var timer *time.Timer
	for {
		room := m.waitRoom()
		// Drop a little more than needed, so that a stream at its bound with processed
		// records does not take this path on every Put.
		m.trimForRoom(n + m.cfg.MaxBytes/32)
		if m.tryReserve(n, m.cfg.MaxBytes) {
			m.unblocked()
			return nil
		}
		if m.isClosed() {
			return m.errClosed()
		}
		if m.blocked.CompareAndSwap(false, true) {
			m.warnFull()
		}
		if timer == nil {
			if m.cfg.PutWait <= 0 {
				m.putsFull.Add(1)
				return fmt.Errorf("%w: %d bytes retained that consumer groups have not processed", ErrFull, m.cfg.MaxBytes)
			}
			timer = time.NewTimer(m.cfg.PutWait)
			defer timer.Stop()
		}
		select {
		case <-room:
		case <-timer.C:
			m.putsFull.Add(1)
			return fmt.Errorf("%w: no room freed by consumer groups within %s", ErrFull, m.cfg.PutWait)
		case <-ctx.Done():
			m.putsFull.Add(1)
			return fmt.Errorf("%w: waiting for room: %w", ErrFull, ctx.Err())
		case <-m.closed:
			return m.errClosed()
		}
	}
}

// unblocked logs the end of a full episode.
func (m *Memory) unblocked() {
	if m.blocked.Load() && m.blocked.CompareAndSwap(true, false) && m.warned.Swap(false) {
		m.logger.Info("stream has room again")
	}
}

// fullLogInterval spaces the full-stream warnings: under a sustained load a stream at
// its bound is full and has room again many times a second, and one line per episode
// would bury every other log line.
const fullLogInterval = 10 * time.Second

// warnFull logs the start of a full episode, unless one was logged within
// fullLogInterval; the next warning counts the episodes left out.
func (m *Memory) warnFull() {
	now, last := m.now(), m.lastWarn.Load()
	if last != 0 && now-last < int64(fullLogInterval) {
		m.unlogged.Add(1)
		return
	}
	m.lastWarn.Store(now)
	m.warned.Store(true)
	st := m.Stats()
	attrs := []any{"unread_bytes", st.UnreadBytes, "max_bytes", st.MaxBytes, "consumer_lag", st.Lag}
	if n := m.unlogged.Swap(0); n > 0 {
		attrs = append(attrs, "full_episodes_not_logged", n)
	}
	m.logger.Warn("stream full: puts wait for consumer groups to make room", attrs...)
}

func (m *Memory) tryReserve(n, limit int64) bool {
	for {
		cur := m.bytes.Load()
		if cur+n > limit {
			return false
		}
		if m.bytes.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// waitRoom returns a channel closed at the next signalRoom.
func (m *Memory) waitRoom() <-chan struct{} {
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	m.roomWaiting.Store(true)
	return m.room
}

// signalRoom wakes the Puts waiting for room. It costs one atomic load when none waits.
func (m *Memory) signalRoom() {
	if !m.roomWaiting.Load() {
		return
	}
	m.roomMu.Lock()
	defer m.roomMu.Unlock()
	if m.roomWaiting.Load() {
		close(m.room)
		m.room = make(chan struct{})
		m.roomWaiting.Store(false)
	}
}

// trimForRoom drops processed records, oldest first across shards, until n more bytes
// fit or no record may be dropped.
func (m *Memory) trimForRoom(n int64) {
	m.trimMu.Lock()
	defer m.trimMu.Unlock()
	for _, s := range m.shards {
		s.mu.Lock()
	}
	defer func() {
		for _, s := range m.shards {
			s.mu.Unlock()
		}
	}()
	for m.bytes.Load()+n > m.cfg.MaxBytes {
		var oldest *shard
		for _, s := range m.shards {
			if s.head == len(s.recs) || s.recs[s.head].counter > s.minCP {
				continue
			}
			if oldest == nil || s.recs[s.head].counter < oldest.recs[oldest.head].counter {
				oldest = s
			}
		}
		if oldest == nil {
			return
		}
		m.dropHead(oldest)
	}
}

// trimAged drops s's processed records older than Retention. s.mu must be held.
func (m *Memory) trimAged(s *shard, now int64) (dropped bool) {
	if m.cfg.Retention <= 0 {
		return false
	}
	cutoff := now - int64(m.cfg.Retention)
	for s.head < len(s.recs) {
		r := &s.recs[s.head]
		if r.arrival >= cutoff || r.counter > s.minCP {
			break
		}
		m.dropHead(s)
		dropped = true
	}
	return dropped
}

// dropHead drops s's oldest record. s.mu must be held.
func (m *Memory) dropHead(s *shard) {
	r := &s.recs[s.head]
	size := r.size()
	*r = rec{} // release the data for the collector
	s.head++
	s.dropCum += size
	m.bytes.Add(-size)
	m.dropRecords.Add(1)
	m.dropBytes.Add(size)
	if s.head == len(s.recs) {
		s.recs, s.head = s.recs[:0], 0
	} else if s.head >= 1024 && s.head*2 >= len(s.recs) {
		k := copy(s.recs, s.recs[s.head:])
		clear(s.recs[k:])
		s.recs, s.head = s.recs[:k], 0
	}
}

// parseSeq places a sequence number relative to this stream's run: rel is -1 when it
// is from an earlier run (before every record), +1 when it is after every number this
// run can issue, and 0 with its counter otherwise.
func (m *Memory) parseSeq(seq string) (rel int, counter uint64, err error) {
	if !isDecimal(seq) || len(seq) > maxSeqDigits {
		return 0, 0, fmt.Errorf("%w: sequence number %q is not a decimal number of at most %d digits",
			ErrInvalidArgument, seq, maxSeqDigits)
	}
	seq = trimZeros(seq)
	switch n := len(m.epoch) + seqCounterDigits; {
	case len(seq) < n:
		return -1, 0, nil
	case len(seq) > n:
		return 1, 0, nil
	}
	if c := compareStrings(seq[:len(m.epoch)], m.epoch); c != 0 {
		return c, 0, nil
	}
	counter, err = strconv.ParseUint(seq[len(m.epoch):], 10, 64)
	if err != nil || counter == math.MaxUint64 { // beyond any counter
		return 1, 0, nil
	}
	return 0, counter, nil
}

// Read implements Stream.Read. Waiting costs nothing while no record arrives: a Put
// wakes the shard's readers.
func (m *Memory) Read(ctx context.Context, shardID string, from Position, limit int, wait time.Duration) ([]Record, Position, error) {
	if m.isClosed() {
		return nil, from, m.errClosed()
	}
	s := m.byID[shardID]
	if s == nil {
		return nil, from, fmt.Errorf("reading stream %q: %w: %q", m.cfg.Name, ErrShardNotFound, shardID)
	}
	if limit < 1 || limit > MaxRecordsPerRead {
		return nil, from, fmt.Errorf("reading stream %q: %w: limit %d, must be 1..%d", m.cfg.Name, ErrInvalidArgument, limit, MaxRecordsPerRead)
	}
	// minCounter: the first counter to return. math.MaxUint64: none this run.
	var minCounter uint64
	latest := false
	switch from.Type {
	case TrimHorizon:
	case Latest:
		latest = true
	case AtSequenceNumber, AfterSequenceNumber:
		rel, c, err := m.parseSeq(from.SequenceNumber)
		if err != nil {
			return nil, from, fmt.Errorf("reading stream %q: %w", m.cfg.Name, err)
		}
		switch {
		case rel < 0:
		case rel > 0:
			minCounter = math.MaxUint64
		case from.Type == AtSequenceNumber:
			minCounter = c
		default:
			minCounter = c + 1 // c < MaxUint64, see parseSeq
		}
	default:
		return nil, from, fmt.Errorf("reading stream %q: %w: position type %d", m.cfg.Name, ErrInvalidArgument, from.Type)
	}
	if err := ctx.Err(); err != nil {
		return nil, from, fmt.Errorf("reading stream %q: %w", m.cfg.Name, err)
	}

	var timer *time.Timer
	for {
		s.mu.RLock()
		if latest {
			minCounter = s.last + 1
			from = Position{Type: AfterSequenceNumber, SequenceNumber: m.formatSeq(s.last)}
			latest = false
		}
		recs := m.collect(s, minCounter, limit)
		if len(recs) > 0 || wait <= 0 {
			s.mu.RUnlock()
			if len(recs) > 0 {
				from = Position{Type: AfterSequenceNumber, SequenceNumber: recs[len(recs)-1].SequenceNumber}
			}
			return recs, from, nil
		}
		s.waiting.Store(true)
		notify := s.notify
		s.mu.RUnlock()

		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-notify:
		case <-timer.C:
			wait = 0 // one last look, then return
		case <-ctx.Done():
			return nil, from, fmt.Errorf("reading stream %q: %w", m.cfg.Name, ctx.Err())
		case <-m.closed:
			return nil, from, m.errClosed()
		}
	}
}

// collect returns up to limit records of s from minCounter on. s.mu must be held.
func (m *Memory) collect(s *shard, minCounter uint64, limit int) []Record {
	live := s.recs[s.head:]
	// Readers are mostly caught up (nothing new) or behind the oldest record.
	switch {
	case len(live) == 0 || live[len(live)-1].counter < minCounter:
		return nil
	case live[0].counter < minCounter:
		i := sort.Search(len(live), func(i int) bool { return live[i].counter >= minCounter })
		live = live[i:]
	}
	n, size := 0, int64(0)
	for n < len(live) && n < limit {
		size += live[n].size()
		if n > 0 && size > MaxBytesPerRead {
			break
		}
		n++
	}
	if n == 0 {
		return nil
	}
	out := make([]Record, n)
	size = 0
	for k := range out {
		r := &live[k]
		size += r.size()
		out[k] = Record{
			PartitionKey:   r.pk,
			Data:           r.data,
			SequenceNumber: r.seq,
			ShardID:        s.id,
			ArrivalTime:    time.Unix(0, r.arrival).UTC(),
		}
	}
	m.readRecords.Add(int64(n))
	m.readBytes.Add(size)
	return out
}

func (m *Memory) formatSeq(counter uint64) string {
	return string(appendCounter([]byte(m.epoch), counter))
}

// Checkpoint implements Checkpointer. seq must be a sequence number this stream issued
// to shardID (or one from an earlier run of it, which is before every record); a later
// one is ErrInvalidArgument, since it would let retention drop records nobody read.
func (m *Memory) Checkpoint(_ context.Context, group, shardID, seq string) error {
	if m.isClosed() {
		return m.errClosed()
	}
	if group == "" {
		return fmt.Errorf("checkpointing stream %q: %w: empty consumer group", m.cfg.Name, ErrInvalidArgument)
	}
	s := m.byID[shardID]
	if s == nil {
		return fmt.Errorf("checkpointing stream %q: %w: %q", m.cfg.Name, ErrShardNotFound, shardID)
	}
	rel, counter, err := m.parseSeq(seq)
	if err == nil && rel > 0 {
		err = fmt.Errorf("%w: sequence number %s was not issued by this stream", ErrInvalidArgument, seq)
	}
	if err != nil {
		return fmt.Errorf("checkpointing stream %q shard %s for group %q: %w", m.cfg.Name, shardID, group, err)
	}
	gi, declared := m.groups[group]

	s.mu.Lock()
	if counter > s.last {
		s.mu.Unlock()
		return fmt.Errorf("checkpointing stream %q shard %s for group %q: %w: sequence number %s is after the shard's last record",
			m.cfg.Name, shardID, group, ErrInvalidArgument, seq)
	}
	if old, ok := s.cps[group]; ok && CompareSequenceNumbers(seq, old.seq) <= 0 {
		s.mu.Unlock()
		return nil
	}
	s.cps[group] = checkpoint{seq: seq, counter: counter}
	now := m.now()
	s.cpAt[group] = now
	raised := false
	if declared {
		s.declared[gi] = counter
		newMin := uint64(math.MaxUint64)
		for _, c := range s.declared {
			newMin = min(newMin, c)
		}
		raised = newMin > s.minCP
		s.minCP = newMin
	}
	dropped := m.trimAged(s, now)
	s.mu.Unlock()

	if raised || dropped {
		m.signalRoom()
	}
	return nil
}

// Checkpoints implements Checkpointer.
func (m *Memory) Checkpoints(_ context.Context, group string) (map[string]string, error) {
	if m.isClosed() {
		return nil, m.errClosed()
	}
	out := make(map[string]string)
	for _, s := range m.shards {
		s.mu.RLock()
		if cp, ok := s.cps[group]; ok {
			out[s.id] = cp.seq
		}
		s.mu.RUnlock()
	}
	return out, nil
}

// MemoryStats is a snapshot of a Memory stream's state.
type MemoryStats struct {
	Records int64 // records retained
	Bytes   int64 // bytes retained (data plus partition keys)
	// UnreadBytes are the retained bytes some declared consumer group has not
	// checkpointed yet: retention may not drop them.
	UnreadBytes int64
	MaxBytes    int64 // MemoryConfig.MaxBytes
	// Full is what Full reports: unread records leave no room for the largest record.
	Full bool
	// Lag is, per declared consumer group, the number of retained records after its
	// checkpoints.
	Lag map[string]int64
}

// Stats returns a snapshot of the stream's state. It takes each shard's read lock
// briefly and costs a few binary searches per shard and group.
func (m *Memory) Stats() MemoryStats {
	st := MemoryStats{MaxBytes: m.cfg.MaxBytes, Lag: make(map[string]int64, len(m.groups))}
	for _, g := range m.cfg.ConsumerGroups {
		st.Lag[g] = 0
	}
	for _, s := range m.shards {
		s.mu.RLock()
		st.Records += int64(len(s.recs) - s.head)
		st.Bytes += s.cum - s.dropCum
		st.UnreadBytes += s.cum - s.cumThrough(s.minCP)
		for g, gi := range m.groups {
			st.Lag[g] += s.behind(s.declared[gi])
		}
		s.mu.RUnlock()
	}
	st.Full = st.UnreadBytes+MaxRecordBytes > m.cfg.MaxBytes
	return st
}

// Lag returns the number of retained records after group's checkpoints, over all
// shards. For a group that never checkpointed, that is every retained record.
func (m *Memory) Lag(group string) int64 {
	var n int64
	for _, s := range m.shards {
		s.mu.RLock()
		n += s.behind(s.cps[group].counter)
		s.mu.RUnlock()
	}
	return n
}

// Pending tells whether group keeps up: n is the number of retained records after its
// checkpoints, over all shards, and idle how long the group has made no progress on
// them: on the shard where that is longest, the time since the later of the group's
// last checkpoint and the arrival of its oldest record not checkpointed. A group that
// works through a backlog checkpoints as it goes and is never idle long; one whose
// handler keeps failing is. idle is 0 when nothing is pending.
func (m *Memory) Pending(group string) (n int64, idle time.Duration) {
	now := m.now()
	for _, s := range m.shards {
		s.mu.RLock()
		c := s.cps[group].counter
		behind := s.behind(c)
		if behind > 0 {
			live := s.recs[s.head:]
			oldest := live[len(live)-int(behind)].arrival
			since := max(oldest, s.cpAt[group])
			idle = max(idle, time.Duration(now-since))
		}
		s.mu.RUnlock()
		n += behind
	}
	return n, idle
}

// Full reports whether the records some declared consumer group has not processed
// leave no room for a record of the largest size: Puts then wait for consumers, and
// fail with ErrFull after PutWait.
func (m *Memory) Full() bool {
	var unread int64
	for _, s := range m.shards {
		s.mu.RLock()
		unread += s.cum - s.cumThrough(s.minCP)
		s.mu.RUnlock()
	}
	return unread+MaxRecordBytes > m.cfg.MaxBytes
}

// behind counts retained records with a counter above c. s.mu must be held.
func (s *shard) behind(c uint64) int64 {
	live := s.recs[s.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].counter > c })
	return int64(len(live) - i)
}

// cumThrough returns s.cum as it was after the last retained record with a counter of
// at most c (s.dropCum when there is none). s.mu must be held.
func (s *shard) cumThrough(c uint64) int64 {
	live := s.recs[s.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].counter > c })
	if i == 0 {
		return s.dropCum
	}
	return live[i-1].cum
}
