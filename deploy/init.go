package deploy

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"

	"github.com/snowplow-mini/snowplow-mini/iglu"
)

// InitOptions are the inputs of `deploy aws init`.
type InitOptions struct {
	Out     string // the deploy folder, default deploy/aws (deploy/aws-hybrid with Hybrid)
	Hybrid  bool
	Local   Local // what serve would run with: enrichments, resolver, schemas
	Targets Targets
	// Version is snowplow-mini's version, recorded in the deploy manifest.
	Version string

	// Values set by flags on this run; they win over values in existing tfvars files.
	// A nil pointer / empty slice means "not given".
	Prefix           *string
	Region           *string
	VPCID            *string
	SubnetIDs        []string
	SSHPublicKeyFile *string
	SSHIPAllowlist   []string
	BucketName       *string
	AcceptLicense    bool // --accept-license
	NoTelemetry      bool // --no-telemetry
	NoIgluPatches    bool // --iglu-patches-allowed=false
	// SnowflakePrivateKeyFile is the PEM key of the Snowflake loader user.
	SnowflakePrivateKeyFile *string
	Snowflake               SnowflakeSettings
}

// SnowflakeSettings are the Snowflake Streaming Loader's connection values (nil: not
// given on this run).
type SnowflakeSettings struct {
	AccountURL, User, Database, Schema *string
}

// deployManifest is snowplow-mini-deploy.json: what the folder was rendered from, so
// that check, plan and apply know its stacks and a re-run can tell what changed.
type deployManifest struct {
	Generator   string            `json:"generator"`
	Profile     string            `json:"profile"`
	Hybrid      bool              `json:"hybrid,omitempty"`
	Stacks      []string          `json:"stacks"`
	Targets     []string          `json:"targets"`
	Modules     map[string]string `json:"modules"`
	Enrichments []manifestFile    `json:"enrichments,omitempty"`
	Schemas     []manifestFile    `json:"schemas,omitempty"`
}

type manifestFile struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

const manifestName = "snowplow-mini-deploy.json"

// profile names the module set (see the pins in render.go).
const profile = "2024.04"

// Report is what Init did, for the user.
type Report struct {
	Files   []string // written, relative to the deploy folder
	Notes   []string // things the user should know (licence, telemetry, values to fill in)
	Dropped []string // tfvars lines removed because their variable no longer exists
}

