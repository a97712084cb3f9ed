package kinesis_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/snowplow-mini/snowplow-mini/internal/emulatortest"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/kinesis"
	"github.com/snowplow-mini/snowplow-mini/streams/streamtest"
)

// emulators returns clients of the Kinesis and DynamoDB emulators.
func emulators(t *testing.T) (*awskinesis.Client, *awsdynamodb.Client) {
	t.Helper()
	cc := kinesis.ClientConfig{
		Region:           "us-east-1",
		KinesisEndpoint:  emulatortest.Kinesis(t),
		DynamoDBEndpoint: emulatortest.DynamoDB(t),
	}
	kin, ddb, err := kinesis.NewClients(context.Background(), cc,
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	return kin, ddb
}

var nameSeq atomic.Int64

// uniqueName is a stream or table name no other test (or earlier run against the
// same emulator) uses.
func uniqueName(t *testing.T) string {
	base := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-")
	if len(base) > 60 {
		base = base[len(base)-60:]
	}
	return fmt.Sprintf("t%d-%d-%s", time.Now().UnixNano()%1e9, nameSeq.Add(1), base)
}

// failureLog returns a logger whose lines (lease taken, lost, evicted…) are shown
// only if t fails: they tell a redelivery's cause. Lines logged once t is done (by a
// worker's background renewals, say) are dropped.
func failureLog(t *testing.T) *slog.Logger {
	var mu sync.Mutex
	var buf bytes.Buffer
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("stream log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// testLeases are short, so that tests see takeovers quickly.
func testLeases() kinesis.LeaseConfig {
	return kinesis.LeaseConfig{
		LeaseDuration: 2 * time.Second,
		TakeInterval:  300 * time.Millisecond,
		CreateTables:  true,
	}
}

func newStream(t *testing.T, kin *awskinesis.Client, ddb *awsdynamodb.Client, name string, shards int, leases kinesis.LeaseConfig) *kinesis.Stream {
	t.Helper()
	s, err := kinesis.New(kinesis.Config{
		Name:         name,
		StreamName:   name,
		PollInterval: 50 * time.Millisecond,
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   100 * time.Millisecond,
		Leases:       leases,
	}, kinesis.Deps{Kinesis: kin, DynamoDB: ddb, Logger: failureLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	deleteOnCleanup(t, kin, name)
	if err := s.Check(ctx, true, shards); err != nil {
		t.Fatal(err)
	}
	return s
}

// deleteOnCleanup deletes stream name once t is done, so that its shards count no
// more against the emulator's shard limit: the suite creates a few hundred shards a
// run, and runs against one emulator process (as CI's and a developer's are) would
// otherwise reach kinesalite's limit after a few runs. Errors are ignored: the
// stream may never have been created.
func deleteOnCleanup(t *testing.T, kin *awskinesis.Client, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = kin.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String(name), EnforceConsumerDeletion: aws.Bool(true)})
	})
}

// contractLeases are testLeases with the default lease duration. The contract's
// subtests see no takeover by expiry, and expect every record handled once: with a
// 2 s lease, a CI machine busy enough to hold up a renewal for that long (it runs the
// suite's packages in parallel against one emulator process) lets both shards' leases
// lapse, and their readers then rightly start again from the last checkpoint.
func contractLeases() kinesis.LeaseConfig {
	l := testLeases()
	l.LeaseDuration = 0
	return l
}

func TestContract(t *testing.T) {
	kin, ddb := emulators(t)
	streamtest.RunWith(t, func(t *testing.T, cfg streamtest.Config) (streams.Stream, streams.Checkpointer) {
		s := newStream(t, kin, ddb, uniqueName(t), cfg.Shards, contractLeases())
		return s, s
	}, streamtest.Options{ServerSplitsHashKeys: true})
}
