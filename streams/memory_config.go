package streams

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// MemoryConfig configures one in-memory stream (NewMemory). The zero value is not
// valid; start from DefaultMemoryConfig. Validate reports problems with key paths under
// "streams.", where the serve command keeps stream settings.
type MemoryConfig struct {
	// Name of the stream, as Kinesis names streams: 1..128 characters of a-z, A-Z, 0-9,
	// '_', '-' and '.'. Usually one of Raw, Enriched, Bad1, Bad2. Default "" (must be set).
	Name string `yaml:"name" json:"name"`

	// Shards is the number of shards. Consumers read shards in parallel (one goroutine
	// per shard in Consume), so it bounds a stage's parallelism. Default 2 (1..1024).
	Shards int `yaml:"shards" json:"shards"`

	// MaxBytes bounds the bytes retained, counted as Kinesis counts them (data plus
	// partition key). Records every consumer group has processed are dropped, oldest
	// first, to make room; when the bound is taken by records some group has not
	// processed yet, Put waits (see PutWait). Default 16 MiB, at least MaxBytesPerPut:
	// the stream is a buffer between stages, not an archive, and every retained byte is
	// heap, held again by what a lagging stage keeps per event (at 256 MiB per stream a
	// long load ran at two thirds of the speed, mostly in page faults while the heap
	// grew; at 32 MiB the browser load peaked at 510-556 MB RSS, at 16 MiB at 368-384 MB
	// for the same CPU per event and throughput).
	MaxBytes int64 `yaml:"maxBytes" json:"maxBytes"`

	// Retention is the age after which a record every consumer group has processed is
	// dropped (lazily, on the next Put or Checkpoint touching its shard). Records a group
	// has not processed are kept whatever their age. 0 keeps records until MaxBytes needs
	// the room. Default 24h, the Kinesis default.
	Retention time.Duration `yaml:"retention" json:"retention"`

	// ConsumerGroups are the groups whose unprocessed records retention must keep: a
	// record is dropped only once every group listed here has checkpointed it (or a
	// later record of its shard). A listed group protects records from the stream's
	// start, before it ever reads. Groups not listed may read and checkpoint but protect
	// nothing. Default none.
	ConsumerGroups []string `yaml:"consumerGroups" json:"consumerGroups"`

	// PutWait is how long Put waits for consumers to make room when the stream is full
	// before returning ErrFull; a Put's ctx ends the wait earlier. Default 2s; 0 fails
	// at once.
	PutWait time.Duration `yaml:"putWait" json:"putWait"`

	// After is a sequence number that every number the stream issues must exceed:
	// the largest one a previous run issued or a consumer stored (the sink keeps its
	// checkpoints in its database). Sequence numbers begin with the Unix nanoseconds
	// at which the stream was created, so without it a clock that went back between
	// two runs would issue numbers below the stored checkpoints, and their consumer
	// would skip every new record. Default "" (none).
	After string `yaml:"-" json:"-"`

	// Clock returns the current time; default time.Now. Tests inject their own.
	Clock func() time.Time `yaml:"-" json:"-"`
}

// DefaultMemoryConfig returns the documented defaults (Name still to be set).
func DefaultMemoryConfig() MemoryConfig {
	return MemoryConfig{
		Shards:    2,
		MaxBytes:  16 << 20,
		Retention: 24 * time.Hour,
		PutWait:   2 * time.Second,
	}
}

const maxShards = 1024

// Validate reports every problem of c, each with its key path.
func (c MemoryConfig) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("streams.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if err := validStreamName(c.Name); err != "" {
		bad("name", "%s, got %q", err, c.Name)
	}
	if c.Shards < 1 || c.Shards > maxShards {
		bad("shards", "must be 1..%d, got %d", maxShards, c.Shards)
	}
	if c.MaxBytes < MaxBytesPerPut {
		bad("maxBytes", "must be at least %d (one whole Put), got %d", MaxBytesPerPut, c.MaxBytes)
	}
	if c.Retention < 0 {
		bad("retention", "must not be negative, got %s", c.Retention)
	}
	if c.PutWait < 0 {
		bad("putWait", "must not be negative, got %s", c.PutWait)
	}
	if c.After != "" {
		if _, err := epochAfter(c.After); err != nil {
			bad("after", "%v", err)
		}
	}
	seen := make(map[string]bool, len(c.ConsumerGroups))
	for i, g := range c.ConsumerGroups {
		switch {
		case g == "":
			bad(fmt.Sprintf("consumerGroups[%d]", i), "must not be empty")
		case seen[g]:
			bad(fmt.Sprintf("consumerGroups[%d]", i), "duplicate group %q", g)
		}
		seen[g] = true
	}
	return errors.Join(errs...)
}

// validStreamName returns what is wrong with name, or "".
func validStreamName(name string) string {
	if name == "" || len(name) > 128 {
		return "must be 1..128 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "must contain only a-z, A-Z, 0-9, '_', '-' and '.'"
		}
	}
	return ""
}

// epochAfter returns the smallest sequence-number prefix (see Memory) whose numbers all
// exceed seq.
func epochAfter(seq string) (int64, error) {
	if !isDecimal(seq) || len(seq) > maxSeqDigits {
		return 0, fmt.Errorf("%q is not a decimal number of at most %d digits", seq, maxSeqDigits)
	}
	seq = trimZeros(seq)
	if len(seq) <= seqCounterDigits {
		return 1, nil
	}
	epoch, err := strconv.ParseInt(seq[:len(seq)-seqCounterDigits], 10, 64)
	if err != nil || epoch == math.MaxInt64 {
		return 0, fmt.Errorf("%q is beyond the sequence numbers a memory stream issues", seq)
	}
	return epoch + 1, nil
}