// Init renders the deploy folder. Existing tfvars values are kept (values given as
// flags on this run win), secrets are generated once and never rotated by a re-run.
func Init(o InitOptions) (Report, error) {
	var rep Report
	if o.Out == "" {
		return rep, errors.New("no deploy folder given")
	}
	setup := Setup{Hybrid: o.Hybrid, Targets: o.Targets, IgluPatchesAllowed: !o.NoIgluPatches}
	var schemas []file
	if !o.Hybrid {
		var err error
		if setup.Enrichments, err = localEnrichments(o.Local); err != nil {
			return rep, err
		}
		if o.Local.EnrichmentsDir == "" {
			rep.Notes = append(rep.Notes, "No enrichments folder (--enrichments): the pipeline runs the enrichments serve runs by default (campaign attribution, event fingerprint, referer parser, UA parser, with the enrich module's configurations) and YAUAA, which enrich would add, is switched off.")
		}
		var creds []string
		if setup.AssetsBucket, setup.EgressPorts, creds, err = sideSettings(setup.Enrichments); err != nil {
			return rep, err
		}
		if len(creds) > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("pipeline/enrichments/{%s} hold credentials (API keys, passwords or salts), copied as they are: keep the deploy folder private, or replace them before committing it.", strings.Join(creds, ",")))
		}
		var skipped []string
		if setup.Resolvers, skipped, err = localResolvers(o.Local.ResolverFile); err != nil {
			return rep, err
		}
		for _, s := range skipped {
			rep.Notes = append(rep.Notes, s)
		}
		if schemas, err = localSchemas(o.Local.SchemasDir); err != nil {
			return rep, err
		}
	}
	files := renderStacks(setup)
	for _, sf := range schemas {
		files = append(files, file{StackIglu + "/schemas/" + sf.path, sf.data})
	}
	man := newManifest(o, setup, schemas)
	mb, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return rep, err
	}
	files = append(files, file{manifestName, append(mb, '\n')},
		file{".gitignore", []byte(gitignore)},
		file{"README.md", generatedReadme(setup)})

	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return rep, err
	}
	// Files of an earlier rendering that this one does not produce (a target or an
	// enrichment removed since) would still be read by terraform: remove them.
	if err := removeStale(o.Out, setup, files); err != nil {
		return rep, err
	}
	for _, f := range files {
		if err := writeFile(filepath.Join(o.Out, f.path), f.data, 0o644); err != nil {
			return rep, err
		}
		rep.Files = append(rep.Files, f.path)
	}
	if err := writeValues(o, setup, &rep); err != nil {
		return rep, err
	}
	if !o.Hybrid {
		if !o.AcceptLicense {
			rep.Notes = append(rep.Notes, "The Snowplow Limited Use License (https://docs.snowplow.io/limited-use-license-1.0/) is not accepted: the Snowplow applications may not be deployed until you read it and accept it with --accept-license (or accept_limited_use_license = true in both terraform.tfvars). It allows testing and evaluation, not production use.")
		}
		if o.NoTelemetry {
			rep.Notes = append(rep.Notes, "Snowplow's telemetry is off (telemetry_enabled = false).")
		} else {
			rep.Notes = append(rep.Notes, "The Snowplow modules send telemetry to Snowplow Analytics Ltd by default (telemetry_enabled = true); --no-telemetry turns it off.")
		}
	}
	return rep, nil
}

const gitignore = `# Terraform state and plans hold every secret of the stacks in clear text.
*.tfstate
*.tfstate.*
tfplan
.terraform/
crash.log
# Generated secrets (Iglu super API key, database passwords): never commit them.
secrets.auto.tfvars
`

func newManifest(o InitOptions, s Setup, schemas []file) deployManifest {
	m := deployManifest{
		Generator: "snowplow-mini " + o.Version,
		Profile:   profile,
		Hybrid:    s.Hybrid,
		Modules:   map[string]string{},
		Targets:   []string{"s3"},
	}
	pins := []pin{streamModule, bucketModule}
	if s.Hybrid {
		m.Stacks = []string{StackHybrid}
	} else {
		m.Stacks = []string{StackIglu, StackPipeline}
		pins = append(pins, albModule, collectorModule, enrichModule, s3LoaderModule, rdsModule, igluModule)
		if s.Targets.Postgres {
			m.Targets = append(m.Targets, "postgres")
			pins = append(pins, pgLoaderModule)
		}
		if s.Targets.SnowflakeStreaming {
			m.Targets = append(m.Targets, "snowflake-streaming")
			pins = append(pins, sfStreamingModule)
		}
	}
	for _, p := range pins {
		m.Modules[p.Source] = p.Version
	}
	for _, e := range s.Enrichments {
		m.Enrichments = append(m.Enrichments, manifestFile{StackPipeline + "/enrichments/" + e.FileName(), sha(e.JSON)})
	}
	for _, f := range schemas {
		m.Schemas = append(m.Schemas, manifestFile{StackIglu + "/schemas/" + f.path, sha(f.data)})
	}
	return m
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readManifest reads the deploy folder's snowplow-mini-deploy.json.
func readManifest(dir string) (deployManifest, error) {
	var m deployManifest
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return m, fmt.Errorf("%s is not a deploy folder (no %s): run `snowplow-mini deploy aws init --out %s` first", dir, manifestName, dir)
	}
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, manifestName), err)
	}
	return m, nil
}

