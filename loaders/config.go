package loaders

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/snowplow-mini/snowplow-mini/internal/config"
	"github.com/snowplow-mini/snowplow-mini/streams"
)

// Config configures the three loaders. Start from DefaultConfig; the zero value is not
// valid. Validate reports problems with key paths under "loaders.".
type Config struct {
	// Sink is the event store (SQLite or PostgreSQL).
	Sink SinkConfig `yaml:"sink" json:"sink"`
	// S3 is the S3-style file loader.
	S3 S3Config `yaml:"s3" json:"s3"`
	// Stdout prints good events on standard output.
	Stdout StdoutConfig `yaml:"stdout" json:"stdout"`
}

// SinkConfig configures the event store (NewSink).
type SinkConfig struct {
	// URL selects the database: "sqlite" for events.db in the data directory,
	// "sqlite:PATH" for another SQLite file, or a postgres:// (postgresql://) URL as pgx
	// reads it. Default "sqlite".
	URL string `yaml:"url" json:"url"`

	// Schema is the PostgreSQL schema of the tables, created when missing (the
	// Postgres loader's default). Ignored for SQLite, whose tables are in the main
	// database. Default "atomic".
	Schema string `yaml:"schema" json:"schema"`

	// Group is the consumer group on every input stream. Default "loader".
	Group string `yaml:"group" json:"group"`

	// EnrichedStream is the stream of enriched TSV events. Default "enriched".
	EnrichedStream string `yaml:"enrichedStream" json:"enrichedStream"`

	// BadStreams are the streams of bad rows stored in the bad_rows table. Default
	// ["bad-1", "bad-2"].
	BadStreams []string `yaml:"badStreams" json:"badStreams"`

	// BadOutputStream receives the sink's own bad rows (loader_parsing_error,
	// loader_runtime_error). Default "bad-2".
	BadOutputStream string `yaml:"badOutputStream" json:"badOutputStream"`

	// ReadBatchSize is the most records read from one shard at a time. Default 1000
	// (1..10000).
	ReadBatchSize int `yaml:"readBatchSize" json:"readBatchSize"`

	// DropReprocessed drops an enriched event that is the same collected event
	// enriched again: equal to one loaded within the last hour in every field but
	// etl_tstamp. That happens when an enrich worker sharing a Kinesis stream dies
	// between writing a batch and checkpointing it: the worker that takes its shard
	// over enriches that batch again. A 16-byte digest per event is kept for an hour
	// in the event_digests table. Events a tracker sent twice differ in
	// collector_tstamp and are both kept. Always on when the streams are on Kinesis.
	DropReprocessed bool `yaml:"dropReprocessed" json:"dropReprocessed"`

	// MaxTransactionRows bounds the rows one transaction writes: batches from several
	// shards and streams waiting at the same time are written together up to this
	// many. Default 5000.
	MaxTransactionRows int `yaml:"maxTransactionRows" json:"maxTransactionRows"`

	// Retention bounds what the events and bad_rows tables keep.
	Retention RetentionConfig `yaml:"retention" json:"retention"`
}

// RetentionConfig bounds the events and bad_rows tables; each table is pruned oldest
// first (by load order) in the background.
type RetentionConfig struct {
	// MaxRows is the most rows each table keeps. Default 1000000; 0 = unlimited.
	MaxRows int64 `yaml:"maxRows" json:"maxRows"`
	// MaxAge drops rows loaded longer ago than this. Default 168h (7 days); 0 =
	// unlimited.
	MaxAge Duration `yaml:"maxAge" json:"maxAge"`
	// Interval is how often the bounds are enforced. Default 10s.
	Interval Duration `yaml:"interval" json:"interval"`
	// BatchSize is the most rows one pruning transaction deletes, so that pruning
	// never holds the writer for long. Default 2000.
	BatchSize int `yaml:"batchSize" json:"batchSize"`
}

