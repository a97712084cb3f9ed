package streams

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Durable is a Memory stream whose records and checkpoints are also written to a log
// of segment files in a directory, so that a process killed at any moment (kill -9,
// power loss) finds on restart every record a Put returned for, with the same
// sequence numbers, and the checkpoints of its consumer groups (those written shortly
// before the crash may be missing: consumers then see some records again, as
// at-least-once delivery allows).
//
// Put returns only once its records are on disk (written and fsynced). Concurrent Puts
// share one fsync (group commit): while one fsync runs, the records of the Puts that
// arrive meanwhile are gathered and written by the next. Checkpoints are written with
// the next fsync, or within DurableSyncInterval.
//
// Every log frame has its length and a CRC-32C checksum: a frame cut short or damaged
// by a crash at the end of the last segment is dropped (the file is truncated there)
// and logged. Segments roll over at DurableConfig.SegmentBytes; each begins with the
// stream's epoch, its last sequence counter and every checkpoint, so a segment is
// deleted once every declared consumer group has checkpointed all its records.
//
// Reads, retention in memory, limits and errors are Memory's: Durable passes the
// streamtest contract suite as Memory does. Records of the log that every declared
// group had checkpointed are not loaded back at start.
type Durable struct {
	*Memory
	dir    string
	cfg    DurableConfig
	logger *slog.Logger

	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte   // frames appended, not yet written
	bufMax   []uint64 // per shard, the largest record counter in buf
	spare    []byte
	appended int64 // appends so far (Puts and Checkpoints)
	synced   int64 // appends written and fsynced
	flushing bool
	err      error // a failed write or fsync: the log is unusable
	seg      *segment
	old      []*segment // earlier segments, oldest first
	// reserved is the largest counter the log allows this run to issue (see
	// counterBlock); it is raised, in the log, well before counters reach it.
	reserved atomic.Uint64

	stop     chan struct{}
	stopped  chan struct{}
	closeErr error
	once     sync.Once
}

// DurableConfig configures the files of a Durable stream.
type DurableConfig struct {
	// Dir holds the stream's segment files (created if missing). One stream per Dir.
	Dir string
	// SegmentBytes is the size at which a segment is closed and a new one started;
	// on Linux a new segment takes that much disk space at once (so that appending to
	// it changes no file size, and an fsync is a fraction of the cost). Default 16 MiB.
	SegmentBytes int64
}

// DurableSyncInterval bounds how long a checkpoint waits for the next fsync when no
// Put comes.
const DurableSyncInterval = 200 * time.Millisecond

// counterBlock is how many sequence counters the log reserves at a time. A record is
// visible to readers as soon as Put numbers it, before it is on disk: a reader may
// act on it (enrich writes its outputs, a sink stores its checkpoint) and a crash may
// then lose it. Its counter must never be issued again, or the reader's record of it
// would hide a new record: so counters are issued only below a mark written in the log
// beforehand, and a restarted stream starts after the mark.
const counterBlock = 1 << 32

// defaultSegmentBytes is DurableConfig.SegmentBytes' default.
const defaultSegmentBytes = 16 << 20

// segment is one log file.
type segment struct {
	path string
	f    *os.File // open for appending: only the current segment
	size int64
	// maxCounter is, per shard index, the largest record counter in the segment.
	maxCounter []uint64
}

// Frame types of the log.
const (
	frameHeader     = 1 // uvarint counter, then the epoch in decimal
	frameRecord     = 2 // uvarint shard, uvarint counter, uvarint len(pk), pk, data
	frameCheckpoint = 3 // uvarint shard, uvarint len(group), group, sequence number
)