// removeStale deletes target files and enrichment or schema copies an earlier
// rendering wrote that this one does not.
func removeStale(out string, s Setup, files []file) error {
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.path] = true
	}
	var stale []string
	for _, pattern := range []string{StackPipeline + "/target_*.tf", StackPipeline + "/enrichments/*.json"} {
		m, _ := filepath.Glob(filepath.Join(out, pattern))
		stale = append(stale, m...)
	}
	schemaRoot := filepath.Join(out, StackIglu, "schemas")
	_ = filepath.WalkDir(schemaRoot, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			stale = append(stale, p)
		}
		return nil
	})
	for _, p := range stale {
		rel, err := filepath.Rel(out, p)
		if err != nil || keep[filepath.ToSlash(rel)] {
			continue
		}
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode) // WriteFile keeps the mode of an existing file
}

// writeValues writes terraform.tfvars and secrets.auto.tfvars of each stack, merged
// with what is there.
func writeValues(o InitOptions, s Setup, rep *Report) error {
	explicit := map[string]bool{}
	set := func(name string, given bool) {
		if given {
			explicit[name] = true
		}
	}
	prefix := deref(o.Prefix, "sp")
	region := deref(o.Region, "eu-west-1")
	set("prefix", o.Prefix != nil)
	set("aws_region", o.Region != nil)
	set("vpc_id", o.VPCID != nil)
	set("public_subnet_ids", o.SubnetIDs != nil)
	set("ssh_public_key", o.SSHPublicKeyFile != nil)
	set("ssh_ip_allowlist", o.SSHIPAllowlist != nil)
	set("s3_bucket_name", o.BucketName != nil)
	set("accept_limited_use_license", o.AcceptLicense)
	set("telemetry_enabled", o.NoTelemetry)
	set("iglu_patches_allowed", o.NoIgluPatches)
	sshKey := ""
	if o.SSHPublicKeyFile != nil {
		b, err := os.ReadFile(*o.SSHPublicKeyFile)
		if err != nil {
			return fmt.Errorf("--ssh-public-key-file: %w", err)
		}
		sshKey = strings.TrimSpace(string(b))
		if strings.Contains(sshKey, "PRIVATE KEY") {
			return fmt.Errorf("--ssh-public-key-file %s holds a private key: give the .pub file", *o.SSHPublicKeyFile)
		}
	}
	bucket := deref(o.BucketName, "")
	if bucket == "" {
		suffix, err := newSuffix()
		if err != nil {
			return err
		}
		bucket = prefix + "-snowplow-" + suffix
	}

	network := []tfvar{
		{comment: "Please accept the terms of the Snowplow Limited Use License Agreement to proceed.\n(https://docs.snowplow.io/limited-use-license-1.0/) snowplow-mini never accepts it for you:\nset true yourself or run init with --accept-license.", name: "accept_limited_use_license", value: cty.BoolVal(o.AcceptLicense)},
		{comment: "Will be prefixed to all resource names; the stream names are {prefix}-raw-stream etc.", name: "prefix", value: cty.StringVal(prefix)},
		{name: "aws_region", value: cty.StringVal(region)},
		{comment: "The VPC and its public subnets to deploy into (your default VPC:\naws ec2 describe-vpcs --filters Name=is-default,Values=true)", name: "vpc_id", value: cty.StringVal(deref(o.VPCID, ""))},
		{name: "public_subnet_ids", value: strList(o.SubnetIDs)},
		{comment: "SSH: the public key of the servers and the CIDR ranges allowed to connect (empty: none)", name: "ssh_public_key", value: cty.StringVal(sshKey)},
		{name: "ssh_ip_allowlist", value: strList(o.SSHIPAllowlist)},
		{comment: "Load balancer SSL (optional)", name: "ssl_information", value: cty.ObjectVal(map[string]cty.Value{"certificate_arn": cty.StringVal(""), "enabled": cty.False})},
	}
	common := []tfvar{
		{comment: "Telemetry sent to Snowplow Analytics Ltd by the modules", name: "telemetry_enabled", value: cty.BoolVal(!o.NoTelemetry)},
		{name: "user_provided_id", value: cty.StringVal("")},
		{comment: "AWS IAM (advanced setting)", name: "iam_permissions_boundary", value: cty.StringVal("")},
		{name: "tags", value: cty.MapValEmpty(cty.String)},
		{comment: "CloudWatch logging, so that logs are kept outside the servers", name: "cloudwatch_logs_enabled", value: cty.True},
		{name: "cloudwatch_logs_retention_days", value: cty.NumberIntVal(7)},
	}
	ec2 := func(component, instanceType string) []tfvar {
		return []tfvar{
			{name: "ec2_" + component + "_instance_type", value: cty.StringVal(instanceType)},
			{name: "ec2_" + component + "_min_size", value: cty.NumberIntVal(1)},
			{name: "ec2_" + component + "_max_size", value: cty.NumberIntVal(2)},
		}
	}
	streams := []tfvar{
		{comment: "Kinesis: PROVISIONED (kinesis_shard_count shards per stream) or ON_DEMAND", name: "kinesis_stream_mode_details", value: cty.StringVal("PROVISIONED")},
		{name: "kinesis_shard_count", value: cty.NumberIntVal(1)},
	}

	if s.Hybrid {
		vars := []tfvar{
			{comment: "The prefix of the stream names: {prefix}-raw-stream, {prefix}-enriched-stream,\n{prefix}-bad-1-stream, {prefix}-bad-2-stream (snowplow-mini run --kinesis-prefix)", name: "prefix", value: cty.StringVal(prefix)},
			{name: "aws_region", value: cty.StringVal(region)},
			{comment: "Bucket names are global: keep the random suffix or choose your own", name: "s3_bucket_name", value: cty.StringVal(bucket)},
		}
		vars = append(vars, streams...)
		vars = append(vars, tfvar{name: "tags", value: cty.MapValEmpty(cty.String)})
		return writeStackValues(o.Out, StackHybrid, vars, nil, explicit, s, rep)
	}

	// The same super API key in both stacks: read it from whichever has one.
	igluSecrets, err := readTFVars(filepath.Join(o.Out, StackIglu, secretsName))
	if err != nil {
		return err
	}
	pipeSecrets, err := readTFVars(filepath.Join(o.Out, StackPipeline, secretsName))
	if err != nil {
		return err
	}
	apiKey := cmp.Or(stringVar(igluSecrets, "iglu_super_api_key"), stringVar(pipeSecrets, "iglu_super_api_key"))
	if apiKey == "" {
		if apiKey, err = newAPIKey(); err != nil {
			return err
		}
	}
	igluPassword, err := newPassword()
	if err != nil {
		return err
	}

	iglu := slices.Concat(network, []tfvar{
		{comment: "Iglu Server", name: "iglu_db_name", value: cty.StringVal("iglu")},
		{name: "iglu_db_username", value: cty.StringVal("iglu")},
		{comment: "Pushing the same schema version again (deploy aws push-schemas) needs this;\nfalse keeps published versions immutable", name: "iglu_patches_allowed", value: cty.BoolVal(!o.NoIgluPatches)},
	}, ec2("iglu", "t3a.micro"), common)
	igluSec := []tfvar{
		{comment: "Generated by snowplow-mini deploy aws init; keep this file secret (mode 0600, gitignored).", name: "iglu_db_password", value: cty.StringVal(igluPassword)},
		{name: "iglu_super_api_key", value: cty.StringVal(apiKey)},
	}
	if err := writeStackValues(o.Out, StackIglu, iglu, igluSec, explicit, s, rep); err != nil {
		return err
	}

	pipe := slices.Concat(network[:3], []tfvar{
		{comment: "Bucket names are global: keep the random suffix or choose your own.\nTo use an existing bucket set s3_bucket_deploy = false.", name: "s3_bucket_name", value: cty.StringVal(bucket)},
		{name: "s3_bucket_deploy", value: cty.True},
		{name: "s3_bucket_object_prefix", value: cty.StringVal("")},
	}, network[3:], streams, []tfvar{
		{name: "pipeline_kcl_write_max_capacity", value: cty.NumberIntVal(50)},
		{comment: "Servers (collector and enrich scale on CPU between min and max)", name: "ec2_enable_auto_scaling", value: cty.True},
	}, ec2("collector", "t3a.micro"), ec2("enrich", "t3a.small"), []tfvar{
		{comment: "Target: Amazon S3 (always)", name: "s3_raw_enabled", value: cty.False},
		{name: "s3_bad_enabled", value: cty.True},
		{name: "s3_enriched_enabled", value: cty.True},
	})
	pipeSec := []tfvar{
		{comment: "Generated by snowplow-mini deploy aws init; keep this file secret (mode 0600, gitignored).\nThe same key as the iglu_server stack's.", name: "iglu_super_api_key", value: cty.StringVal(apiKey)},
		{comment: "Repositories of the local resolver.json besides Iglu Central (re-rendered by init)", name: "extra_iglu_resolvers", value: resolversValue(s.Resolvers)},
	}
	explicit["extra_iglu_resolvers"] = true
	if s.Targets.Postgres {
		explicit["postgres_db_enabled"] = true
		pipe = append(pipe,
			tfvar{comment: "Target: PostgreSQL (RDS)", name: "postgres_db_enabled", value: cty.True},
			tfvar{name: "postgres_db_name", value: cty.StringVal("snowplow")},
			tfvar{name: "postgres_db_username", value: cty.StringVal("snowplow")},
			tfvar{comment: "Reaching the database from outside the VPC exposes your data: keep the allowlist strict", name: "postgres_db_publicly_accessible", value: cty.False},
			tfvar{name: "postgres_db_ip_allowlist", value: cty.ListValEmpty(cty.String)},
		)
		pw, err := newPassword()
		if err != nil {
			return err
		}
		pipeSec = append(pipeSec, tfvar{name: "postgres_db_password", value: cty.StringVal(pw)})
	}
	if s.Targets.SnowflakeStreaming {
		explicit["snowflake_streaming_enabled"] = true
		pipe = append(pipe,
			tfvar{comment: "Target: Snowflake (Streaming Loader); see https://docs.snowplow.io/docs/getting-started-on-community-edition/", name: "snowflake_streaming_enabled", value: cty.True},
			tfvar{name: "snowflake_streaming_account_url", value: cty.StringVal(deref(o.Snowflake.AccountURL, ""))},
			tfvar{name: "snowflake_streaming_loader_user", value: cty.StringVal(deref(o.Snowflake.User, ""))},
			tfvar{name: "snowflake_streaming_database", value: cty.StringVal(deref(o.Snowflake.Database, ""))},
			tfvar{name: "snowflake_streaming_schema", value: cty.StringVal(deref(o.Snowflake.Schema, ""))},
		)
		set("snowflake_streaming_account_url", o.Snowflake.AccountURL != nil)
		set("snowflake_streaming_loader_user", o.Snowflake.User != nil)
		set("snowflake_streaming_database", o.Snowflake.Database != nil)
		set("snowflake_streaming_schema", o.Snowflake.Schema != nil)
		key := ""
		if o.SnowflakePrivateKeyFile != nil {
			b, err := os.ReadFile(*o.SnowflakePrivateKeyFile)
			if err != nil {
				return fmt.Errorf("--snowflake-private-key-file: %w", err)
			}
			key = string(b)
			explicit["snowflake_streaming_loader_private_key"] = true
		}
		pipeSec = append(pipeSec, tfvar{comment: "The Snowflake loader user's private key (PEM)", name: "snowflake_streaming_loader_private_key", value: cty.StringVal(key)})
	}
	pipe = append(pipe, common...)
	return writeStackValues(o.Out, StackPipeline, pipe, pipeSec, explicit, s, rep)
}

