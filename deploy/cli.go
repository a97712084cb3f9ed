package deploy

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Env is what the deploy command needs from the process.
type Env struct {
	Getenv  func(string) string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// LoadLocal builds the local setup from serve's own flags (--config, --enrichments,
	// --resolver, --schemas, --no-default-enrichments), with serve's precedence of
	// flags, SNOWPLOW_MINI_* environment and config file.
	LoadLocal func(serveArgs []string) (Local, error)
	// PushSchemas is `snowplow-mini schemas push`.
	PushSchemas Pusher
}

const usage = `Usage: snowplow-mini deploy aws <command> [flags]

Carries the local setup (schemas, enrichments/*.json, resolver.json) to AWS as Snowplow's
open-source quick start: Terraform stacks of Snowplow's modules at pinned versions.

Commands:
  init          write the deploy folder (default deploy/aws): iglu_server/ and pipeline/
                stacks, tfvars, generated secrets (secrets.auto.tfvars, mode 0600), README
  check         check the folder offline: files parse, references resolve, module
                arguments match the pinned modules, values have the right types
  plan          terraform init + plan of each stack
  apply         iglu_server, wait for it, push the schemas, then pipeline
  destroy       pipeline, then iglu_server; says what is left to remove by hand
  push-schemas  lint the schemas and push them to an Iglu Server (any, with --iglu-url)

Example:
  snowplow-mini deploy aws init --enrichments ./enrichments --schemas ./iglu \
      --vpc-id vpc-0abc --subnet-ids subnet-1,subnet-2 \
      --ssh-public-key-file ~/.ssh/id_ed25519.pub --target postgres --accept-license
  snowplow-mini deploy aws check
  snowplow-mini deploy aws apply

Run "snowplow-mini deploy aws <command> --help" for a command's flags.
`

// stringList is a repeatable flag that also splits on commas.
type stringList struct {
	vals []string
	set  bool
}

func (s *stringList) String() string { return strings.Join(s.vals, ",") }
func (s *stringList) Set(v string) error {
	s.set = true
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.vals = append(s.vals, p)
		}
	}
	return nil
}

// optString is a string flag that records whether it was given.
type optString struct{ p *string }

func (o *optString) String() string {
	if o == nil || o.p == nil {
		return ""
	}
	return *o.p
}
func (o *optString) Set(v string) error { o.p = &v; return nil }

// Command runs `snowplow-mini deploy <args>` and returns the exit code.
func Command(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.Stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] != "aws" {
		fmt.Fprintf(env.Stderr, "snowplow-mini deploy: unknown target %q: only aws is supported\n\n%s", args[0], usage)
		return 2
	}
	if len(args) < 2 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	cmd, rest := args[1], args[2:]
	var err error
	switch cmd {
	case "init":
		err = cmdInit(rest, env)
	case "check":
		err = cmdCheck(rest, env)
	case "plan", "apply", "destroy":
		err = cmdTerraform(ctx, cmd, rest, env)
	case "push-schemas":
		err = cmdPush(ctx, rest, env)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "snowplow-mini deploy aws: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(env.Stderr, "snowplow-mini deploy aws %s: %v\n", cmd, err)
		return 2
	default:
		fmt.Fprintf(env.Stderr, "snowplow-mini deploy aws %s: %v\n", cmd, err)
		return 1
	}
}

var errUsage = errors.New("usage")

func newFlags(cmd, help string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("deploy aws "+cmd, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stdout, "Usage: snowplow-mini deploy aws %s [flags]\n\n%s\n\nFlags:\n", cmd, help)
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(env.Stderr)
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	return nil
}

const defaultOut, defaultHybridOut = "deploy/aws", "deploy/aws-hybrid"

