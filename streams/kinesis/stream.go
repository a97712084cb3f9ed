package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Stream is one Kinesis stream, and the Checkpointer and streams.Leaser of its
// consumer groups. It is safe for concurrent use.
type Stream struct {
	cfg     Config
	kin     KinesisAPI
	ddb     DynamoDBAPI
	log     *slog.Logger
	metrics *Metrics

	tablesMu   sync.Mutex
	tables     map[string]*leaseTable // by group
	shardCache map[string]streams.Shard
}

var (
	_ streams.Stream       = (*Stream)(nil)
	_ streams.Checkpointer = (*Stream)(nil)
	_ streams.Leaser       = (*Stream)(nil)
)

// New validates cfg and returns a Stream. It calls nothing: Check verifies that the
// stream exists.
func New(cfg Config, deps Deps) (*Stream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kinesis stream %q: %w", cfg.Name, err)
	}
	if deps.Kinesis == nil {
		return nil, fmt.Errorf("kinesis stream %q: no Kinesis client", cfg.Name)
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := deps.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	cfg = cfg.withDefaults()
	return &Stream{
		cfg:     cfg,
		kin:     deps.Kinesis,
		ddb:     deps.DynamoDB,
		log:     log.With("component", "kinesis", "stream", cfg.StreamName),
		metrics: m,
		tables:  make(map[string]*leaseTable),
	}, nil
}

// Name implements streams.Stream: the pipeline's name of the stream.
func (s *Stream) Name() string { return s.cfg.Name }

// StreamName is the Kinesis stream's name.
func (s *Stream) StreamName() string { return s.cfg.StreamName }

// WorkerID is this worker's leaseOwner value.
func (s *Stream) WorkerID() string { return s.cfg.Leases.WorkerID }

// Check verifies that the stream exists and is active. With create, a missing
// stream is created with shards shards and waited for; otherwise it is
// ErrStreamNotFound.
func (s *Stream) Check(ctx context.Context, create bool, shards int) error {
	for attempt := 0; ; attempt++ {
		out, err := s.kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(s.cfg.StreamName)})
		var nf *types.ResourceNotFoundException
		switch {
		case errors.As(err, &nf) && create && attempt == 0:
			_, err := s.kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(s.cfg.StreamName), ShardCount: aws.Int32(int32(shards))})
			var inUse *types.ResourceInUseException
			if err != nil && !errors.As(err, &inUse) {
				return fmt.Errorf("creating kinesis stream %q: %w", s.cfg.StreamName, err)
			}
			s.log.Info("created kinesis stream", "shards", shards)
		case errors.As(err, &nf) && !create:
			return fmt.Errorf("%w: %q (it must exist first)", ErrStreamNotFound, s.cfg.StreamName)
		case err != nil && !errors.As(err, &nf):
			return fmt.Errorf("describing kinesis stream %q: %w", s.cfg.StreamName, err)
		case err == nil && out.StreamDescriptionSummary.StreamStatus != types.StreamStatusCreating:
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return fmt.Errorf("waiting for kinesis stream %q: %w", s.cfg.StreamName, err)
		}
	}
}

