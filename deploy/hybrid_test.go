package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/snowplow-mini/snowplow-mini/internal/emulatortest"
)

func s3Endpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("SNOWPLOW_MINI_TEST_S3")
	if ep == "" {
		msg := "no S3-compatible server: set SNOWPLOW_MINI_TEST_S3 (e.g. http://127.0.0.1:4568, s3rver) with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
		if os.Getenv("SNOWPLOW_MINI_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return ep
}

// TestHybridCreateOnEmulators renders a hybrid folder and creates its streams and bucket
// against kinesalite and s3rver, twice (the second run finds them and changes nothing),
// then checks the names and shard counts are those `snowplow-mini run` expects.
func TestHybridCreateOnEmulators(t *testing.T) {
	kinEP := emulatortest.Kinesis(t)
	s3EP := s3Endpoint(t)
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "S3RVER")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "S3RVER")
	}
	prefix := fmt.Sprintf("hyb%d", time.Now().UnixNano()%1e9)
	bucket := prefix + "-bucket"
	o := goldenCases(t)["hybrid"]
	o.Out = t.TempDir()
	o.Prefix, o.BucketName, o.Region = ptr(prefix), ptr(bucket), ptr("us-east-1")
	if _, err := Init(o); err != nil {
		t.Fatal(err)
	}
	tfvars := o.Out + "/hybrid/terraform.tfvars"
	b, _ := os.ReadFile(tfvars)
	if err := os.WriteFile(tfvars, bytes.Replace(b, []byte("kinesis_shard_count         = 1"), []byte("kinesis_shard_count = 2"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for run := 1; run <= 2; run++ {
		var out bytes.Buffer
		err := Apply(ctx, RunOptions{Dir: o.Out, KinesisEndpoint: kinEP, S3Endpoint: s3EP, Stdout: &out})
		if err != nil {
			t.Fatalf("apply %d: %v\n%s", run, err, out.String())
		}
		if !strings.Contains(out.String(), "stream "+prefix+"-bad-2-stream: active") || !strings.Contains(out.String(), "bucket "+bucket+": ready") {
			t.Errorf("apply %d output:\n%s", run, out.String())
		}
	}

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	kin := kinesis.NewFromConfig(cfg, func(opt *kinesis.Options) { opt.BaseEndpoint = aws.String(kinEP) })
	for _, name := range []string{"raw", "enriched", "bad-1", "bad-2"} {
		stream := prefix + "-" + name + "-stream"
		sum, err := kin.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
		if err != nil {
			t.Errorf("stream %s: %v", stream, err)
			continue
		}
		if n := aws.ToInt32(sum.StreamDescriptionSummary.OpenShardCount); n != 2 {
			t.Errorf("stream %s has %d shards, want the 2 of terraform.tfvars", stream, n)
		}
	}
	s3c := s3.NewFromConfig(cfg, func(opt *s3.Options) { opt.BaseEndpoint = aws.String(s3EP); opt.UsePathStyle = true })
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Errorf("bucket %s: %v", bucket, err)
	}
}
