package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/snowplow-mini/snowplow-mini/collector"
	"github.com/snowplow-mini/snowplow-mini/enrich"
	"github.com/snowplow-mini/snowplow-mini/iglu"
	"github.com/snowplow-mini/snowplow-mini/loaders"
	"github.com/snowplow-mini/snowplow-mini/streams"
	"github.com/snowplow-mini/snowplow-mini/web"
)

// Config is the whole configuration of serve. Each stage owns its section and its
// validation; this struct only gathers them. A config file (YAML or JSON) uses these
// keys; every key is optional.
type Config struct {
	// Addr is the one address everything listens on. Default "localhost:9090".
	Addr string `yaml:"addr"`
	// DataDir holds the event database and the S3-style files. Default
	// "snowplow-mini-data" in the working directory.
	DataDir string `yaml:"dataDir"`
	// ShutdownTimeout bounds the drain at shutdown. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdownTimeout"`

	HTTP        HTTPConfig        `yaml:"http"`
	Log         LogConfig         `yaml:"log"`
	Debug       DebugConfig       `yaml:"debug"`
	Health      HealthConfig      `yaml:"health"`
	Iglu        IgluConfig        `yaml:"iglu"`
	Enrichments EnrichmentsConfig `yaml:"enrichments"`
	Streams     StreamsConfig     `yaml:"streams"`
	Kinesis     KinesisConfig     `yaml:"kinesis"`
	Collector   collector.Config  `yaml:"collector"`
	Enrich      enrich.Config     `yaml:"enrich"`
	Loaders     loaders.Config    `yaml:"loaders"`
	Web         web.Config        `yaml:"web"`

	// clock is the streams' clock (nil: time.Now); tests set it.
	clock func() time.Time
}

// LogConfig configures the logger (stderr).
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error; default info
	Format string `yaml:"format"` // text or json; default text
}

// DebugConfig turns on diagnostics that are off by default.
type DebugConfig struct {
	// Pprof serves Go's profiler at /debug/pprof/ on the main address.
	Pprof bool `yaml:"pprof"`
}

// IgluConfig says where schemas come from, besides the embedded set.
type IgluConfig struct {
	// ResolverFile is a Snowplow resolver.json; default: the embedded schemas, then
	// Iglu Central.
	ResolverFile string `yaml:"resolverFile"`
	// SchemasDir is a local static-repo folder, tried first.
	SchemasDir string `yaml:"schemasDir"`
	// SuperAPIKey is the Iglu Server API's super key (a UUID): it publishes and
	// deletes schemas and creates keys (POST /api/auth/keygen). Empty: the API is
	// read-only and write requests are answered with how to set one. Never printed.
	SuperAPIKey Secret `yaml:"superApiKey"`
	// PatchesAllowed lets the Iglu Server API replace and delete published versions
	// (Iglu Server's patchesAllowed). Default false.
	PatchesAllowed bool `yaml:"patchesAllowed"`
	// PostgresSchema is the PostgreSQL schema of the published schemas and API keys
	// (tables iglu_schemas and iglu_permissions) when the event store is PostgreSQL;
	// with SQLite they are in iglu.db in the data directory. Default "": the event
	// store's schema (loaders.sink.schema).
	PostgresSchema string `yaml:"postgresSchema"`
}

// EnrichmentsConfig selects the enrichments.
type EnrichmentsConfig struct {
	// Dir holds Snowplow enrichment configs (*.json). Empty: Snowplow Mini's defaults.
	Dir string `yaml:"dir"`
	// DisableDefaults runs no enrichment when Dir is empty.
	DisableDefaults bool `yaml:"disableDefaults"`
	// Disable switches single default enrichments off by their config name:
	// campaign_attribution, event_fingerprint_config, referer_parser, ua_parser_config.
	Disable []string `yaml:"disable"`
}

// StreamsConfig chooses the streams' backend and sizes the in-memory streams (the
// same settings for all four).
type StreamsConfig struct {
	// Backend is "memory" (default: in this process) or "kinesis" (Amazon Kinesis, as
	// the kinesis section says).
	Backend   string        `yaml:"backend"`
	Shards    int           `yaml:"shards"`
	MaxBytes  int64         `yaml:"maxBytes"`
	Retention time.Duration `yaml:"retention"`
	PutWait   time.Duration `yaml:"putWait"`
	// Durable also writes every stream's records and checkpoints to segment files in
	// the data dir (streams/<name>/), and the collector answers 2xx only once a
	// request's records are on disk: a crash (kill -9, power loss) then loses no
	// acknowledged event and, after a restart, stores each exactly once. Off, a 2xx
	// means the event is in the process's memory, stored exactly once unless the
	// process dies without a graceful stop. Default false: on the development machine
	// durable streams cost about a third of the end-to-end throughput (12.1-12.9k
	// against 19.1-19.4k events/s, 95 against 79 µs of CPU per event), which is not
	// small enough to impose on every user (README, "What a 2xx promises").
	Durable bool `yaml:"durable"`
}

// DefaultConfig is what `snowplow-mini serve` runs with when nothing is set.
func DefaultConfig() Config {
	sc := streams.DefaultMemoryConfig()
	return Config{
		Addr:            "localhost:9090",
		DataDir:         "snowplow-mini-data",
		ShutdownTimeout: 30 * time.Second,
		HTTP:            DefaultHTTPConfig(),
		Log:             LogConfig{Level: "info", Format: "text"},
		Kinesis:         DefaultKinesisConfig(),
		Health:          HealthConfig{StallTimeout: defaultStallTimeout},
		Streams: StreamsConfig{
			Backend:   backendMemory,
			Shards:    sc.Shards,
			MaxBytes:  sc.MaxBytes,
			Retention: sc.Retention,
			PutWait:   sc.PutWait,
		},
		Collector: collector.DefaultConfig(),
		Enrich:    enrich.DefaultConfig(),
		Loaders:   loaders.DefaultConfig(),
		Web:       web.DefaultConfig(),
	}
}