// frameOverhead is the length and checksum before each frame's payload.
const frameOverhead = 8

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// NewDurable opens (or creates) the log in dc.Dir and returns the stream with what the
// log holds: records not yet checkpointed by every declared consumer group, and the
// checkpoints. cfg is as for NewMemory; cfg.After and the log's own last sequence
// number both bound the numbers it issues from below. It starts a goroutine that
// Close stops.
func NewDurable(cfg MemoryConfig, dc DurableConfig, logger *slog.Logger, reg prometheus.Registerer) (*Durable, error) {
	if dc.Dir == "" {
		return nil, errors.New("durable stream: no directory")
	}
	if dc.SegmentBytes <= 0 {
		dc.SegmentBytes = defaultSegmentBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dc.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("durable stream %q: %w", cfg.Name, err)
	}
	rec, err := readLog(dc.Dir, logger.With("component", "streams", "stream", cfg.Name))
	if err != nil {
		return nil, fmt.Errorf("durable stream %q: reading %s: %w", cfg.Name, dc.Dir, err)
	}
	m, err := NewMemory(cfg, logger, reg)
	if err != nil {
		return nil, err
	}
	d := &Durable{
		Memory:  m,
		dir:     dc.Dir,
		cfg:     dc,
		logger:  m.logger,
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	d.cond = sync.NewCond(&d.mu)
	d.bufMax = make([]uint64, len(m.shards))
	if err := d.restore(rec); err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("durable stream %q: %w", cfg.Name, err)
	}
	d.reserved.Store(m.counter.Load() + counterBlock)
	if err := d.startSegment(); err != nil {
		_ = m.Close()
		return nil, fmt.Errorf("durable stream %q: %w", cfg.Name, err)
	}
	go d.syncLoop()
	return d, nil
}

// recovered is what readLog found.
type recovered struct {
	epoch    string
	counter  uint64
	records  []recoveredRecord
	cps      []recoveredCheckpoint
	segments []*segment
}

type recoveredRecord struct {
	shard   int
	counter uint64
	pk      string
	data    []byte
}

type recoveredCheckpoint struct {
	shard      int
	group, seq string
}

// segmentName names the n-th segment so that names sort in order.
func segmentName(n uint64) string { return fmt.Sprintf("%020d.seg", n) }

// readLog reads every segment of dir, oldest first, truncating a damaged tail of the
// last one.
func readLog(dir string, logger *slog.Logger) (*recovered, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".seg") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	rec := &recovered{}
	for i, name := range names {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		seg := &segment{path: path}
		good, err := rec.parse(data, seg)
		if err != nil {
			last := i == len(names)-1
			logger.Warn("dropping the damaged end of a stream segment (a crash cut it short)",
				"segment", path, "offset", good, "bytes_dropped", len(data)-good, "err", err, "last_segment", last)
			if last {
				if err := os.Truncate(path, int64(good)); err != nil {
					return nil, err
				}
			}
		}
		seg.size = int64(good)
		rec.segments = append(rec.segments, seg)
	}
	return rec, nil
}

// parse reads the frames of one segment, returning how many bytes were whole frames.
func (rec *recovered) parse(data []byte, seg *segment) (int, error) {
	off := 0
	for off < len(data) {
		if len(data)-off < frameOverhead {
			return off, errors.New("truncated frame header")
		}
		n := int(binary.LittleEndian.Uint32(data[off:]))
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n == 0 && sum == 0 {
			return off, nil // the unwritten, preallocated rest of the segment
		}
		if n < 1 || n > len(data)-off-frameOverhead {
			return off, fmt.Errorf("frame length %d past the end of the file", n)
		}
		p := data[off+frameOverhead : off+frameOverhead+n]
		if crc32.Checksum(p, crcTable) != sum {
			return off, errors.New("frame checksum mismatch")
		}
		if err := rec.frame(p, seg); err != nil {
			return off, err
		}
		off += frameOverhead + n
	}
	return off, nil
}