// S3Config configures the S3-style loader (NewS3Loader).
type S3Config struct {
	// Enabled turns the loader on. Default true.
	Enabled bool `yaml:"enabled" json:"enabled"`

	// URL is where files go: "" for the folder s3 in the data directory, a folder path
	// (or file:///path), or s3://bucket/prefix for an S3-compatible object store.
	// Default "".
	URL string `yaml:"url" json:"url"`

	// Endpoint is the S3-compatible endpoint for an s3:// URL, e.g.
	// http://127.0.0.1:9000. Default "": $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL,
	// else AWS S3.
	Endpoint string `yaml:"endpoint" json:"endpoint"`

	// Region of the bucket. Default "": $AWS_REGION, else $AWS_DEFAULT_REGION, else
	// us-east-1.
	Region string `yaml:"region" json:"region"`

	// AccessKeyID and SecretAccessKey are static credentials. Default "": the
	// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) environment,
	// else the shared credentials file.
	AccessKeyID     string `yaml:"accessKeyId" json:"accessKeyId"`
	SecretAccessKey string `yaml:"secretAccessKey" json:"secretAccessKey"`

	// PathStyle addresses the bucket in the URL path (http://host/bucket/key) rather
	// than as a virtual host; most self-hosted S3 servers need it. Default false: path
	// style for endpoints other than AWS, virtual-host style for AWS.
	PathStyle bool `yaml:"pathStyle" json:"pathStyle"`

	// DisableContentSHA256 sends uploads with an unsigned payload instead of a SHA-256
	// of the body, for servers that do not verify payload hashes. Default false.
	DisableContentSHA256 bool `yaml:"disableContentSha256" json:"disableContentSha256"`

	// Streams are the streams written, each to its own folder. Default ["raw",
	// "enriched", "bad-1", "bad-2"].
	Streams []string `yaml:"streams" json:"streams"`

	// Group is the consumer group on every stream. Default "s3-loader".
	Group string `yaml:"group" json:"group"`

	// MaxFileBytes rotates a file once this many bytes of records (before compression)
	// went into it. Default 8 MiB. The records of an open file are not checkpointed,
	// so the streams must have room for a whole file: serve refuses a MaxFileBytes over
	// half of streams.maxBytes.
	MaxFileBytes int64 `yaml:"maxFileBytes" json:"maxFileBytes"`

	// MaxFileAge rotates a file this long after its first record. Default 1m.
	MaxFileAge Duration `yaml:"maxFileAge" json:"maxFileAge"`

	// ReadBatchSize is the most records read from one shard at a time. Default 1000
	// (1..10000).
	ReadBatchSize int `yaml:"readBatchSize" json:"readBatchSize"`
}

// StdoutConfig configures the stdout printer (NewStdoutLoader).
type StdoutConfig struct {
	// Format is "tsv" (enriched TSV lines), "json" (Analytics-SDK JSON lines) or ""
	// (off). Default "".
	Format string `yaml:"format" json:"format"`
	// Stream is the stream of enriched events printed. Default "enriched".
	Stream string `yaml:"stream" json:"stream"`
	// Group is the consumer group. Default "stdout".
	Group string `yaml:"group" json:"group"`
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Sink:   DefaultSinkConfig(),
		S3:     DefaultS3Config(),
		Stdout: DefaultStdoutConfig(),
	}
}

// DefaultSinkConfig returns the documented defaults of SinkConfig.
func DefaultSinkConfig() SinkConfig {
	return SinkConfig{
		URL:                "sqlite",
		Schema:             "atomic",
		Group:              "loader",
		EnrichedStream:     streams.Enriched,
		BadStreams:         []string{streams.Bad1, streams.Bad2},
		BadOutputStream:    streams.Bad2,
		ReadBatchSize:      1000,
		MaxTransactionRows: 5000,
		Retention: RetentionConfig{
			MaxRows:   1_000_000,
			MaxAge:    Duration(7 * 24 * time.Hour),
			Interval:  Duration(10 * time.Second),
			BatchSize: 2000,
		},
	}
}

