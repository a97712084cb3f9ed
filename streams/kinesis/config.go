package kinesis

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
)

// Config configures one Stream.
type Config struct {
	// Name is the stream's name in the pipeline (streams.Raw, ...), returned by Name.
	// Required.
	Name string
	// StreamName is the Kinesis stream's name, e.g. "sp-raw-stream". Required.
	StreamName string

	// PollInterval is the pause between two GetRecords calls on one shard while a
	// Read waits for records (Kinesis allows 5 calls per second per shard, shared by
	// every reader). Default 200ms.
	PollInterval time.Duration

	// MinBackoff and MaxBackoff bound the pause before retrying the entries of a
	// PutRecords that failed or a request that was throttled: it starts at MinBackoff
	// and doubles up to MaxBackoff. Defaults 100ms and 1.5s.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// PutTimeout bounds how long one Put keeps retrying. When it passes, Put returns
	// an error matching streams.ErrFull; the entries written by then stay written, so a
	// caller that retries the batch writes those again (at least once). Default 1m.
	PutTimeout time.Duration

	// Leases configures the consumer groups' lease tables.
	Leases LeaseConfig
}

// LeaseConfig configures the DynamoDB lease tables of the consumer groups.
type LeaseConfig struct {
	// AppNames maps a consumer group to its KCL application name, which names its
	// DynamoDB table. A group not listed uses "<StreamName>-<group>".
	AppNames map[string]string
	// WorkerID identifies this worker as leaseOwner. Default "<hostname>:<pid>:<uuid>".
	WorkerID string
	// LeaseDuration is how long a lease whose counter has not moved counts as held by
	// its owner; a worker that cannot renew for that long stops reading the shard.
	// Default 10s (enrich's leaseDuration).
	LeaseDuration time.Duration
	// RenewInterval is how often held leases are renewed. Default LeaseDuration/3;
	// must be below LeaseDuration.
	RenewInterval time.Duration
	// TakeInterval is how often the table is scanned to take unowned, expired or
	// stolen leases and to create the leases of new shards. A lease of a worker that
	// died is taken within LeaseDuration plus two TakeIntervals; one that was evicted,
	// within one. Default LeaseDuration/2.
	TakeInterval time.Duration
	// InitialCheckpoint is the checkpoint of a new shard's lease: "TRIM_HORIZON"
	// (default) or "LATEST". A Consume with another InitialPosition on a shard with no
	// sequence-number checkpoint starts where it asks.
	InitialCheckpoint string
	// CreateTables creates a missing lease table (PAY_PER_REQUEST, as KCL does); when
	// false a missing table is an error (ErrTableNotFound).
	CreateTables bool
}

// Sentinel checkpoints, as KCL writes them.
const (
	CheckpointTrimHorizon = "TRIM_HORIZON"
	CheckpointLatest      = "LATEST"
	CheckpointShardEnd    = "SHARD_END" // streams.ShardEnd
	CheckpointAtTimestamp = "AT_TIMESTAMP"
)

func (c Config) withDefaults() Config {
	if c.PollInterval == 0 {
		c.PollInterval = 200 * time.Millisecond
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 1500 * time.Millisecond
	}
	if c.PutTimeout == 0 {
		c.PutTimeout = time.Minute
	}
	l := &c.Leases
	if l.WorkerID == "" {
		host, _ := os.Hostname()
		l.WorkerID = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString())
	}
	if l.LeaseDuration == 0 {
		l.LeaseDuration = 10 * time.Second
	}
	if l.RenewInterval == 0 {
		l.RenewInterval = l.LeaseDuration / 3
	}
	if l.TakeInterval == 0 {
		l.TakeInterval = l.LeaseDuration / 2
	}
	if l.InitialCheckpoint == "" {
		l.InitialCheckpoint = CheckpointTrimHorizon
	}
	return c
}

// Validate reports every problem of c (after defaults) at once.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name: must not be empty"))
	}
	if c.StreamName == "" {
		errs = append(errs, errors.New("streamName: must not be empty"))
	}
	for key, d := range map[string]time.Duration{"pollInterval": c.PollInterval, "minBackoff": c.MinBackoff, "putTimeout": c.PutTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative, got %s", key, d))
		}
	}
	if c.MaxBackoff < c.MinBackoff {
		errs = append(errs, fmt.Errorf("maxBackoff: must be at least minBackoff (%s), got %s", c.MinBackoff, c.MaxBackoff))
	}
	l := c.Leases
	if l.LeaseDuration <= 0 {
		errs = append(errs, fmt.Errorf("leases.leaseDuration: must be positive, got %s", l.LeaseDuration))
	}
	if l.RenewInterval <= 0 || l.RenewInterval >= l.LeaseDuration {
		errs = append(errs, fmt.Errorf("leases.renewInterval: must be positive and below leaseDuration (%s), got %s", l.LeaseDuration, l.RenewInterval))
	}
	if l.TakeInterval <= 0 {
		errs = append(errs, fmt.Errorf("leases.takeInterval: must be positive, got %s", l.TakeInterval))
	}
	if l.InitialCheckpoint != CheckpointTrimHorizon && l.InitialCheckpoint != CheckpointLatest {
		errs = append(errs, fmt.Errorf("leases.initialCheckpoint: must be %s or %s, got %q", CheckpointTrimHorizon, CheckpointLatest, l.InitialCheckpoint))
	}
	for group, app := range l.AppNames {
		if !validTableName(app) {
			errs = append(errs, fmt.Errorf("leases.appNames[%s]: %q is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ - .)", group, app))
		}
	}
	return errors.Join(errs...)
}

func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// Deps are what a Stream uses.
type Deps struct {
	Kinesis  KinesisAPI  // required
	DynamoDB DynamoDBAPI // required for checkpoints and leases
	Logger   *slog.Logger
	// Metrics are shared by the streams of a process (NewMetrics); nil: not exported.
	Metrics *Metrics
}
