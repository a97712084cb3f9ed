package kinesis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// fakeKinesis answers PutRecords with what respond says, and records the requests.
// The other methods are not used by Put.
type fakeKinesis struct {
	KinesisAPI // nil: calling anything else panics

	mu       sync.Mutex
	requests [][]string // the data of each request's entries
	respond  func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error)
}

func (f *fakeKinesis) PutRecords(_ context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	f.mu.Lock()
	var data []string
	for _, e := range in.Records {
		data = append(data, string(e.Data))
	}
	f.requests = append(f.requests, data)
	call := len(f.requests)
	f.mu.Unlock()
	return f.respond(call, in)
}

// accept answers every entry with a sequence number derived from its data.
func accept(in *kinesis.PutRecordsInput) *kinesis.PutRecordsOutput {
	out := &kinesis.PutRecordsOutput{}
	for _, e := range in.Records {
		out.Records = append(out.Records, types.PutRecordsResultEntry{ShardId: aws.String("shardId-000000000000"), SequenceNumber: aws.String("seq-" + string(e.Data))})
	}
	return out
}

func newFakeStream(t *testing.T, f *fakeKinesis, putTimeout time.Duration) (*Stream, *Metrics) {
	t.Helper()
	m := NewMetrics(nil)
	s, err := New(Config{Name: "raw", StreamName: "sp-raw-stream", MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, PutTimeout: putTimeout},
		Deps{Kinesis: f, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

func entries(data ...string) []streams.Entry {
	out := make([]streams.Entry, len(data))
	for i, d := range data {
		out[i] = streams.Entry{PartitionKey: "pk-" + d, Data: []byte(d)}
	}
	return out
}

func TestPutRetriesOnlyFailedEntries(t *testing.T) {
	f := &fakeKinesis{respond: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		out := accept(in)
		if call == 1 { // b and d fail, as Kinesis reports a throttled or failed entry
			out.Records[1] = types.PutRecordsResultEntry{ErrorCode: aws.String("ProvisionedThroughputExceededException"), ErrorMessage: aws.String("Rate exceeded for shard")}
			out.Records[3] = types.PutRecordsResultEntry{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("Internal service failure.")}
			out.FailedRecordCount = aws.Int32(2)
		}
		return out, nil
	}}
	s, m := newFakeStream(t, f, time.Minute)
	res, err := s.Put(context.Background(), entries("a", "b", "c", "d", "e"))
	if err != nil {
		t.Fatalf("Put error: %v", err)
	}
	if diff := cmp.Diff([][]string{{"a", "b", "c", "d", "e"}, {"b", "d"}}, f.requests); diff != "" {
		t.Errorf("PutRecords requests (-want +got):\n%s", diff)
	}
	var seqs []string
	for _, r := range res {
		seqs = append(seqs, r.SequenceNumber)
	}
	if diff := cmp.Diff([]string{"seq-a", "seq-b", "seq-c", "seq-d", "seq-e"}, seqs); diff != "" {
		t.Errorf("results in entry order (-want +got):\n%s", diff)
	}
	if got := counterValue(t, m.putRetries.WithLabelValues("raw", "failed_entry")); got != 2 {
		t.Errorf("put retries (failed_entry) = %v, want 2", got)
	}
}

func TestPutRetriesThrottledRequests(t *testing.T) {
	f := &fakeKinesis{respond: func(call int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		if call <= 2 {
			return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded for stream sp-raw-stream")}
		}
		return accept(in), nil
	}}
	s, m := newFakeStream(t, f, time.Minute)
	if _, err := s.Put(context.Background(), entries("a", "b")); err != nil {
		t.Fatalf("Put error: %v", err)
	}
	if len(f.requests) != 3 {
		t.Errorf("PutRecords called %d times, want 3 (two throttled)", len(f.requests))
	}
	if got := counterValue(t, m.putRetries.WithLabelValues("raw", "request")); got != 4 {
		t.Errorf("put retries (request) = %v, want 4 (2 records x 2 throttled requests)", got)
	}
}

func TestPutGivesUpAfterPutTimeout(t *testing.T) {
	f := &fakeKinesis{respond: func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded")}
	}}
	s, _ := newFakeStream(t, f, 20*time.Millisecond)
	_, err := s.Put(context.Background(), entries("a"))
	if !errors.Is(err, streams.ErrFull) || !strings.Contains(err.Error(), "Rate exceeded") {
		t.Errorf("Put error = %v, want ErrFull naming the throttling", err)
	}
}

func TestPutBackoffEndsWithContext(t *testing.T) {
	f := &fakeKinesis{respond: func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) {
		return nil, &types.ProvisionedThroughputExceededException{Message: aws.String("Rate exceeded")}
	}}
	s, err := New(Config{Name: "raw", StreamName: "sp-raw-stream", MinBackoff: time.Hour, MaxBackoff: time.Hour, PutTimeout: 2 * time.Hour}, Deps{Kinesis: f})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, entries("a"))
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Put did not return when its context was cancelled during a backoff of an hour")
	}
}

