package kinesis_test

import (
	"context"
	"fmt"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

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
	}, kinesis.Deps{Kinesis: kin, DynamoDB: ddb})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Check(ctx, true, shards); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	kin, ddb := emulators(t)
	streamtest.RunWith(t, func(t *testing.T, cfg streamtest.Config) (streams.Stream, streams.Checkpointer) {
		s := newStream(t, kin, ddb, uniqueName(t), cfg.Shards, testLeases())
		return s, s
	}, streamtest.Options{ServerSplitsHashKeys: true})
}
