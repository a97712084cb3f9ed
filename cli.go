package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/snowplow-mini/snowplow-mini/deploy"
)

// envPrefix is prepended to a flag's name (upper-cased, dashes to underscores) to
// give the environment variable that sets the same option.
const envPrefix = "SNOWPLOW_MINI_"

// option is one command-line flag of serve and check-config. Every option can also
// be given as an environment variable and as a key of the config file.
type option struct {
	name    string // flag name, e.g. "data-dir"
	usage   string
	isBool  bool
	set     func(c *Config, v string) error
	current func(c *Config) string // the default shown in --help
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func stringOpt(name, usage string, field func(*Config) *string) option {
	return option{
		name:    name,
		usage:   usage,
		set:     func(c *Config, v string) error { *field(c) = v; return nil },
		current: func(c *Config) string { return *field(c) },
	}
}

func boolOpt(name, usage string, field func(*Config) *bool) option {
	return option{
		name:   name,
		usage:  usage,
		isBool: true,
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			*field(c) = b
			return nil
		},
		current: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

// outputOpt is --output-tsv or --output-json: both choose the stdout loader's
// format, so at most one of them may be on.
func outputOpt(name, format, usage string) option {
	return option{
		name:   name,
		usage:  usage,
		isBool: true,
		set: func(c *Config, v string) error {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false, got %q", v)
			}
			switch {
			case on && c.Loaders.Stdout.Format != "" && c.Loaders.Stdout.Format != format:
				return fmt.Errorf("cannot be combined with --output-%s: stdout carries one format", c.Loaders.Stdout.Format)
			case on:
				c.Loaders.Stdout.Format = format
			case c.Loaders.Stdout.Format == format:
				c.Loaders.Stdout.Format = ""
			}
			return nil
		},
		current: func(c *Config) string { return strconv.FormatBool(c.Loaders.Stdout.Format == format) },
	}
}

// listOpt is a comma-separated list.
func listOpt(name, usage string, field func(*Config) *[]string) option {
	return option{
		name:  name,
		usage: usage,
		set: func(c *Config, v string) error {
			var list []string
			for _, item := range strings.Split(v, ",") {
				if item = strings.TrimSpace(item); item != "" {
					list = append(list, item)
				}
			}
			*field(c) = list
			return nil
		},
		current: func(c *Config) string { return strings.Join(*field(c), ",") },
	}
}

func durationOpt(name, usage string, field func(*Config) *time.Duration) option {
	return option{
		name:  name,
		usage: usage,
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("want a duration such as 30s, got %q", v)
			}
			*field(c) = d
			return nil
		},
		current: func(c *Config) string { return field(c).String() },
	}
}

