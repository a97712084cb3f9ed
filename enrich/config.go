package enrich

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/snowplow-mini/snowplow-mini/enrich/event"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Artifact is the processor name of enrich in bad rows; v_etl is Artifact-<version>.
const Artifact = "snowplow-mini-enrich"

// Config configures enrich. Key names follow Snowplow enrich's configuration where it has
// one. Start from DefaultConfig; the zero value is not valid.
type Config struct {
	// Workers is how many raw records are enriched at the same time. Default 0: one per
	// CPU (GOMAXPROCS).
	Workers int `yaml:"workers" json:"workers"`

	// BatchSize is the most raw records read from one shard per batch; a batch's outputs
	// are written, then its checkpoint stored. Default 100 (1..10000).
	BatchSize int `yaml:"batchSize" json:"batchSize"`

	// PartitionKey is the enriched field whose value keys the enriched records
	// (Snowplow's output.good.partitionKey), e.g. "user_id". An event whose field is
	// empty gets a random key. Default "event_id".
	PartitionKey string `yaml:"partitionKey" json:"partitionKey"`

	// MaxJSONDepth is the deepest nesting accepted in tracker JSON (the payload_data
	// body, contexts and self-describing events); deeper JSON is a violation (Snowplow's
	// validation.maxJsonDepth). Default 50.
	MaxJSONDepth int `yaml:"maxJsonDepth" json:"maxJsonDepth"`

	// AcceptInvalid keeps events whose atomic fields are longer than their limits
	// instead of making them schema_violations bad rows (Snowplow's
	// featureFlags.acceptInvalid). Default false.
	AcceptInvalid bool `yaml:"acceptInvalid" json:"acceptInvalid"`

	// ValidationCacheSize is how many valid (schema, data) pairs of contexts and
	// self-describing events enrich remembers across records, so that an entity found
	// valid twice (the ua_parser_context of a user agent, a browser context) is not
	// validated again while its schema is unchanged. Entities whose data is over 2 KB
	// are always validated. 0 turns the cache off. Default 8192 (at most about 20 MB,
	// typically 2 MB).
	ValidationCacheSize int `yaml:"validationCacheSize" json:"validationCacheSize"`

	// AtomicFieldsLimits overrides the length limit of string atomic fields by name,
	// e.g. {"app_id": 5} (Snowplow's validation.atomicFieldsLimits). Default: none,
	// enrich's built-in limits (event.Field.MaxLength).
	AtomicFieldsLimits map[string]int `yaml:"atomicFieldsLimits" json:"atomicFieldsLimits"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		BatchSize:    100,
		PartitionKey: "event_id",
		MaxJSONDepth: 50,

		ValidationCacheSize: 8192,
	}
}

// Validate reports every invalid setting, each with its key path.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("enrich.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Workers < 0 {
		bad("workers", "must not be negative (0 means one per CPU), got %d", c.Workers)
	}
	if c.BatchSize < 1 || c.BatchSize > streams.MaxRecordsPerRead {
		bad("batchSize", "must be 1..%d, got %d", streams.MaxRecordsPerRead, c.BatchSize)
	}
	if f, ok := event.FieldByName(c.PartitionKey); !ok || f.Kind() == event.KindJSON {
		bad("partitionKey", "must be the name of an atomic enriched field (e.g. event_id, user_id), got %q", c.PartitionKey)
	}
	if c.MaxJSONDepth < 1 {
		bad("maxJsonDepth", "must be at least 1, got %d", c.MaxJSONDepth)
	}
	if c.ValidationCacheSize < 0 {
		bad("validationCacheSize", "must not be negative (0 turns the cache off), got %d", c.ValidationCacheSize)
	}
	names := make([]string, 0, len(c.AtomicFieldsLimits))
	for name := range c.AtomicFieldsLimits {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f, ok := event.FieldByName(name)
		if !ok || f.MaxLength() == 0 || name == "refr_device_tstamp" {
			bad("atomicFieldsLimits."+name, "must be a string atomic field with a length limit (%s)", strings.Join(limitedFieldNames(), ", "))
			continue
		}
		if n := c.AtomicFieldsLimits[name]; n < 1 {
			bad("atomicFieldsLimits."+name, "must be at least 1, got %d", n)
		}
	}
	return errors.Join(errs...)
}

// limitedFieldNames lists the fields whose length is checked.
func limitedFieldNames() []string {
	var out []string
	for i := 0; i < event.NumFields; i++ {
		if f := event.Field(i); f.MaxLength() > 0 {
			out = append(out, f.Name())
		}
	}
	return out
}