func cmdInit(args []string, env Env) error {
	fs := newFlags("init", `Writes the deploy folder from the local setup: the enrichments, resolver and schemas
serve would use (same flags, SNOWPLOW_MINI_* variables and config file). Re-running it
re-renders the Terraform and keeps the values you edited in terraform.tfvars; flags given
on the run win. Secrets are generated once and kept.

Example:
  snowplow-mini deploy aws init --enrichments ./enrichments --schemas ./iglu --target postgres \
      --vpc-id vpc-0abc --subnet-ids subnet-1,subnet-2 --ssh-public-key-file ~/.ssh/id_ed25519.pub
  snowplow-mini deploy aws init --hybrid --prefix sp --region eu-west-1`, env)
	out := fs.String("out", "", "the deploy folder (default "+defaultOut+", with --hybrid "+defaultHybridOut+")")
	hybrid := fs.Bool("hybrid", false, "render only the four Kinesis streams and the S3 bucket, for snowplow-mini run <stage>")
	var targets, subnets, allow stringList
	fs.Var(&targets, "target", "a destination besides S3: postgres, snowflake-streaming (repeat or comma-separate)")
	fs.Var(&subnets, "subnet-ids", "public subnet ids, comma-separated")
	fs.Var(&allow, "ssh-ip-allowlist", "CIDR ranges allowed to SSH to the servers, comma-separated (default none)")
	var prefix, region, vpc, sshKey, bucket, sfKey optString
	fs.Var(&prefix, "prefix", `prefix of every resource name and of the stream names (default "sp")`)
	fs.Var(&region, "region", `AWS region (default "eu-west-1")`)
	fs.Var(&vpc, "vpc-id", "the VPC to deploy into")
	fs.Var(&sshKey, "ssh-public-key-file", "the SSH public key of the servers (e.g. ~/.ssh/id_ed25519.pub)")
	fs.Var(&bucket, "bucket", "S3 bucket name (default {prefix}-snowplow-<random>)")
	fs.Var(&sfKey, "snowflake-private-key-file", "the Snowflake loader user's private key (PEM), stored in secrets.auto.tfvars")
	var sfURL, sfUser, sfDB, sfSchema optString
	fs.Var(&sfURL, "snowflake-account-url", "Snowflake account URL (https://<account>.snowflakecomputing.com)")
	fs.Var(&sfUser, "snowflake-user", "the Snowflake loader user")
	fs.Var(&sfDB, "snowflake-database", "the Snowflake database")
	fs.Var(&sfSchema, "snowflake-schema", "the Snowflake schema")
	accept := fs.Bool("accept-license", false, "you accept the Snowplow Limited Use License (https://docs.snowplow.io/limited-use-license-1.0/)")
	noTelemetry := fs.Bool("no-telemetry", false, "turn off the modules' telemetry to Snowplow Analytics Ltd")
	patches := fs.Bool("iglu-patches-allowed", true, "let the Iglu Server replace an existing schema version (re-pushing needs it)")
	var serveArgs []string
	for _, name := range []string{"config", "enrichments", "resolver", "schemas"} {
		fs.Func(name, "as for serve: "+map[string]string{
			"config": "snowplow-mini config file", "enrichments": "folder of enrichment configs",
			"resolver": "Iglu resolver.json", "schemas": "local Iglu schema folder",
		}[name], func(v string) error { serveArgs = append(serveArgs, "--"+name, v); return nil })
	}
	fs.BoolFunc("no-default-enrichments", "as for serve: no enrichment when --enrichments is not given", func(v string) error {
		serveArgs = append(serveArgs, "--no-default-enrichments="+v)
		return nil
	})
	if err := parse(fs, args); err != nil {
		return err
	}
	o := InitOptions{
		Out: *out, Hybrid: *hybrid, Version: env.Version,
		Prefix: prefix.p, Region: region.p, VPCID: vpc.p, SSHPublicKeyFile: sshKey.p, BucketName: bucket.p,
		SnowflakePrivateKeyFile: sfKey.p,
		Snowflake:               SnowflakeSettings{AccountURL: sfURL.p, User: sfUser.p, Database: sfDB.p, Schema: sfSchema.p}, AcceptLicense: *accept, NoTelemetry: *noTelemetry, NoIgluPatches: !*patches,
	}
	if subnets.set {
		o.SubnetIDs = subnets.vals
	}
	if allow.set {
		o.SSHIPAllowlist = allow.vals
	}
	if o.Out == "" {
		o.Out = defaultOut
		if o.Hybrid {
			o.Out = defaultHybridOut
		}
	}
	for _, t := range targets.vals {
		switch t {
		case "s3":
		case "postgres":
			o.Targets.Postgres = true
		case "snowflake-streaming":
			o.Targets.SnowflakeStreaming = true
		default:
			return fmt.Errorf("%w: --target %q: want postgres or snowflake-streaming (S3 is always on)", errUsage, t)
		}
	}
	if o.Hybrid && len(targets.vals) > 0 {
		return fmt.Errorf("%w: --target does not apply to --hybrid, which has streams and a bucket only", errUsage)
	}
	if !o.Hybrid && env.LoadLocal != nil {
		l, err := env.LoadLocal(serveArgs)
		if err != nil {
			return err
		}
		o.Local = l
	}
	rep, err := Init(o)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Wrote %s (%d files).\n", o.Out, len(rep.Files))
	for _, d := range rep.Dropped {
		fmt.Fprintf(env.Stdout, "Removed %s: no such variable in this rendering.\n", d)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(env.Stdout, "\n%s\n", n)
	}
	ps, err := Check(o.Out)
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		fmt.Fprintf(env.Stdout, "\nTo fill in before deploying (deploy aws check lists these again):\n")
		for _, p := range ps {
			fmt.Fprintf(env.Stdout, "  %s\n", p)
		}
	} else {
		fmt.Fprintf(env.Stdout, "\nThe folder passes the offline check. Next: snowplow-mini deploy aws plan --out %s\n", o.Out)
	}
	return nil
}