// Put implements streams.Stream.Put. The batch is checked against the Kinesis limits
// first (a bad batch writes nothing). Entries a PutRecords response marks failed, and
// whole requests that were throttled or failed transiently, are sent again after a
// backoff until they are written, ctx is done or Config.PutTimeout passes; then the
// error matches streams.ErrFull and the entries written by then stay written (unlike
// Memory, a Kinesis batch is not atomic).
func (s *Stream) Put(ctx context.Context, entries []streams.Entry) ([]streams.PutResult, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if _, err := streams.CheckBatch(entries); err != nil {
		return nil, fmt.Errorf("putting %d records to stream %q: %w", len(entries), s.cfg.StreamName, err)
	}
	results := make([]streams.PutResult, len(entries))
	pending := make([]int, len(entries))
	for i := range pending {
		pending[i] = i
	}
	deadline := time.Now().Add(s.cfg.PutTimeout)
	delay := s.cfg.MinBackoff
	reqEntries := make([]types.PutRecordsRequestEntry, 0, len(entries))
	for {
		reqEntries = reqEntries[:0]
		for _, i := range pending {
			data := entries[i].Data
			if data == nil {
				data = []byte{} // an empty record: the SDK takes a nil blob for a missing one
			}
			reqEntries = append(reqEntries, types.PutRecordsRequestEntry{
				Data:         data,
				PartitionKey: aws.String(entries[i].PartitionKey),
			})
		}
		out, err := s.kin.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(s.cfg.StreamName), Records: reqEntries})
		var lastErr error
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("putting %d records to stream %q: %w", len(pending), s.cfg.StreamName, ctx.Err())
			}
			if perm := permanentError(err); perm != nil {
				return nil, fmt.Errorf("putting %d records to stream %q: %w", len(pending), s.cfg.StreamName, perm)
			}
			lastErr = err
			s.metrics.putRetries.WithLabelValues(s.cfg.Name, "request").Add(float64(len(pending)))
		case len(out.Records) != len(pending):
			return nil, fmt.Errorf("putting %d records to stream %q: the response has %d results", len(pending), s.cfg.StreamName, len(out.Records))
		default:
			failed := pending[:0]
			for j, r := range out.Records {
				i := pending[j]
				if r.ErrorCode != nil {
					failed = append(failed, i)
					lastErr = fmt.Errorf("%s: %s", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
					continue
				}
				results[i] = streams.PutResult{ShardID: aws.ToString(r.ShardId), SequenceNumber: aws.ToString(r.SequenceNumber)}
			}
			s.metrics.putRecords.WithLabelValues(s.cfg.Name).Add(float64(len(pending) - len(failed)))
			if len(failed) == 0 {
				return results, nil
			}
			s.metrics.putRetries.WithLabelValues(s.cfg.Name, "failed_entry").Add(float64(len(failed)))
			pending = failed
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("putting %d records to stream %q: %w: still failing after %s: %w",
				len(pending), s.cfg.StreamName, streams.ErrFull, s.cfg.PutTimeout, lastErr)
		}
		s.log.Debug("retrying records", "records", len(pending), "err", lastErr)
		if err := sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("putting %d records to stream %q: %w: %w", len(pending), s.cfg.StreamName, streams.ErrFull, err)
		}
		delay = min(2*delay, s.cfg.MaxBackoff)
	}
}

// permanentError maps the errors that retrying cannot fix to the streams sentinels;
// nil for the others (throttling, service errors, network).
func permanentError(err error) error {
	var (
		params *smithy.InvalidParamsError
		inv    *types.InvalidArgumentException
		val    *types.ValidationException
		nf     *types.ResourceNotFoundException
		ad     *types.AccessDeniedException
	)
	switch {
	case errors.As(err, &params), errors.As(err, &inv), errors.As(err, &val):
		return fmt.Errorf("%w: %w", streams.ErrInvalidArgument, err)
	case errors.As(err, &nf):
		return fmt.Errorf("%w: %w", ErrStreamNotFound, err)
	case errors.As(err, &ad):
		return err
	}
	return nil
}

// Shards implements streams.Stream.Shards: every shard Kinesis lists (closed
// parents of a resharding included, with Closed set), ordered by starting hash key
// (parents before their children at the same key).
func (s *Stream) Shards(ctx context.Context) ([]streams.Shard, error) {
	var out []streams.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(s.cfg.StreamName)}
	for {
		resp, err := s.kin.ListShards(ctx, in)
		if err != nil {
			if perm := permanentError(err); perm != nil {
				err = perm
			}
			return nil, fmt.Errorf("listing shards of stream %q: %w", s.cfg.StreamName, err)
		}
		for _, sh := range resp.Shards {
			x := streams.Shard{ID: aws.ToString(sh.ShardId)}
			if sh.HashKeyRange != nil {
				x.StartingHashKey = aws.ToString(sh.HashKeyRange.StartingHashKey)
				x.EndingHashKey = aws.ToString(sh.HashKeyRange.EndingHashKey)
			}
			if p := aws.ToString(sh.ParentShardId); p != "" {
				x.ParentShardIDs = append(x.ParentShardIDs, p)
			}
			if p := aws.ToString(sh.AdjacentParentShardId); p != "" {
				x.ParentShardIDs = append(x.ParentShardIDs, p)
			}
			x.Closed = sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
			out = append(out, x)
		}
		if resp.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: resp.NextToken}
	}
	slices.SortStableFunc(out, func(a, b streams.Shard) int {
		if c := streams.CompareSequenceNumbers(a.StartingHashKey, b.StartingHashKey); c != 0 {
			return c
		}
		return streams.CompareSequenceNumbers(a.ID[len(a.ID)-min(len(a.ID), 12):], b.ID[len(b.ID)-min(len(b.ID), 12):])
	})
	return out, nil
}