func (rec *recovered) frame(p []byte, seg *segment) error {
	typ, p := p[0], p[1:]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	bad := fmt.Errorf("malformed frame of type %d", typ)
	switch typ {
	case frameHeader:
		c, ok := uvarint()
		if !ok || !isDecimal(string(p)) {
			return bad
		}
		if rec.epoch != "" && rec.epoch != string(p) {
			return fmt.Errorf("segment epoch %s differs from %s", p, rec.epoch)
		}
		rec.epoch = string(p)
		rec.counter = max(rec.counter, c)
	case frameRecord:
		shard, ok1 := uvarint()
		c, ok2 := uvarint()
		n, ok3 := uvarint()
		if !ok1 || !ok2 || !ok3 || n > uint64(len(p)) || shard > maxShards {
			return bad
		}
		rec.records = append(rec.records, recoveredRecord{shard: int(shard), counter: c, pk: string(p[:n]), data: p[n:]})
		rec.counter = max(rec.counter, c)
		for len(seg.maxCounter) <= int(shard) {
			seg.maxCounter = append(seg.maxCounter, 0)
		}
		seg.maxCounter[shard] = max(seg.maxCounter[shard], c)
	case frameCheckpoint:
		shard, ok1 := uvarint()
		n, ok2 := uvarint()
		if !ok1 || !ok2 || n > uint64(len(p)) || shard > maxShards {
			return bad
		}
		rec.cps = append(rec.cps, recoveredCheckpoint{shard: int(shard), group: string(p[:n]), seq: string(p[n:])})
	default:
		return fmt.Errorf("unknown frame type %d", typ)
	}
	return nil
}

// restore loads what the log held into the stream.
func (d *Durable) restore(lg *recovered) error {
	m := d.Memory
	if lg.epoch != "" {
		// The log's records keep their numbers, and new ones follow them, whatever the
		// clock says now.
		m.epoch = lg.epoch
	}
	for _, cp := range lg.cps {
		if cp.shard >= len(m.shards) {
			return fmt.Errorf("the log has a checkpoint of shard %d but the stream has %d shards", cp.shard, len(m.shards))
		}
		if rel, c, err := m.parseSeq(cp.seq); err == nil && rel == 0 {
			lg.counter = max(lg.counter, c)
		}
	}
	m.counter.Store(lg.counter)
	if m.cfg.After != "" && CompareSequenceNumbers(m.cfg.After, m.formatSeq(lg.counter)) > 0 {
		d.logger.Warn("a stored checkpoint is after every record of the stream's log (was the log replaced?); its consumer may skip records",
			"checkpoint", m.cfg.After, "log_last", m.formatSeq(lg.counter))
	}
	for _, cp := range lg.cps {
		s := m.shards[cp.shard]
		_, c, err := m.parseSeq(cp.seq)
		if err != nil {
			continue
		}
		if old, ok := s.cps[cp.group]; ok && CompareSequenceNumbers(cp.seq, old.seq) <= 0 {
			continue
		}
		s.cps[cp.group] = checkpoint{seq: cp.seq, counter: c}
		if gi, ok := m.groups[cp.group]; ok {
			s.declared[gi] = c
		}
		s.last = max(s.last, c)
	}
	for _, s := range m.shards {
		if len(m.groups) > 0 {
			s.minCP = slices.Min(s.declared)
		}
	}
	// Records, by shard and counter, after what every declared group checkpointed.
	slices.SortFunc(lg.records, func(a, b recoveredRecord) int {
		if a.shard != b.shard {
			return a.shard - b.shard
		}
		return compareUint(a.counter, b.counter)
	})
	now := m.now()
	for i, r := range lg.records {
		if r.shard >= len(m.shards) {
			return fmt.Errorf("the log has a record of shard %d but the stream has %d shards", r.shard, len(m.shards))
		}
		s := m.shards[r.shard]
		s.last = max(s.last, r.counter)
		if i > 0 && lg.records[i-1].shard == r.shard && lg.records[i-1].counter == r.counter {
			continue // written twice: cannot happen, but one copy is enough
		}
		if len(m.groups) > 0 && r.counter <= s.minCP {
			continue
		}
		x := rec{counter: r.counter, seq: m.formatSeq(r.counter), pk: r.pk, data: slices.Clone(r.data), arrival: now}
		s.cum += x.size()
		x.cum = s.cum
		s.recs = append(s.recs, x)
		m.bytes.Add(x.size())
	}
	d.old = lg.segments
	return nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// startSegment opens a new segment after the existing ones, beginning with the
// stream's epoch, counter and checkpoints, and makes it durable.
func (d *Durable) startSegment() error {
	n := uint64(0)
	if len(d.old) > 0 {
		last := filepath.Base(d.old[len(d.old)-1].path)
		v, err := strconv.ParseUint(strings.TrimSuffix(last, ".seg"), 10, 64)
		if err != nil {
			return fmt.Errorf("segment name %q: %w", last, err)
		}
		n = v + 1
	}
	path := filepath.Join(d.dir, segmentName(n))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	head := d.snapshot(nil)
	err = preallocate(f, d.cfg.SegmentBytes)
	if err != nil {
		d.logger.Debug("cannot preallocate stream segments; they grow as written", "err", err)
	}
	if _, err = f.WriteAt(head, 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(d.dir)
	}
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("starting segment %s: %w", path, err)
	}
	d.seg = &segment{path: path, f: f, size: int64(len(head)), maxCounter: make([]uint64, len(d.Memory.shards))}
	return nil
}

