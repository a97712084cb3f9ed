package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/streams/kinesis"
)

// Stream backends (streams.backend).
const (
	backendMemory  = "memory"
	backendKinesis = "kinesis"
)

// KinesisConfig connects the streams to Amazon Kinesis, with the consumer groups'
// leases and checkpoints in DynamoDB (KCL 2.x tables). `run <stage>` always uses it;
// serve uses it when streams.backend is "kinesis".
type KinesisConfig struct {
	// Prefix names the streams as the AWS quick start does: <prefix>-raw-stream,
	// <prefix>-enriched-stream, <prefix>-bad-1-stream, <prefix>-bad-2-stream, and the
	// lease tables <prefix>-mini-<group>. Default "sp".
	Prefix string `yaml:"prefix"`
	// StreamNames overrides single stream names, keyed by raw, enriched, bad-1, bad-2.
	StreamNames map[string]string `yaml:"streamNames"`
	// AppNames overrides the KCL application name (= DynamoDB table) of consumer
	// groups, keyed by group: enrich, loader, s3-loader, micro, stdout. A group that
	// reads several streams (the loader) gets one table per stream: <name>-<stream>.
	AppNames map[string]string `yaml:"appNames"`
	// AppName is the --app-name flag: the application name of the stage `run` starts.
	AppName string `yaml:"appName"`
	// Region; default the SDK's (AWS_REGION, the shared config file).
	Region string `yaml:"region"`
	// EndpointURL overrides both services' endpoint (emulators); KinesisEndpoint and
	// DynamoDBEndpoint override one each. Default the SDK's, which honours
	// AWS_ENDPOINT_URL_KINESIS and AWS_ENDPOINT_URL_DYNAMODB.
	EndpointURL      string `yaml:"endpointURL"`
	KinesisEndpoint  string `yaml:"kinesisEndpoint"`
	DynamoDBEndpoint string `yaml:"dynamodbEndpoint"`
	// CreateMissing creates missing streams (with Shards shards) and lease tables.
	// Otherwise a missing one is an error at start.
	CreateMissing bool `yaml:"createMissing"`
	// Shards of the streams CreateMissing creates. Default 1.
	Shards int `yaml:"shards"`
	// InitialPosition of a shard a group has no checkpoint for: TRIM_HORIZON
	// (default) or LATEST.
	InitialPosition string `yaml:"initialPosition"`
	// LeaseDuration, RenewInterval, TakeInterval: see the lease algorithm in the
	// README. Defaults 10s, LeaseDuration/3, LeaseDuration/2.
	LeaseDuration time.Duration `yaml:"leaseDuration"`
	RenewInterval time.Duration `yaml:"renewInterval"`
	TakeInterval  time.Duration `yaml:"takeInterval"`
	// PollInterval is the pause between GetRecords calls on an idle shard. Default 200ms.
	PollInterval time.Duration `yaml:"pollInterval"`
	// WorkerID is this process's lease owner name. Default <hostname>:<pid>:<uuid>.
	WorkerID string `yaml:"workerID"`
}

// DefaultKinesisConfig is the default kinesis section.
func DefaultKinesisConfig() KinesisConfig {
	return KinesisConfig{
		Prefix:          "sp",
		Shards:          1,
		InitialPosition: kinesis.CheckpointTrimHorizon,
		LeaseDuration:   10 * time.Second,
	}
}

var streamNames = []string{streams.Raw, streams.Enriched, streams.Bad1, streams.Bad2}

// streamName is the Kinesis name of a pipeline stream.
func (k KinesisConfig) streamName(name string) string {
	if n := k.StreamNames[name]; n != "" {
		return n
	}
	return streams.KinesisName(k.Prefix, name)
}

// appName is the lease table of group on stream, given how many streams the group reads.
func (k KinesisConfig) appName(group, stream string, streamsRead int) string {
	base := k.AppNames[group]
	if base == "" {
		base = fmt.Sprintf("%s-mini-%s", k.Prefix, group)
	}
	if streamsRead > 1 {
		base += "-" + stream
	}
	return base
}

