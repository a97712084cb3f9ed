package loaders

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v, want nil", err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		modify func(*Config)
		want   []string // every problem, by its message start
	}{
		{"postgres url", func(c *Config) { c.Sink.URL = "postgres://u@h/db" }, nil},
		{"sqlite path", func(c *Config) { c.Sink.URL = "sqlite:/tmp/x.db" }, nil},
		{"unknown sink", func(c *Config) { c.Sink.URL = "mysql://x" }, []string{"loaders.sink.url: must be"}},
		{"empty sqlite path", func(c *Config) { c.Sink.URL = "sqlite:" }, []string{"loaders.sink.url: \"sqlite:\" must be followed"}},
		{"several problems", func(c *Config) {
			c.Sink.Schema = "Atomic"
			c.Sink.Group = ""
			c.Sink.BadStreams = []string{"bad-1", "bad-1", "enriched"}
			c.Sink.ReadBatchSize = 0
			c.Sink.Retention.MaxRows = -1
			c.Sink.Retention.Interval = 0
		}, []string{
			"loaders.sink.schema: must be",
			"loaders.sink.group: must not be empty",
			"loaders.sink.badStreams[1]: duplicate stream",
			"loaders.sink.badStreams: must not contain the enriched stream",
			"loaders.sink.readBatchSize: must be 1..10000, got 0",
			"loaders.sink.retention.maxRows: must be 0",
			"loaders.sink.retention.interval: must be positive",
		}},
		{"bad output is enriched", func(c *Config) { c.Sink.BadOutputStream = "enriched" }, []string{"loaders.sink.badOutputStream: must not be the enriched stream"}},
		{"s3 problems", func(c *Config) {
			c.S3.URL = "gs://x"
			c.S3.Endpoint = "localhost:9000"
			c.S3.AccessKeyID = "id"
			c.S3.Streams = nil
			c.S3.MaxFileBytes = 0
			c.S3.MaxFileAge = 0
		}, []string{
			"loaders.s3.url: must be s3://",
			"loaders.s3.endpoint: must be an http:// or https:// URL",
			"loaders.s3.accessKeyId: accessKeyId and secretAccessKey must be given together",
			"loaders.s3.streams: must name at least one stream",
			"loaders.s3.maxFileBytes: must be positive",
			"loaders.s3.maxFileAge: must be positive",
		}},
		{"s3 disabled is not checked", func(c *Config) { c.S3.Enabled = false; c.S3.URL = "gs://x" }, nil},
		{"stdout", func(c *Config) { c.Stdout.Format = "csv"; c.Stdout.Stream = "a b" }, []string{
			"loaders.stdout.format: must be",
			"loaders.stdout.stream: must contain only",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Validate() = %q, want %d problems %q", got, len(tc.want), tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want it to start with %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestConfigFiles(t *testing.T) {
	const doc = `
sink:
  url: postgres://loader@db/events
  schema: snowplow
  retention:
    maxRows: 0
    maxAge: 24h
s3:
  url: s3://bucket/prefix
  maxFileAge: 30s
stdout:
  format: json
`
	c := DefaultConfig()
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Sink.URL = "postgres://loader@db/events"
	want.Sink.Schema = "snowplow"
	want.Sink.Retention.MaxRows = 0
	want.Sink.Retention.MaxAge = Duration(24 * time.Hour)
	want.S3.URL = "s3://bucket/prefix"
	want.S3.MaxFileAge = Duration(30 * time.Second)
	want.Stdout.Format = "json"
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("YAML config (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}

	js, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestParseSinkURL(t *testing.T) {
	cases := []struct {
		in     string
		kind   sinkKind
		target string
		err    bool
	}{
		{"sqlite", sinkSQLite, "", false},
		{"sqlite:/data/e.db", sinkSQLite, "/data/e.db", false},
		{"sqlite://rel/e.db", sinkSQLite, "rel/e.db", false},
		{"postgres://u:p@h:5432/db?sslmode=disable", sinkPostgres, "postgres://u:p@h:5432/db?sslmode=disable", false},
		{"postgresql://h/db", sinkPostgres, "postgresql://h/db", false},
		{"", 0, "", true},
		{"file.db", 0, "", true},
	}
	for _, tc := range cases {
		kind, target, err := parseSinkURL(tc.in)
		if (err != nil) != tc.err || kind != tc.kind || target != tc.target {
			t.Errorf("parseSinkURL(%q) = %v, %q, %v; want %v, %q, error %v", tc.in, kind, target, err, tc.kind, tc.target, tc.err)
		}
	}
	_, _, err := parseSinkURL("mysql://user:secret@h/db")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("parseSinkURL error = %v, want one without the password", err)
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sqlite", "sqlite"},
		{"sqlite:/tmp/e.db", "sqlite:/tmp/e.db"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"},
		{"postgres://u:s3cret@h:5432/db", "postgres://u:xxxxx@h:5432/db"},
		{"postgres://u@h/db?password=s3cret&sslmode=disable", "postgres://u@h/db?password=xxxxx&sslmode=disable"},
		{"http://key:s3cret@127.0.0.1:9000", "http://key:xxxxx@127.0.0.1:9000"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	c := DefaultConfig()
	c.Sink.URL = "postgres://u:s3cret@h/db"
	c.S3.AccessKeyID, c.S3.SecretAccessKey = "AKIA", "s3cret"
	c.S3.Endpoint = "http://k:s3cret@127.0.0.1:9000"
	r := c.Redacted()
	if got := fmt.Sprintf("%+v", r); strings.Contains(got, "s3cret") {
		t.Errorf("Redacted() = %s, still holds the secret", got)
	}
	if r.S3.AccessKeyID != "AKIA" || c.S3.SecretAccessKey != "s3cret" {
		t.Errorf("Redacted() hid the key id or changed its receiver: %+v", r.S3)
	}
}