// snapshot appends the header frame and a frame per checkpoint to b.
func (d *Durable) snapshot(b []byte) []byte {
	m := d.Memory
	b = appendFrame(b, func(p []byte) []byte {
		p = append(p, frameHeader)
		p = binary.AppendUvarint(p, d.reserved.Load())
		return append(p, m.epoch...)
	})
	for i, s := range m.shards {
		s.mu.RLock()
		for g, cp := range s.cps {
			b = appendCheckpointFrame(b, i, g, cp.seq)
		}
		s.mu.RUnlock()
	}
	return b
}

// appendFrame appends a frame whose payload payload appends.
func appendFrame(b []byte, payload func([]byte) []byte) []byte {
	start := len(b)
	b = append(b, make([]byte, frameOverhead)...)
	b = payload(b)
	p := b[start+frameOverhead:]
	binary.LittleEndian.PutUint32(b[start:], uint32(len(p)))
	binary.LittleEndian.PutUint32(b[start+4:], crc32.Checksum(p, crcTable))
	return b
}

func appendCheckpointFrame(b []byte, shard int, group, seq string) []byte {
	return appendFrame(b, func(p []byte) []byte {
		p = append(p, frameCheckpoint)
		p = binary.AppendUvarint(p, uint64(shard))
		p = binary.AppendUvarint(p, uint64(len(group)))
		p = append(p, group...)
		return append(p, seq...)
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Put implements Stream.Put: it returns once the records are on disk.
func (d *Durable) Put(ctx context.Context, entries []Entry) ([]PutResult, error) {
	res, err := d.Memory.Put(ctx, entries)
	if err != nil || len(res) == 0 {
		return res, err
	}
	m := d.Memory
	d.mu.Lock()
	for i, r := range res {
		_, c, _ := m.parseSeq(r.SequenceNumber) // issued by m
		si := m.byID[r.ShardID]
		shard := slices.Index(m.shards, si)
		e := &entries[i]
		d.buf = appendFrame(d.buf, func(p []byte) []byte {
			p = append(p, frameRecord)
			p = binary.AppendUvarint(p, uint64(shard))
			p = binary.AppendUvarint(p, c)
			p = binary.AppendUvarint(p, uint64(len(e.PartitionKey)))
			p = append(p, e.PartitionKey...)
			return append(p, e.Data...)
		})
		d.bufMax[shard] = max(d.bufMax[shard], c)
	}
	if m.counter.Load() > d.reserved.Load()-counterBlock/2 {
		// Half the block is used: reserve the next one with this flush, long before
		// the counters reach the mark.
		r := d.reserved.Add(counterBlock)
		d.buf = appendFrame(d.buf, func(p []byte) []byte {
			p = append(p, frameHeader)
			p = binary.AppendUvarint(p, r)
			return append(p, m.epoch...)
		})
	}
	d.appended++
	target := d.appended
	err = d.syncLocked(target)
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("writing %d records to the log of stream %q: %w", len(res), m.cfg.Name, err)
	}
	return res, nil
}

// Checkpoint implements Checkpointer; the checkpoint reaches the disk with the next
// fsync (within DurableSyncInterval).
func (d *Durable) Checkpoint(ctx context.Context, group, shardID, seq string) error {
	if err := d.Memory.Checkpoint(ctx, group, shardID, seq); err != nil {
		return err
	}
	shard := slices.Index(d.Memory.shards, d.Memory.byID[shardID])
	d.mu.Lock()
	d.buf = appendCheckpointFrame(d.buf, shard, group, seq)
	d.appended++
	d.mu.Unlock()
	return nil
}

// syncLocked waits until the log is synced through target, flushing itself when no
// other caller is. d.mu is held.
func (d *Durable) syncLocked(target int64) error {
	for d.synced < target && d.err == nil {
		if d.flushing {
			d.cond.Wait()
			continue
		}
		d.flushing = true
		buf, upTo := d.buf, d.appended
		d.buf, d.spare = d.spare[:0], nil
		bufMax := slices.Clone(d.bufMax)
		clear(d.bufMax)
		d.mu.Unlock()
		err := d.write(buf, bufMax)
		d.mu.Lock()
		d.spare = buf[:0]
		d.flushing = false
		if err != nil {
			d.err = err
		} else {
			d.synced = upTo
		}
		d.cond.Broadcast()
	}
	return d.err
}

// write appends buf to the current segment and fsyncs it, rolling over to a new
// segment (and deleting the ones every group is done with) when it is full. Only the
// caller that set d.flushing runs it.
func (d *Durable) write(buf []byte, bufMax []uint64) error {
	for i, c := range bufMax {
		d.seg.maxCounter[i] = max(d.seg.maxCounter[i], c)
	}
	if len(buf) > 0 {
		if _, err := d.seg.f.WriteAt(buf, d.seg.size); err != nil {
			return err
		}
		if err := datasync(d.seg.f); err != nil {
			return err
		}
		d.seg.size += int64(len(buf))
	}
	if d.seg.size < d.cfg.SegmentBytes {
		return nil
	}
	full := d.seg
	if err := full.f.Close(); err != nil {
		return err
	}
	full.f = nil
	d.old = append(d.old, full)
	if err := d.startSegment(); err != nil {
		return err
	}
	d.deleteSegments()
	return nil
}

// deleteSegments removes the old segments whose records every declared group has
// checkpointed; the new segment holds the checkpoints.
func (d *Durable) deleteSegments() {
	m := d.Memory
	if len(m.groups) == 0 {
		return
	}
	keep := d.old[:0]
	for i, seg := range d.old {
		done := len(keep) == 0 // delete from the oldest only
		for si := 0; done && si < len(seg.maxCounter) && si < len(m.shards); si++ {
			s := m.shards[si]
			s.mu.RLock()
			done = seg.maxCounter[si] <= s.minCP
			s.mu.RUnlock()
		}
		if done {
			if err := os.Remove(seg.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				d.logger.Warn("deleting a stream segment", "segment", seg.path, "err", err)
				keep = append(keep, d.old[i:]...)
				break
			}
			continue
		}
		keep = append(keep, seg)
	}
	d.old = keep
}

// syncLoop writes checkpoints that no Put carried to disk every DurableSyncInterval.
func (d *Durable) syncLoop() {
	defer close(d.stopped)
	t := time.NewTicker(DurableSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-d.stop:
			return
		}
		d.mu.Lock()
		if d.appended > d.synced && !d.flushing {
			if err := d.syncLocked(d.appended); err != nil {
				d.logger.Error("writing the stream's log failed", "err", err)
			}
		}
		d.mu.Unlock()
	}
}

// Close writes what is pending, closes the log and the stream.
func (d *Durable) Close() error {
	d.once.Do(func() {
		close(d.stop)
		<-d.stopped
		d.mu.Lock()
		err := d.syncLocked(d.appended)
		if d.seg != nil && d.seg.f != nil {
			if cerr := d.seg.f.Close(); err == nil {
				err = cerr
			}
			d.seg.f = nil
		}
		d.mu.Unlock()
		if merr := d.Memory.Close(); err == nil {
			err = merr
		}
		d.closeErr = err
	})
	return d.closeErr
}

var _ io.Closer = (*Durable)(nil)