const secretsName = "secrets.auto.tfvars"

func writeStackValues(out, stack string, vars, secrets []tfvar, explicit map[string]bool, s Setup, rep *Report) error {
	declared := map[string]bool{}
	var decl []variable
	switch stack {
	case StackIglu:
		decl = igluVariables()
	case StackPipeline:
		decl = pipelineVariables(s)
	case StackHybrid:
		decl = hybridVariables()
	}
	for _, v := range decl {
		declared[v.name] = true
	}
	keep := func(name string) bool { return declared[name] }
	write := func(name string, vars []tfvar, mode os.FileMode) error {
		path := filepath.Join(out, stack, name)
		old, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		data, dropped, err := mergeTFVars(vars, old, path, explicit, keep)
		if err != nil {
			return err
		}
		for _, d := range dropped {
			rep.Dropped = append(rep.Dropped, stack+"/"+name+": "+d)
		}
		if err := writeFile(path, data, mode); err != nil {
			return err
		}
		rep.Files = append(rep.Files, stack+"/"+name)
		return nil
	}
	if err := write("terraform.tfvars", vars, 0o644); err != nil {
		return err
	}
	if secrets != nil {
		return write(secretsName, secrets, 0o600)
	}
	return nil
}

func resolversValue(rs []Resolver) cty.Value {
	ty := cty.Object(map[string]cty.Type{"name": cty.String, "priority": cty.Number, "uri": cty.String, "api_key": cty.String, "vendor_prefixes": cty.List(cty.String)})
	if len(rs) == 0 {
		return cty.ListValEmpty(ty)
	}
	vs := make([]cty.Value, len(rs))
	for i, r := range rs {
		vs[i] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(r.Name), "priority": cty.NumberIntVal(int64(r.Priority)), "uri": cty.StringVal(r.URI),
			"api_key": cty.StringVal(r.APIKey), "vendor_prefixes": strList(r.VendorPrefixes),
		})
	}
	return cty.ListVal(vs)
}