// Read implements streams.Stream.Read with GetShardIterator (unless from carries a
// live iterator) and GetRecords, polling every Config.PollInterval while it waits.
// A closed shard read to its end returns a position of type streams.AtShardEnd.
func (s *Stream) Read(ctx context.Context, shardID string, from streams.Position, limit int, wait time.Duration) ([]streams.Record, streams.Position, error) {
	if limit < 1 || limit > streams.MaxRecordsPerRead {
		return nil, from, fmt.Errorf("reading stream %q: %w: limit %d, must be 1..%d", s.cfg.StreamName, streams.ErrInvalidArgument, limit, streams.MaxRecordsPerRead)
	}
	if from.Type == streams.AtShardEnd {
		return nil, from, nil
	}
	deadline := time.Now().Add(wait)
	iter := from.Iterator
	for {
		if iter == "" {
			var err error
			if iter, err = s.iterator(ctx, shardID, from); err != nil {
				return nil, from, err
			}
		}
		out, err := s.kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(limit))})
		var expired *types.ExpiredIteratorException
		switch {
		case errors.As(err, &expired):
			iter = ""
			from.Iterator = ""
			continue
		case err != nil:
			if ctx.Err() != nil {
				return nil, from, fmt.Errorf("reading shard %s of stream %q: %w", shardID, s.cfg.StreamName, ctx.Err())
			}
			if perm := permanentError(err); perm != nil {
				err = perm
			}
			return nil, from, fmt.Errorf("reading shard %s of stream %q: %w", shardID, s.cfg.StreamName, err)
		}
		if out.MillisBehindLatest != nil {
			s.metrics.behind.WithLabelValues(s.cfg.Name, shardID).Set(float64(*out.MillisBehindLatest))
		}
		next := aws.ToString(out.NextShardIterator)
		if len(out.Records) > 0 {
			recs := make([]streams.Record, len(out.Records))
			for i, r := range out.Records {
				recs[i] = streams.Record{
					PartitionKey:   aws.ToString(r.PartitionKey),
					Data:           r.Data,
					SequenceNumber: aws.ToString(r.SequenceNumber),
					ShardID:        shardID,
					ArrivalTime:    aws.ToTime(r.ApproximateArrivalTimestamp),
				}
			}
			s.metrics.readRecords.WithLabelValues(s.cfg.Name).Add(float64(len(recs)))
			pos := streams.Position{Type: streams.AfterSequenceNumber, SequenceNumber: recs[len(recs)-1].SequenceNumber, Iterator: next}
			if next == "" {
				pos = streams.Position{Type: streams.AtShardEnd}
			}
			return recs, pos, nil
		}
		if next == "" {
			return nil, streams.Position{Type: streams.AtShardEnd}, nil
		}
		// Nothing yet: the same position, pinned by the iterator.
		iter = next
		from.Iterator = next
		if !time.Now().Before(deadline) {
			return nil, from, nil
		}
		if err := sleep(ctx, min(s.cfg.PollInterval, time.Until(deadline))); err != nil {
			return nil, from, fmt.Errorf("reading shard %s of stream %q: %w", shardID, s.cfg.StreamName, err)
		}
	}
}

func (s *Stream) iterator(ctx context.Context, shardID string, from streams.Position) (string, error) {
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(s.cfg.StreamName), ShardId: aws.String(shardID)}
	switch from.Type {
	case streams.TrimHorizon:
		in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
	case streams.Latest:
		in.ShardIteratorType = types.ShardIteratorTypeLatest
	case streams.AtSequenceNumber, streams.AfterSequenceNumber:
		if !isDecimal(from.SequenceNumber) {
			return "", fmt.Errorf("reading shard %s of stream %q: %w: sequence number %q", shardID, s.cfg.StreamName, streams.ErrInvalidArgument, from.SequenceNumber)
		}
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		if from.Type == streams.AtSequenceNumber {
			in.ShardIteratorType = types.ShardIteratorTypeAtSequenceNumber
		}
		in.StartingSequenceNumber = aws.String(from.SequenceNumber)
	default:
		return "", fmt.Errorf("reading shard %s of stream %q: %w: position type %d", shardID, s.cfg.StreamName, streams.ErrInvalidArgument, from.Type)
	}
	out, err := s.kin.GetShardIterator(ctx, in)
	if err != nil {
		var nf *types.ResourceNotFoundException
		var inv *types.InvalidArgumentException
		switch {
		case errors.As(err, &nf):
			return "", fmt.Errorf("reading stream %q: %w: %q: %w", s.cfg.StreamName, streams.ErrShardNotFound, shardID, err)
		case errors.As(err, &inv):
			return "", fmt.Errorf("reading shard %s of stream %q: %w: %w", shardID, s.cfg.StreamName, streams.ErrInvalidArgument, err)
		}
		return "", fmt.Errorf("getting an iterator of shard %s of stream %q: %w", shardID, s.cfg.StreamName, err)
	}
	return aws.ToString(out.ShardIterator), nil
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// sleep waits d or until ctx is done (its error).
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