func (k KinesisConfig) streamConfig(name string, groups map[string][]string) kinesis.Config {
	reads := map[string]int{}
	for _, gs := range groups {
		for _, g := range gs {
			reads[g]++
		}
	}
	apps := map[string]string{}
	for _, g := range groups[name] {
		apps[g] = k.appName(g, name, reads[g])
	}
	return kinesis.Config{
		Name:         name,
		StreamName:   k.streamName(name),
		PollInterval: k.PollInterval,
		Leases: kinesis.LeaseConfig{
			AppNames:          apps,
			WorkerID:          k.WorkerID,
			LeaseDuration:     k.LeaseDuration,
			RenewInterval:     k.RenewInterval,
			TakeInterval:      k.TakeInterval,
			InitialCheckpoint: k.InitialPosition,
			CreateTables:      k.CreateMissing,
		},
	}
}

// Validate reports every problem of the kinesis section, with its key.
func (k KinesisConfig) Validate(groups map[string][]string) error {
	var errs []error
	if k.Prefix == "" {
		errs = append(errs, errors.New("kinesis.prefix: must not be empty"))
	}
	for name := range k.StreamNames {
		if !isStreamName(name) {
			errs = append(errs, fmt.Errorf("kinesis.streamNames: unknown stream %q, want one of %s", name, strings.Join(streamNames, ", ")))
		}
	}
	if k.Shards < 1 {
		errs = append(errs, fmt.Errorf("kinesis.shards: must be at least 1, got %d", k.Shards))
	}
	// The four streams share these settings (the raw one has the most lease tables):
	// report each problem once, under its key in this section.
	if err := k.streamConfig(streams.Raw, groups).Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			line = strings.TrimPrefix(line, "leases.")
			if name, rest, ok := strings.Cut(line, ": "); ok && name == "initialCheckpoint" {
				line = "initialPosition: " + rest
			}
			errs = append(errs, errors.New("kinesis."+line))
		}
	}
	return errors.Join(errs...)
}

func isStreamName(name string) bool {
	for _, n := range streamNames {
		if n == name {
			return true
		}
	}
	return false
}

// defaultWorkerID names this process as a lease owner, as KCL does.
func defaultWorkerID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString())
}

func (k KinesisConfig) clientConfig() kinesis.ClientConfig {
	cc := kinesis.ClientConfig{Region: k.Region, KinesisEndpoint: k.EndpointURL, DynamoDBEndpoint: k.EndpointURL}
	if k.KinesisEndpoint != "" {
		cc.KinesisEndpoint = k.KinesisEndpoint
	}
	if k.DynamoDBEndpoint != "" {
		cc.DynamoDBEndpoint = k.DynamoDBEndpoint
	}
	return cc
}

// openKinesis connects the four streams to Kinesis and checks, before anything
// runs, that they exist and that the lease tables of the groups this process
// consumes with exist (or creates them when asked to).
func openKinesis(ctx context.Context, k KinesisConfig, groups map[string][]string, consumers map[string][]string, logger *slog.Logger, reg prometheus.Registerer) (map[string]*kinesis.Stream, error) {
	kin, ddb, err := kinesis.NewClients(ctx, k.clientConfig())
	if err != nil {
		return nil, fmt.Errorf("kinesis: %w", err)
	}
	metrics := kinesis.NewMetrics(reg)
	if k.WorkerID == "" {
		k.WorkerID = defaultWorkerID()
	}
	out := make(map[string]*kinesis.Stream, len(streamNames))
	var errs []error
	for _, name := range streamNames {
		s, err := kinesis.New(k.streamConfig(name, groups), kinesis.Deps{Kinesis: kin, DynamoDB: ddb, Logger: logger, Metrics: metrics})
		if err != nil {
			return nil, err
		}
		out[name] = s
		if err := s.Check(ctx, k.CreateMissing, k.Shards); err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", name, err))
			continue
		}
		for _, g := range consumers[name] {
			if err := s.CheckTable(ctx, g); err != nil {
				errs = append(errs, fmt.Errorf("stream %s, group %s: %w", name, g, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		if errors.Is(err, kinesis.ErrStreamNotFound) || errors.Is(err, kinesis.ErrTableNotFound) {
			err = fmt.Errorf("%w\n(--create-missing, or kinesis.createMissing, creates missing streams and lease tables)", err)
		}
		return nil, fmt.Errorf("kinesis:\n%w", err)
	}
	logger.Info("streams on kinesis",
		"raw", k.streamName(streams.Raw), "enriched", k.streamName(streams.Enriched),
		"bad_1", k.streamName(streams.Bad1), "bad_2", k.streamName(streams.Bad2),
		"worker_id", out[streams.Raw].WorkerID())
	return out, nil
}