func cmdCheck(args []string, env Env) error {
	fs := newFlags("check", `Checks the deploy folder without terraform and without the network: every file parses,
every var./local./module. reference resolves, module arguments exist in the pinned module
versions and required ones are given, tfvars values have the declared types and pass the
variables' validation, no sample secret from the upstream examples is left, and every
enrichment file is one the enrich module takes. Exit status 1 when there are problems.

Example:
  snowplow-mini deploy aws check --out deploy/aws`, env)
	out := fs.String("out", defaultOut, "the deploy folder")
	if err := parse(fs, args); err != nil {
		return err
	}
	ps, err := Check(*out)
	if err != nil {
		return err
	}
	for _, p := range ps {
		fmt.Fprintf(env.Stdout, "%s\n", p)
	}
	if len(ps) > 0 {
		return fmt.Errorf("%d problem(s) in %s", len(ps), *out)
	}
	fmt.Fprintf(env.Stdout, "%s: no problems\n", *out)
	return nil
}

func cmdTerraform(ctx context.Context, cmd string, args []string, env Env) error {
	help := map[string]string{
		"plan": `Runs terraform init and plan (-out=tfplan) in each stack. Needs terraform or tofu and
AWS credentials; without a binary it prints the commands.

Example:
  snowplow-mini deploy aws plan --out deploy/aws`,
		"apply": `Checks the folder, prints what will be created and a rough monthly cost, then plans
iglu_server and applies the plan once you answer yes (--auto-approve: without asking),
waits for the Iglu Server's /api/meta/health, pushes the schemas with the generated super
API key, and plans and applies pipeline with the Iglu Server's address. On a
--hybrid folder with --kinesis-endpoint/--s3-endpoint (emulators) it creates the streams
and the bucket with the AWS SDK instead.

Example:
  snowplow-mini deploy aws apply --out deploy/aws
  snowplow-mini deploy aws apply --out deploy/aws-hybrid --kinesis-endpoint http://127.0.0.1:4567 --s3-endpoint http://127.0.0.1:4568`,
		"destroy": `Destroys pipeline, then iglu_server, and lists what is left to remove by hand.

Example:
  snowplow-mini deploy aws destroy --out deploy/aws`,
	}[cmd]
	fs := newFlags(cmd, help, env)
	out := fs.String("out", defaultOut, "the deploy folder")
	bin := fs.String("terraform-bin", "", "terraform or tofu binary (default: terraform, else tofu, on PATH)")
	auto := fs.Bool("auto-approve", false, "do not ask for confirmation")
	health := fs.Duration("health-timeout", 15*time.Minute, "how long apply waits for the new Iglu Server")
	kinEP := fs.String("kinesis-endpoint", "", "hybrid apply: create the streams at this Kinesis endpoint (emulator) with the SDK")
	s3EP := fs.String("s3-endpoint", "", "hybrid apply: create the bucket at this S3 endpoint with the SDK")
	if err := parse(fs, args); err != nil {
		return err
	}
	path, err := FindTerraform(*bin)
	if err != nil {
		return err
	}
	o := RunOptions{
		Dir: *out, AutoApprove: *auto, Stdout: env.Stdout, Stdin: env.Stdin, HealthTimeout: *health,
		KinesisEndpoint: *kinEP, S3Endpoint: *s3EP, Push: env.PushSchemas,
		Terraform: Terraform{Bin: path, Stdout: env.Stdout, Stderr: env.Stderr, Stdin: env.Stdin},
	}
	switch cmd {
	case "plan":
		return Plan(ctx, o)
	case "apply":
		return Apply(ctx, o)
	default:
		return Destroy(ctx, o)
	}
}