// options lists the flags of serve and check-config. The config file can set every
// option of every package; flags cover what people change day to day.
func options() []option {
	return []option{
		stringOpt("addr", "address to listen on (host:port; port 0 picks a free port)", func(c *Config) *string { return &c.Addr }),
		stringOpt("data-dir", "directory for the event database and S3-style files", func(c *Config) *string { return &c.DataDir }),
		stringOpt("sink", `event store: "sqlite" (a file in the data dir) or a postgres:// URL`, func(c *Config) *string { return &c.Loaders.Sink.URL }),
		stringOpt("s3", "write raw, enriched and bad records as S3-loader files to s3://bucket/prefix (default: a folder in the data dir)", func(c *Config) *string { return &c.Loaders.S3.URL }),
		stringOpt("s3-endpoint", "S3-compatible endpoint URL for --s3 (default: $AWS_ENDPOINT_URL, else AWS)", func(c *Config) *string { return &c.Loaders.S3.Endpoint }),
		stringOpt("resolver", "Iglu resolver.json (Snowplow's format); the embedded schemas are always available", func(c *Config) *string { return &c.Iglu.ResolverFile }),
		stringOpt("schemas", "local Iglu schema folder (static-repo layout: schemas/{vendor}/{name}/jsonschema/{version})", func(c *Config) *string { return &c.Iglu.SchemasDir }),
		{
			name:    "iglu-super-api-key",
			usage:   "super API key (a UUID) of the Iglu Server API: publishes schemas and creates keys; without one the API is read-only",
			set:     func(c *Config, v string) error { c.Iglu.SuperAPIKey = Secret(v); return nil },
			current: func(c *Config) string { return "" },
		},
		boolOpt("iglu-patches-allowed", "let the Iglu Server API replace and delete published schema versions", func(c *Config) *bool { return &c.Iglu.PatchesAllowed }),
		stringOpt("enrichments", "folder of Snowplow enrichment configs (enrichments/*.json); default: campaign attribution, event fingerprint, referer parser, UA parser", func(c *Config) *string { return &c.Enrichments.Dir }),
		boolOpt("no-default-enrichments", "run no enrichment when --enrichments is not given", func(c *Config) *bool { return &c.Enrichments.DisableDefaults }),
		outputOpt("output-tsv", "tsv", "also print every good event as an enriched TSV line on stdout (logs stay on stderr)"),
		outputOpt("output-json", "json", "also print every good event as an Analytics-SDK JSON line on stdout (logs stay on stderr)"),
		stringOpt("log-level", "debug, info, warn or error", func(c *Config) *string { return &c.Log.Level }),
		stringOpt("log-format", "text or json (logs go to stderr)", func(c *Config) *string { return &c.Log.Format }),
		boolOpt("pprof", "serve Go's profiler at /debug/pprof/ (for performance work)", func(c *Config) *bool { return &c.Debug.Pprof }),
		boolOpt("durable", "keep the streams on disk in the data dir and answer 2xx only once an event is there (false: in memory, faster, lost by a crash)", func(c *Config) *bool { return &c.Streams.Durable }),
		stringOpt("api-key", "require this key (X-API-Key or apikey header) on /micro/* and /debug/pprof (prefer the environment variable: flags show in ps); the Iglu API has its own keys (--iglu-super-api-key)", func(c *Config) *string { return (*string)(&c.HTTP.APIKey) }),
		listOpt("allowed-origins", `web origins whose pages may call /micro/* (CORS), comma-separated: "https://app.test:8443", "http://localhost:*" (any port), or "*" for all`, func(c *Config) *[]string { return &c.Web.AllowedOrigins }),
		listOpt("allowed-hosts", "host names, besides localhost and IP addresses, that requests may name while bound to a loopback address (DNS-rebinding protection), comma-separated", func(c *Config) *[]string { return &c.HTTP.AllowedHosts }),
		durationOpt("shutdown-timeout", "how long a shutdown may take to drain the pipeline", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		stringOpt("streams-backend", `where the streams are: "memory" (in this process) or "kinesis" (Amazon Kinesis + DynamoDB leases; always for run)`, func(c *Config) *string { return &c.Streams.Backend }),
		stringOpt("kinesis-prefix", "prefix of the Kinesis stream names (<prefix>-raw-stream, ...) and lease tables (<prefix>-mini-<group>)", func(c *Config) *string { return &c.Kinesis.Prefix }),
		stringOpt("region", "AWS region of the streams and lease tables (default: $AWS_REGION or the shared config)", func(c *Config) *string { return &c.Kinesis.Region }),
		stringOpt("endpoint-url", "Kinesis and DynamoDB endpoint URL, e.g. local emulators (default: $AWS_ENDPOINT_URL_KINESIS, $AWS_ENDPOINT_URL_DYNAMODB, else AWS)", func(c *Config) *string { return &c.Kinesis.EndpointURL }),
		stringOpt("kinesis-endpoint", "Kinesis endpoint URL only (overrides --endpoint-url)", func(c *Config) *string { return &c.Kinesis.KinesisEndpoint }),
		stringOpt("dynamodb-endpoint", "DynamoDB endpoint URL only (overrides --endpoint-url)", func(c *Config) *string { return &c.Kinesis.DynamoDBEndpoint }),
		stringOpt("app-name", "KCL application name (DynamoDB lease table) of the consumer that run starts (default <prefix>-mini-<group>)", func(c *Config) *string { return &c.Kinesis.AppName }),
		boolOpt("create-missing", "create missing Kinesis streams and lease tables instead of failing at start", func(c *Config) *bool { return &c.Kinesis.CreateMissing }),
		intOpt("kinesis-shards", "shards of the Kinesis streams --create-missing creates", func(c *Config) *int { return &c.Kinesis.Shards }),
		durationOpt("lease-duration", "how long a shard lease lasts without renewal before another worker may take it", func(c *Config) *time.Duration { return &c.Kinesis.LeaseDuration }),
		durationOpt("take-interval", "how often a worker looks for shard leases to take (default lease duration / 2)", func(c *Config) *time.Duration { return &c.Kinesis.TakeInterval }),
	}
}

func intOpt(name, usage string, field func(*Config) *int) option {
	return option{
		name:  name,
		usage: usage,
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			*field(c) = n
			return nil
		},
		current: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// loadConfig builds the configuration of serve and check-config with the precedence
// flags > SNOWPLOW_MINI_* environment > config file > defaults. It returns
// flag.ErrHelp after printing help when asked to.
func loadConfig(cmd string, args []string, getenv func(string) string, helpOut io.Writer) (Config, error) {
	opts := options()
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	raw := make(map[string]*string, len(opts))
	bools := make(map[string]*bool)
	for _, o := range opts {
		if o.isBool {
			bools[o.name] = fs.Bool(o.name, false, o.usage)
		} else {
			raw[o.name] = fs.String(o.name, "", o.usage)
		}
	}
	configFile := fs.String("config", "", "YAML (or JSON) config file; unknown keys are an error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(helpOut, cmd, fs)
			return Config{}, flag.ErrHelp
		}
		return Config{}, fmt.Errorf("%w (see %s --help)", err, cmd)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q (see %s --help)", fs.Arg(0), cmd)
	}
	setOnCLI := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setOnCLI[f.Name] = true })

	cfg := DefaultConfig()
	path := *configFile
	if !setOnCLI["config"] {
		path = getenv(envName("config"))
	}
	if path != "" {
		if err := readConfigFile(path, &cfg); err != nil {
			return Config{}, err
		}
	}
	var errs []error
	for _, o := range opts {
		if v := getenv(envName(o.name)); v != "" && !setOnCLI[o.name] {
			if err := o.set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(o.name), err))
			}
		}
		if setOnCLI[o.name] {
			v := ""
			if o.isBool {
				v = strconv.FormatBool(*bools[o.name])
			} else {
				v = *raw[o.name]
			}
			if err := o.set(&cfg, v); err != nil {
				errs = append(errs, fmt.Errorf("--%s: %w", o.name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// readConfigFile decodes a YAML or JSON config file over cfg. Keys absent from the file
// keep their defaults; unknown keys are an error naming the key and line.
func readConfigFile(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

func printUsage(w io.Writer, cmd string, fs *flag.FlagSet) {
	def := DefaultConfig()
	fmt.Fprintf(w, "Usage: snowplow-mini %s [flags]\n\n%s\n\nFlags (each also as an environment variable):\n", cmd, commandHelp[cmd])
	opts := options()
	names := make([]string, 0, len(opts)+1)
	byName := map[string]option{}
	for _, o := range opts {
		names = append(names, o.name)
		byName[o.name] = o
	}
	names = append(names, "config")
	slices.Sort(names)
	for _, n := range names {
		f := fs.Lookup(n)
		o, ok := byName[n]
		arg := " value"
		if ok && o.isBool {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s%s  (%s)\n      %s", n, arg, envName(n), f.Usage)
		if ok {
			if d := o.current(&def); d != "" && d != "false" {
				fmt.Fprintf(w, " (default %q)", d)
			}
		}
		fmt.Fprintln(w)
	}
}

var commandHelp = map[string]string{
	"serve": `Runs the whole pipeline in this process: collector, raw/enriched/bad streams, enrich,
the event store, S3-style files and the Snowplow Micro test API, all on one port.

Example:
  snowplow-mini serve --addr localhost:9090 --data-dir ./snowplow-mini-data
  curl 'http://localhost:9090/i?e=pv&p=web&tv=curl&url=https%3A%2F%2Fexample.com%2F'
  curl http://localhost:9090/micro/all`,
	"run": `Runs one stage of the pipeline as a process of its own, over Amazon Kinesis, so that
each stage scales out on its own: collector, enrich, loader (the event store in PostgreSQL
or SQLite) or s3-loader. Consumers share the shards of a stream through leases in a
DynamoDB table per consumer (KCL 2.x format). Streams are named <prefix>-raw-stream,
<prefix>-enriched-stream, <prefix>-bad-1-stream and <prefix>-bad-2-stream, as in
Snowplow's AWS quick start. Credentials come from the AWS SDK's default chain. Each
process serves /health and /metrics on --addr.

Usage: snowplow-mini run collector|enrich|loader|s3-loader [flags]

Example:
  snowplow-mini run collector --region eu-west-1 --kinesis-prefix sp --addr :8080
  snowplow-mini run enrich --region eu-west-1 --kinesis-prefix sp --addr :8081
  snowplow-mini run loader --sink postgres://user@db/snowplow --region eu-west-1 --addr :8082
  # locally, against kinesalite and dynalite (npm ci --prefix testdata/emulators):
  AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
    snowplow-mini run enrich --kinesis-endpoint http://127.0.0.1:4567 \
    --dynamodb-endpoint http://127.0.0.1:4569 --create-missing --kinesis-shards 4`,
	"check-config": `Loads and validates the configuration exactly as serve would (flags, environment,
config file, resolver.json, enrichment configs), prints it as YAML and exits: 0 when valid,
1 with every problem listed otherwise.

Example:
  snowplow-mini check-config --config snowplow-mini.yaml --enrichments ./enrichments`,
}

// runDeploy runs `snowplow-mini deploy ...`. The local setup it carries to AWS is read
// with serve's own options, so the same flags, environment and config file give the same
// enrichments, resolver and schemas.
func runDeploy(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return deploy.Command(ctx, args, deploy.Env{
		Getenv:  getenv,
		Stdin:   os.Stdin,
		Stdout:  stdout,
		Stderr:  stderr,
		Version: version,
		LoadLocal: func(serveArgs []string) (deploy.Local, error) {
			cfg, err := loadConfig("serve", serveArgs, getenv, io.Discard)
			if err != nil {
				return deploy.Local{}, err
			}
			return deploy.Local{
				EnrichmentsDir:     cfg.Enrichments.Dir,
				DisableDefaults:    cfg.Enrichments.DisableDefaults,
				DisableEnrichments: cfg.Enrichments.Disable,
				ResolverFile:       cfg.Iglu.ResolverFile,
				SchemasDir:         cfg.Iglu.SchemasDir,
			}, nil
		},
		PushSchemas: func(ctx context.Context, o deploy.PushOptions) error {
			// The key goes through the environment of the command, never its arguments.
			env := func(k string) string {
				if k == "SNOWPLOW_MINI_IGLU_API_KEY" {
					return o.APIKey
				}
				return ""
			}
			args := []string{"push", o.Dir, "--server", o.Server}
			if o.Public {
				args = append(args, "--public")
			}
			if o.RetryFor != 0 {
				args = append(args, "--retry-for", o.RetryFor.String())
			}
			if code := schemasCmd(ctx, args, env, stdout, stderr); code != 0 {
				return fmt.Errorf("snowplow-mini schemas push exited with status %d", code)
			}
			return nil
		},
	})
}