// DefaultS3Config returns the documented defaults of S3Config.
func DefaultS3Config() S3Config {
	return S3Config{
		Enabled:       true,
		Streams:       []string{streams.Raw, streams.Enriched, streams.Bad1, streams.Bad2},
		Group:         "s3-loader",
		MaxFileBytes:  8 << 20,
		MaxFileAge:    Duration(time.Minute),
		ReadBatchSize: 1000,
	}
}

// DefaultStdoutConfig returns the documented defaults of StdoutConfig.
func DefaultStdoutConfig() StdoutConfig {
	return StdoutConfig{Stream: streams.Enriched, Group: "stdout"}
}

// Validate reports every problem of c, each with its key path.
func (c Config) Validate() error {
	return errors.Join(c.Sink.Validate(), c.S3.Validate(), c.Stdout.Validate())
}

// problems collects validation errors under a key prefix.
type problems struct {
	prefix string
	errs   []error
}

func (p *problems) add(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s.%s: %s", p.prefix, key, fmt.Sprintf(format, args...)))
}

func (p *problems) streamName(key, name string) {
	if msg := checkStreamName(name); msg != "" {
		p.add(key, "%s, got %q", msg, name)
	}
}

func (p *problems) streamNames(key string, names []string) {
	if len(names) == 0 {
		p.add(key, "must name at least one stream")
	}
	for i, n := range names {
		p.streamName(fmt.Sprintf("%s[%d]", key, i), n)
		if slices.Index(names, n) != i {
			p.add(fmt.Sprintf("%s[%d]", key, i), "duplicate stream %q", n)
		}
	}
}

func (p *problems) readBatch(key string, n int) {
	if n < 1 || n > streams.MaxRecordsPerRead {
		p.add(key, "must be 1..%d, got %d", streams.MaxRecordsPerRead, n)
	}
}

func checkStreamName(name string) string {
	if name == "" || len(name) > 128 {
		return "must be a stream name of 1..128 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return "must contain only a-z, A-Z, 0-9, '_', '-' and '.'"
		}
	}
	return ""
}

// Validate reports every problem of c, each with its key path (loaders.sink.…).
func (c SinkConfig) Validate() error {
	p := problems{prefix: "loaders.sink"}
	if _, _, err := parseSinkURL(c.URL); err != nil {
		p.add("url", "%v", err)
	}
	if !validIdentifier(c.Schema) {
		p.add("schema", "must be 1..63 characters of a-z, 0-9 and _, starting with a letter or _, got %q", c.Schema)
	}
	if c.Group == "" {
		p.add("group", "must not be empty")
	}
	p.streamName("enrichedStream", c.EnrichedStream)
	p.streamNames("badStreams", c.BadStreams)
	if slices.Contains(c.BadStreams, c.EnrichedStream) {
		p.add("badStreams", "must not contain the enriched stream %q", c.EnrichedStream)
	}
	p.streamName("badOutputStream", c.BadOutputStream)
	if c.BadOutputStream == c.EnrichedStream {
		p.add("badOutputStream", "must not be the enriched stream %q", c.EnrichedStream)
	}
	p.readBatch("readBatchSize", c.ReadBatchSize)
	if c.MaxTransactionRows < 1 {
		p.add("maxTransactionRows", "must be at least 1, got %d", c.MaxTransactionRows)
	}
	r := c.Retention
	if r.MaxRows < 0 {
		p.add("retention.maxRows", "must be 0 (unlimited) or more, got %d", r.MaxRows)
	}
	if r.MaxAge < 0 {
		p.add("retention.maxAge", "must be 0 (unlimited) or more, got %s", r.MaxAge)
	}
	if r.Interval <= 0 {
		p.add("retention.interval", "must be positive, got %s", r.Interval)
	}
	if r.BatchSize < 1 {
		p.add("retention.batchSize", "must be at least 1, got %d", r.BatchSize)
	}
	return errors.Join(p.errs...)
}

