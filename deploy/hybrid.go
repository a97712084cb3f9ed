package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kinesistypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/zclconf/go-cty/cty"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// HybridOptions configure CreateHybrid.
type HybridOptions struct {
	Dir string // a deploy folder rendered with --hybrid
	// KinesisEndpoint and S3Endpoint override the services' URLs (emulators). Empty:
	// the SDK's resolution, which honours AWS_ENDPOINT_URL_KINESIS / AWS_ENDPOINT_URL_S3.
	KinesisEndpoint string
	S3Endpoint      string
	// StreamWait bounds the wait for each new stream to become ACTIVE (default 2 min).
	StreamWait time.Duration
	Stdout     io.Writer
}

// CreateHybrid creates the hybrid folder's four streams and its bucket directly with
// the AWS SDK, from the values in hybrid/terraform.tfvars; what exists already is left
// as it is. It is meant for emulators and other endpoint overrides: on AWS, apply the
// Terraform stack so that destroy and tags stay in one place.
func CreateHybrid(ctx context.Context, o HybridOptions) error {
	vals, err := readTFVars(filepath.Join(o.Dir, StackHybrid, "terraform.tfvars"))
	if err != nil {
		return err
	}
	if vals == nil {
		return fmt.Errorf("%s: no hybrid stack (run deploy aws init --hybrid --out %s)", o.Dir, o.Dir)
	}
	prefix, region, bucket := stringVar(vals, "prefix"), stringVar(vals, "aws_region"), stringVar(vals, "s3_bucket_name")
	if prefix == "" || region == "" || bucket == "" {
		return fmt.Errorf("%s/terraform.tfvars: prefix, aws_region and s3_bucket_name must be set", filepath.Join(o.Dir, StackHybrid))
	}
	shards := int32(1)
	if v, ok := vals["kinesis_shard_count"]; ok && v.Type() == cty.Number && !v.IsNull() {
		n, _ := v.AsBigFloat().Int64()
		if n < 1 || n > 10000 {
			return fmt.Errorf("kinesis_shard_count %d: must be between 1 and 10000", n)
		}
		shards = int32(n)
	}
	onDemand := stringVar(vals, "kinesis_stream_mode_details") == "ON_DEMAND"

	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return fmt.Errorf("loading the AWS configuration: %w", err)
	}
	kin := kinesis.NewFromConfig(cfg, func(opt *kinesis.Options) {
		if o.KinesisEndpoint != "" {
			opt.BaseEndpoint = aws.String(o.KinesisEndpoint)
		}
	})
	wait := o.StreamWait
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	for _, s := range []string{streams.Raw, streams.Enriched, streams.Bad1, streams.Bad2} {
		name := streams.KinesisName(prefix, s)
		if err := createStream(ctx, kin, name, shards, onDemand, wait); err != nil {
			return err
		}
		fmt.Fprintf(o.Stdout, "stream %s: active\n", name)
	}
	s3c := s3.NewFromConfig(cfg, func(opt *s3.Options) {
		if o.S3Endpoint != "" {
			opt.BaseEndpoint = aws.String(o.S3Endpoint)
			opt.UsePathStyle = true
		}
	})
	if err := createBucket(ctx, s3c, bucket, region); err != nil {
		return err
	}
	fmt.Fprintf(o.Stdout, "bucket %s: ready\n", bucket)
	return nil
}

func createStream(ctx context.Context, kin *kinesis.Client, name string, shards int32, onDemand bool, wait time.Duration) error {
	in := &kinesis.CreateStreamInput{StreamName: aws.String(name)}
	if onDemand {
		in.StreamModeDetails = &kinesistypes.StreamModeDetails{StreamMode: kinesistypes.StreamModeOnDemand}
	} else {
		in.ShardCount = aws.Int32(shards)
	}
	_, err := kin.CreateStream(ctx, in)
	var inUse *kinesistypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("creating stream %s: %w", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(kin, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, wait); err != nil {
		return fmt.Errorf("waiting for stream %s to be active: %w", name, err)
	}
	return nil
}

func createBucket(ctx context.Context, c *s3.Client, bucket, region string) error {
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err == nil {
		return nil
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	_, err := c.CreateBucket(ctx, in)
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("creating bucket %s: %w", bucket, err)
	}
	return nil
}