// localResolvers returns the HTTP repositories of the local resolver.json that the
// pipeline should use after its own Iglu Server. Iglu Central (the enrich module's
// default), embedded repositories and addresses only the laptop can reach are left out,
// each with a note.
func localResolvers(path string) ([]Resolver, []string, error) {
	if path == "" {
		return nil, nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("resolver: %w", err)
	}
	rc, err := iglu.ParseResolverConfig(data)
	if err != nil {
		return nil, nil, fmt.Errorf("resolver %s: %w", path, err)
	}
	var out []Resolver
	var notes []string
	for _, r := range rc.Repositories {
		h := r.Connection.HTTP
		switch {
		case h == nil:
			continue // embedded: the Snowplow applications have their own
		case strings.Contains(h.URI, "iglucentral.com"):
			continue // the enrich module's default resolvers
		case isLocalURI(h.URI):
			notes = append(notes, fmt.Sprintf("resolver %s: repository %q (%s) is on this machine and unreachable from AWS; its schemas must be pushed to the Iglu Server (deploy aws push-schemas)", path, r.Name, h.URI))
			continue
		}
		key := ""
		if h.APIKey != nil {
			key = *h.APIKey
		}
		out = append(out, Resolver{Name: r.Name, Priority: r.Priority + 1, URI: h.URI, APIKey: key, VendorPrefixes: append([]string{}, r.VendorPrefixes...)})
	}
	return out, notes, nil
}

func isLocalURI(u string) bool {
	for _, h := range []string{"://localhost", "://127.", "://[::1]", "://0.0.0.0"} {
		if strings.Contains(u, h) {
			return true
		}
	}
	return false
}

// localSchemas returns the schemas of a local static-repo folder
// ({vendor}/{name}/jsonschema/{version}, directly or under schemas/), with paths in
// that layout.
func localSchemas(dir string) ([]file, error) {
	if dir == "" {
		return nil, nil
	}
	root := dir
	if st, err := os.Stat(filepath.Join(dir, "schemas")); err == nil && st.IsDir() {
		root = filepath.Join(dir, "schemas")
	}
	var out []file
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) != 4 {
			return fmt.Errorf("schemas: %s is not at {vendor}/{name}/{format}/{version} under %s", p, root)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, file{strings.Join(parts, "/"), data})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func deref(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}