func cmdPush(ctx context.Context, args []string, env Env) error {
	fs := newFlags("push-schemas", `Lints a static schema folder and publishes it to an Iglu Server in SchemaVer order
(PUT /api/schemas/... with the apikey header, as igluctl static push), retrying while the
server starts, then reads each schema back to compare. In a deploy folder it defaults to
iglu_server/schemas, the address apply recorded and the generated super API key. The key
can also come from SNOWPLOW_MINI_IGLU_API_KEY (or SNOWPLOW_MINI_IGLU_SUPER_API_KEY); it is
never printed. It runs snowplow-mini schemas push.

Example:
  snowplow-mini deploy aws push-schemas --out deploy/aws
  SNOWPLOW_MINI_IGLU_API_KEY=... snowplow-mini deploy aws push-schemas --schemas ./iglu --iglu-url https://iglu.example.com`, env)
	out := fs.String("out", defaultOut, "the deploy folder (for the defaults)")
	url := fs.String("iglu-url", "", "the Iglu Server's base URL")
	key := fs.String("iglu-api-key", "", "super or write API key (prefer SNOWPLOW_MINI_IGLU_API_KEY: flags show in ps)")
	dir := fs.String("schemas", "", "static schema folder ({vendor}/{name}/jsonschema/{version}, or its parent)")
	public := fs.Bool("public", false, "publish the schemas as public")
	retry := fs.Duration("retry-timeout", 2*time.Minute, "how long a request is retried while the server cannot answer")
	if err := parse(fs, args); err != nil {
		return err
	}
	o := PushOptions{Server: *url, APIKey: *key, Dir: *dir, Public: *public, RetryFor: *retry}
	for _, name := range []string{"SNOWPLOW_MINI_IGLU_API_KEY", "SNOWPLOW_MINI_IGLU_SUPER_API_KEY"} {
		if o.APIKey == "" && env.Getenv != nil {
			o.APIKey = env.Getenv(name)
		}
	}
	if o.Server == "" || o.APIKey == "" || o.Dir == "" {
		if _, err := os.Stat(*out); err != nil && (o.Server == "" || o.APIKey == "" || o.Dir == "") {
			return fmt.Errorf("%w: give --iglu-url, --schemas and the key (--iglu-api-key or SNOWPLOW_MINI_IGLU_API_KEY), or --out a deploy folder", errUsage)
		}
		if err := pushDefaults(&o, *out); err != nil {
			return err
		}
	}
	if env.PushSchemas == nil {
		return errors.New("no schema pusher configured")
	}
	return env.PushSchemas(ctx, o)
}