// Validate reports every problem of c with its key path.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q: want host:port (port 0 picks a free port)", c.Addr)
	}
	if c.DataDir == "" {
		bad("dataDir", "must not be empty")
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdownTimeout", "%s: must be positive", c.ShutdownTimeout)
	}
	if _, err := parseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q: must be text or json", c.Log.Format)
	}
	switch c.Streams.Backend {
	case backendMemory:
	case backendKinesis:
		if err := c.Kinesis.Validate(consumerGroups(c)); err != nil {
			errs = append(errs, err)
		}
	default:
		bad("streams.backend", "%q: must be %s or %s", c.Streams.Backend, backendMemory, backendKinesis)
	}
	if k := string(c.Iglu.SuperAPIKey); k != "" {
		if _, err := uuid.Parse(k); err != nil {
			bad("iglu.superApiKey", "must be a UUID (such as the output of uuidgen)")
		}
	}
	if c.Iglu.PostgresSchema != "" && !iglu.ValidPostgresSchema(c.Iglu.PostgresSchema) {
		bad("iglu.postgresSchema", "must be 1..63 characters of a-z, 0-9 and _, starting with a letter or _, got %q", c.Iglu.PostgresSchema)
	}
	for _, name := range []string{streams.Raw, streams.Enriched, streams.Bad1, streams.Bad2} {
		if err := c.streamConfig(name, nil).Validate(); err != nil {
			errs = append(errs, err)
			break // the four share their settings: one report is enough
		}
	}
	// The S3-style loader checkpoints a file's records only when the file is stored, so
	// a stream smaller than two files would fill up and stall every stage until the file
	// ages out.
	if s3 := c.Loaders.S3.MaxFileBytes; s3 > 0 && c.Streams.MaxBytes > 0 && s3 > c.Streams.MaxBytes/2 {
		bad("loaders.s3.maxFileBytes", "%d: must be at most half of streams.maxBytes (%d), or the streams fill up before a file is stored", s3, c.Streams.MaxBytes)
	}
	for _, err := range []error{c.HTTP.validate(c.Web.Wait.MaxTimeout), c.Health.Validate(), c.Collector.Validate(), c.Enrich.Validate(), c.Loaders.Validate(), c.Web.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c Config) streamConfig(name string, groups []string) streams.MemoryConfig {
	mc := streams.DefaultMemoryConfig()
	mc.Name = name
	mc.Shards = c.Streams.Shards
	mc.MaxBytes = c.Streams.MaxBytes
	mc.Retention = c.Streams.Retention
	mc.PutWait = c.Streams.PutWait
	mc.ConsumerGroups = groups
	return mc
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q: must be debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.Level) // validated
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadResolverConfig reads the resolver configuration: the given resolver.json, or
// the default (embedded schemas, then Iglu Central), with the local schema folder in
// front when one is set.
func loadResolverConfig(c IgluConfig) (iglu.ResolverConfig, error) {
	rc := iglu.DefaultConfig()
	if c.ResolverFile != "" {
		data, err := os.ReadFile(c.ResolverFile)
		if err != nil {
			return rc, fmt.Errorf("iglu.resolverFile: %w", err)
		}
		rc, err = iglu.ParseResolverConfig(data)
		if err != nil {
			return rc, fmt.Errorf("iglu.resolverFile %s: %w", c.ResolverFile, err)
		}
	}
	if c.SchemasDir != "" {
		abs, err := filepath.Abs(c.SchemasDir)
		if err != nil {
			return rc, fmt.Errorf("iglu.schemasDir: %w", err)
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return rc, fmt.Errorf("iglu.schemasDir: %q is not a directory", c.SchemasDir)
		}
		rc.SchemaDirs = append([]string{abs}, rc.SchemaDirs...)
	}
	return rc, rc.Validate()
}

// checkConfig validates everything serve would load and prints the effective
// configuration, secrets hidden.
func checkConfig(ctx context.Context, cfg Config, getenv func(string) string, stdout, stderr io.Writer) int {
	errs := []error{cfg.Validate()}
	if _, err := loadResolverConfig(cfg.Iglu); err != nil {
		errs = append(errs, err)
	}
	// Building the enrichments is the only way to check them (assets included, which
	// downloads those given by http(s) URI, bounded by ctx); what they hold is released.
	if set, err := loadEnrichments(ctx, cfg, nil, nil, nil); err != nil {
		errs = append(errs, err)
	} else if c, ok := set.(io.Closer); ok {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the enrichments: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "snowplow-mini check-config: configuration is invalid:\n")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		return 1
	}
	out, err := yaml.Marshal(cfg.redacted())
	if err != nil {
		fmt.Fprintf(stderr, "snowplow-mini check-config: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "# configuration is valid\n%s", out)
	return 0
}

// redacted returns c with the secrets hidden that are plain strings in the stages'
// configurations (passwords in URLs, the S3 secret key), for printing; main's own are of
// type Secret, which prints redacted.
func (c Config) redacted() Config {
	c.Loaders = c.Loaders.Redacted()
	return c
}