// sinkKind is the database behind a sink URL.
type sinkKind int

const (
	sinkSQLite sinkKind = iota
	sinkPostgres
)

// parseSinkURL returns the kind of database and, for SQLite, the file path ("" = the
// default file in the data directory) or, for PostgreSQL, the connection URL.
func parseSinkURL(u string) (sinkKind, string, error) {
	switch {
	case u == "sqlite":
		return sinkSQLite, "", nil
	case strings.HasPrefix(u, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
		if path == "" {
			return 0, "", errors.New(`"sqlite:" must be followed by a file path`)
		}
		return sinkSQLite, path, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		if _, err := url.Parse(u); err != nil {
			return 0, "", fmt.Errorf("invalid PostgreSQL URL: %w", err)
		}
		return sinkPostgres, u, nil
	}
	return 0, "", fmt.Errorf(`must be "sqlite", "sqlite:PATH" or a postgres:// URL, got %q`, RedactURL(u))
}

// RedactURL hides the password of a URL (a PostgreSQL sink URL, an S3 endpoint) for
// error messages, logs and printed configurations: the user-info password and a
// "password" query parameter (which pgx also reads) become "xxxxx". Text that does not
// parse as a URL, or holds no password, is returned as it is.
func RedactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	changed := false
	if _, ok := pu.User.Password(); ok {
		pu.User = url.UserPassword(pu.User.Username(), "xxxxx")
		changed = true
	}
	if q := pu.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		pu.RawQuery = q.Encode()
		changed = true
	}
	if !changed {
		return u
	}
	return pu.String()
}

// Redacted returns c with its secrets hidden, for printing (check-config): passwords in
// the sink URL and the S3 URLs, and the S3 secret access key.
func (c Config) Redacted() Config {
	c.Sink.URL = RedactURL(c.Sink.URL)
	c.S3.URL = RedactURL(c.S3.URL)
	c.S3.Endpoint = RedactURL(c.S3.Endpoint)
	if c.S3.SecretAccessKey != "" {
		c.S3.SecretAccessKey = "<redacted>"
	}
	return c
}

// validIdentifier reports whether s can be used unquoted as a PostgreSQL identifier
// (lower case, at most 63 bytes).
func validIdentifier(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Validate reports every problem of c, each with its key path (loaders.s3.…).
func (c S3Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	p := problems{prefix: "loaders.s3"}
	if _, err := parseS3URL(c.URL); err != nil {
		p.add("url", "%v", err)
	}
	if c.Endpoint != "" {
		if u, err := url.Parse(c.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("endpoint", "must be an http:// or https:// URL, got %q", c.Endpoint)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		p.add("accessKeyId", "accessKeyId and secretAccessKey must be given together")
	}
	p.streamNames("streams", c.Streams)
	if c.Group == "" {
		p.add("group", "must not be empty")
	}
	if c.MaxFileBytes < 1 {
		p.add("maxFileBytes", "must be positive, got %d", c.MaxFileBytes)
	}
	if c.MaxFileAge <= 0 {
		p.add("maxFileAge", "must be positive, got %s", c.MaxFileAge)
	}
	p.readBatch("readBatchSize", c.ReadBatchSize)
	return errors.Join(p.errs...)
}

// Validate reports every problem of c, each with its key path (loaders.stdout.…).
func (c StdoutConfig) Validate() error {
	p := problems{prefix: "loaders.stdout"}
	switch c.Format {
	case "":
		return nil
	case "tsv", "json":
	default:
		p.add("format", `must be "tsv", "json" or "" (off), got %q`, c.Format)
	}
	p.streamName("stream", c.Stream)
	if c.Group == "" {
		p.add("group", "must not be empty")
	}
	return errors.Join(p.errs...)
}

// Duration is a time.Duration written in configuration files as a Go duration string
// ("1s", "8760h"); see config.Duration.
type Duration = config.Duration