func TestPutPermanentErrorsAreNotRetried(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"InvalidArgument", &types.InvalidArgumentException{Message: aws.String("bad")}, streams.ErrInvalidArgument},
		{"StreamNotFound", &types.ResourceNotFoundException{Message: aws.String("no stream")}, ErrStreamNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeKinesis{respond: func(int, *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) { return nil, tt.err }}
			s, _ := newFakeStream(t, f, time.Minute)
			if _, err := s.Put(context.Background(), entries("a")); !errors.Is(err, tt.want) {
				t.Errorf("Put error = %v, want %v", err, tt.want)
			}
			if len(f.requests) != 1 {
				t.Errorf("PutRecords called %d times, want 1", len(f.requests))
			}
		})
	}
}

// The emulator accepts a record of 1 MiB of data plus its key; Kinesis counts the key
// and refuses it. Put refuses a record whose data and key exceed MaxRecordBytes, and
// batches beyond the request limits, before calling Kinesis.
func TestPutLimitsCountKeys(t *testing.T) {
	big := func(key string, n int) streams.Entry {
		return streams.Entry{PartitionKey: key, Data: make([]byte, n)}
	}
	many := make([]streams.Entry, streams.MaxRecordsPerPut+1)
	for i := range many {
		many[i] = streams.Entry{PartitionKey: "k", Data: []byte("x")}
	}
	for _, tt := range []struct {
		name    string
		entries []streams.Entry
		ok      bool
	}{
		{"DataPlusKeyAtLimit", []streams.Entry{big("key", streams.MaxRecordBytes-3)}, true},
		{"DataAtLimitPlusKey", []streams.Entry{big("key", streams.MaxRecordBytes)}, false},
		{"OneMiBPlusKey", []streams.Entry{big("k", 1<<20)}, false},
		{"BatchOverFiveMiBWithKeys", []streams.Entry{
			big(strings.Repeat("k", 200), streams.MaxRecordBytes-200), big(strings.Repeat("k", 200), streams.MaxRecordBytes-200),
			big(strings.Repeat("k", 200), streams.MaxRecordBytes-200), big(strings.Repeat("k", 200), streams.MaxRecordBytes-200),
			big(strings.Repeat("k", 200), streams.MaxRecordBytes-200), big("k", (5<<20)-5*streams.MaxRecordBytes),
		}, false},
		{"TooManyRecords", many, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeKinesis{respond: func(_ int, in *kinesis.PutRecordsInput) (*kinesis.PutRecordsOutput, error) { return accept(in), nil }}
			s, _ := newFakeStream(t, f, time.Minute)
			_, err := s.Put(context.Background(), tt.entries)
			switch {
			case tt.ok && err != nil:
				t.Errorf("Put error = %v, want nil", err)
			case !tt.ok && !errors.Is(err, streams.ErrInvalidArgument):
				t.Errorf("Put error = %v, want ErrInvalidArgument", err)
			case !tt.ok && len(f.requests) != 0:
				t.Errorf("PutRecords called %d times for a batch over the limits, want 0", len(f.requests))
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}
