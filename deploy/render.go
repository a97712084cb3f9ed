package deploy

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/snowplow-mini/snowplow-mini/streams"
)

// pin is one registry module at the exact version the rendered stacks use.
type pin struct{ Source, Version string }

// The module set: the April 2024 releases of Snowplow's AWS modules, the last set that
// has the Postgres loader, and the versions tfcheck's embedded manifest describes.
var (
	streamModule      = pin{"snowplow-devops/kinesis-stream/aws", "0.3.0"}
	albModule         = pin{"snowplow-devops/alb/aws", "0.2.0"}
	collectorModule   = pin{"snowplow-devops/collector-kinesis-ec2/aws", "0.9.1"}
	enrichModule      = pin{"snowplow-devops/enrich-kinesis-ec2/aws", "0.6.1"}
	s3LoaderModule    = pin{"snowplow-devops/s3-loader-kinesis-ec2/aws", "0.5.1"}
	rdsModule         = pin{"snowplow-devops/rds/aws", "0.5.0"}
	pgLoaderModule    = pin{"snowplow-devops/postgres-loader-kinesis-ec2/aws", "0.5.1"}
	sfStreamingModule = pin{"snowplow-devops/snowflake-streaming-loader-ec2/aws", "0.1.2"}
	bucketModule      = pin{"snowplow-devops/s3-bucket/aws", "0.2.0"}
	igluModule        = pin{"snowplow-devops/iglu-server-ec2/aws", "0.5.1"}
)

// Application versions the quick start runs on these modules (newer than the modules'
// own defaults).
const (
	collectorAppVersion = "3.3.0"
	enrichAppVersion    = "5.2.0"
	igluAppVersion      = "0.14.0"
)

// Stack folder names under the deploy folder.
const (
	StackIglu     = "iglu_server"
	StackPipeline = "pipeline"
	StackHybrid   = "hybrid"
)

// Targets are the destinations the pipeline loads into besides S3.
type Targets struct {
	Postgres           bool
	SnowflakeStreaming bool
}

// Setup is everything a rendering depends on. Values in tfvars files (VPC, sizes, …)
// are not here: they are the user's, kept across renderings (see Init).
type Setup struct {
	Hybrid             bool
	Targets            Targets
	Enrichments        []Enrichment
	Resolvers          []Resolver // extra repositories from the local resolver.json
	IgluPatchesAllowed bool
	// AssetsBucket is the bucket of the enrichments' s3:// assets; EgressPorts are the
	// SQL enrichment's database ports (see sideSettings).
	AssetsBucket string
	EgressPorts  []string
}

// Resolver is one Iglu repository of the local resolver.json that the AWS pipeline can
// reach too, in the shape of the enrich module's custom_iglu_resolvers.
type Resolver struct {
	Name           string
	Priority       int
	URI            string
	APIKey         string // secret: rendered into secrets.auto.tfvars only
	VendorPrefixes []string
}

// file is one rendered file, relative to the deploy folder.
type file struct {
	path string
	data []byte
}

// hclText builds a file of HCL text; format makes it canonical (terraform fmt style).
type hclText struct{ b strings.Builder }

func (w *hclText) line(format string, args ...any) {
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *hclText) blank() { w.b.WriteByte('\n') }

func (w *hclText) format() []byte {
	return hclwrite.Format([]byte(strings.TrimRight(w.b.String(), "\n") + "\n"))
}

// q is s as an HCL string literal (escaping quotes, backslashes and ${ / %{).
func q(s string) string { return string(hclwrite.TokensForValue(cty.StringVal(s)).Bytes()) }

// hclValue is v as an HCL literal.
func hclValue(v cty.Value) string { return string(hclwrite.TokensForValue(v).Bytes()) }

func (w *hclText) moduleHead(name string, p pin) {
	w.line("module %q {", name)
	w.line("  source  = %q", p.Source)
	w.line("  version = %q", p.Version)
	w.blank()
}

// variable is one root-module input variable.
type variable struct {
	name, description, typ string
	def                    string // HCL default; empty for a required variable
	sensitive              bool
	validation             [2]string // condition, error message
}

func writeVariables(vars []variable) []byte {
	var w hclText
	for i, v := range vars {
		if i > 0 {
			w.blank()
		}
		w.line("variable %q {", v.name)
		w.line("  description = %s", q(v.description))
		w.line("  type        = %s", v.typ)
		if v.def != "" {
			w.line("  default     = %s", v.def)
		}
		if v.sensitive {
			w.line("  sensitive   = true")
		}
		if v.validation[0] != "" {
			w.blank()
			w.line("  validation {")
			w.line("    condition     = %s", v.validation[0])
			w.line("    error_message = %s", q(v.validation[1]))
			w.line("  }")
		}
		w.line("}")
	}
	return w.format()
}

var licenseVariable = variable{
	name: "accept_limited_use_license", typ: "bool", def: "false",
	description: "Acceptance of the SLULA terms (https://docs.snowplow.io/limited-use-license-1.0/)",
	validation:  [2]string{"var.accept_limited_use_license", "Please accept the terms of the Snowplow Limited Use License Agreement to proceed."},
}

// commonVariables are declared by both quick-start stacks, with upstream's names.
func commonVariables() []variable {
	return []variable{
		licenseVariable,
		{name: "prefix", typ: "string", description: "Will be prefixed to all resource names. Use to easily identify the resources created"},
		{name: "aws_region", typ: "string", description: "The AWS region to deploy into"},
		{name: "vpc_id", typ: "string", description: "The VPC to deploy the components within"},
		{name: "public_subnet_ids", typ: "list(string)", description: "The list of public subnets to deploy the components across"},
		{name: "ssh_public_key", typ: "string", description: "The SSH public key to use for the deployment"},
		{name: "ssh_ip_allowlist", typ: "list(any)", description: "The list of CIDR ranges to allow SSH traffic from"},
		{name: "telemetry_enabled", typ: "bool", def: "true", description: "Whether or not to send telemetry information back to Snowplow Analytics Ltd"},
		{name: "user_provided_id", typ: "string", def: `""`, description: "An optional unique identifier to identify the telemetry events emitted by this stack"},
		{name: "iam_permissions_boundary", typ: "string", def: `""`, description: "The permissions boundary ARN to set on IAM roles created"},
		{name: "ssl_information", typ: "object({\n    enabled         = bool\n    certificate_arn = string\n  })", def: "{\n    certificate_arn = \"\"\n    enabled         = false\n  }",
			description: "The ARN of an Amazon Certificate Manager certificate to bind to the load balancer"},
		{name: "tags", typ: "map(string)", def: "{}", description: "The tags to append to the resources in this module"},
		{name: "cloudwatch_logs_enabled", typ: "bool", def: "true", description: "Whether application logs should be reported to CloudWatch"},
		{name: "cloudwatch_logs_retention_days", typ: "number", def: "7", description: "The length of time in days to retain logs for"},
	}
}

func ec2Variables(component, label, instanceType string) []variable {
	return []variable{
		{name: "ec2_" + component + "_instance_type", typ: "string", def: q(instanceType), description: "The EC2 instance type of the " + label + " servers"},
		{name: "ec2_" + component + "_min_size", typ: "number", def: "1", description: "The minimum number of " + label + " servers"},
		{name: "ec2_" + component + "_max_size", typ: "number", def: "2", description: "The maximum number of " + label + " servers"},
	}
}

func versionsTF() []byte {
	var w hclText
	w.line("terraform {")
	w.line("  required_version = %q", ">= 1")
	w.blank()
	w.line("  required_providers {")
	w.line("    aws = {")
	w.line("      source  = %q", "hashicorp/aws")
	w.line("      version = %q", ">= 4")
	w.line("    }")
	w.line("    random = {")
	w.line("      source  = %q", "hashicorp/random")
	w.line("      version = %q", ">= 3")
	w.line("    }")
	w.line("  }")
	w.line("}")
	w.blank()
	w.line("# The region is a variable (not a prompt) so that plan and apply can run unattended.")
	w.line("provider %q {", "aws")
	w.line("  region = var.aws_region")
	w.line("}")
	return w.format()
}

// ec2Common writes the arguments every EC2 application module of the quick start takes.
func (w *hclText) ec2Common() {
	w.line("  ssh_key_name     = aws_key_pair.pipeline.key_name")
	w.line("  ssh_ip_allowlist = var.ssh_ip_allowlist")
	w.blank()
	w.line("  iam_permissions_boundary = var.iam_permissions_boundary")
	w.blank()
	w.line("  telemetry_enabled = var.telemetry_enabled")
	w.line("  user_provided_id  = var.user_provided_id")
	w.blank()
	w.line("  tags = var.tags")
	w.blank()
	w.line("  cloudwatch_logs_enabled        = var.cloudwatch_logs_enabled")
	w.line("  cloudwatch_logs_retention_days = var.cloudwatch_logs_retention_days")
}

// loadBalancer writes the ALB module "<app>_lb" in front of an application.
func (w *hclText) loadBalancer(app, healthPath string) {
	w.moduleHead(app+"_lb", albModule)
	w.line("  name              = \"${var.prefix}-%s-lb\"", app)
	w.line("  vpc_id            = var.vpc_id")
	w.line("  subnet_ids        = var.public_subnet_ids")
	w.line("  health_check_path = %q", healthPath)
	w.blank()
	w.line("  ssl_certificate_arn     = var.ssl_information.certificate_arn")
	w.line("  ssl_certificate_enabled = var.ssl_information.enabled")
	w.blank()
	w.line("  tags = var.tags")
	w.line("}")
}

// output writes one output block.
func (w *hclText) output(name, description, value string) {
	w.line("output %q {", name)
	w.line("  description = %q", description)
	w.line("  value       = %s", value)
	w.line("}")
	w.blank()
}

// --- iglu_server ---------------------------------------------------------------

func igluVariables() []variable {
	vs := commonVariables()
	vs = append(vs,
		variable{name: "iglu_db_name", typ: "string", description: "The name of the database to create"},
		variable{name: "iglu_db_username", typ: "string", description: "The username to use to connect to the database"},
		variable{name: "iglu_db_password", typ: "string", sensitive: true, description: "The password to use to connect to the database"},
		variable{name: "iglu_super_api_key", typ: "string", sensitive: true, description: "A UUIDv4 string to use as the master API key for Iglu Server management"},
		variable{name: "iglu_patches_allowed", typ: "bool", def: "true", description: "Whether a schema version already on the server may be replaced (pushing the same schemas again needs it)"},
	)
	return append(vs, ec2Variables("iglu", "Iglu Server", "t3a.micro")...)
}

func igluMain() []byte {
	var w hclText
	w.line("# 0. Setup key for SSH into deployed servers")
	w.line("resource %q %q {", "aws_key_pair", "pipeline")
	w.line("  key_name   = \"${var.prefix}-iglu_server\"")
	w.line("  public_key = var.ssh_public_key")
	w.line("}")
	w.blank()
	w.line("# 1. The Iglu Server's database")
	w.moduleHead("iglu_rds", rdsModule)
	w.line("  name        = \"${var.prefix}-iglu-rds\"")
	w.line("  vpc_id      = var.vpc_id")
	w.line("  subnet_ids  = var.public_subnet_ids")
	w.line("  db_name     = var.iglu_db_name")
	w.line("  db_username = var.iglu_db_username")
	w.line("  db_password = var.iglu_db_password")
	w.blank()
	w.line("  ca_cert_identifier = %q", "rds-ca-rsa2048-g1")
	w.blank()
	w.line("  tags = var.tags")
	w.line("}")
	w.blank()
	w.line("# 2. Its load balancer: the health check path is what deploy aws apply waits on")
	w.loadBalancer("iglu", "/api/meta/health")
	w.blank()
	w.line("# 3. The Iglu Server")
	w.moduleHead("iglu_server", igluModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  app_version = %q", igluAppVersion)
	w.blank()
	w.line("  name                 = \"${var.prefix}-iglu-server\"")
	w.line("  vpc_id               = var.vpc_id")
	w.line("  subnet_ids           = var.public_subnet_ids")
	w.line("  iglu_server_lb_sg_id = module.iglu_lb.sg_id")
	w.line("  iglu_server_lb_tg_id = module.iglu_lb.tg_id")
	w.line("  ingress_port         = module.iglu_lb.tg_egress_port")
	w.line("  db_sg_id             = module.iglu_rds.sg_id")
	w.line("  db_host              = module.iglu_rds.address")
	w.line("  db_port              = module.iglu_rds.port")
	w.line("  db_name              = var.iglu_db_name")
	w.line("  db_username          = var.iglu_db_username")
	w.line("  db_password          = var.iglu_db_password")
	w.line("  super_api_key        = var.iglu_super_api_key")
	w.line("  patches_allowed      = var.iglu_patches_allowed")
	w.blank()
	w.line("  instance_type = var.ec2_iglu_instance_type")
	w.line("  min_size      = var.ec2_iglu_min_size")
	w.line("  max_size      = var.ec2_iglu_max_size")
	w.blank()
	w.ec2Common()
	w.line("}")
	return w.format()
}

func igluOutputs() []byte {
	var w hclText
	w.output("iglu_server_dns_name", "The ALB dns name for the Iglu Server", "module.iglu_lb.dns_name")
	return w.format()
}

// --- pipeline ------------------------------------------------------------------

// laterVariables are left out of the pipeline's tfvars on purpose: `deploy aws apply`
// writes them (iglu_server.auto.tfvars) from the Iglu stack's outputs.
var laterVariables = map[string]string{
	"iglu_server_dns_name": "written to iglu_server.auto.tfvars by `snowplow-mini deploy aws apply` from the iglu_server stack's output",
}

func pipelineVariables(s Setup) []variable {
	vs := commonVariables()
	vs = append(vs,
		variable{name: "s3_bucket_name", typ: "string", description: "The name of the S3 bucket events will be loaded into"},
		variable{name: "s3_bucket_deploy", typ: "bool", def: "true", description: "Whether this module should create a new bucket with the specified name - if the bucket already exists set this to false"},
		variable{name: "s3_bucket_object_prefix", typ: "string", def: `""`, description: "An optional prefix under which Snowplow data will be saved (Note: your prefix must end with a trailing '/')"},
		variable{name: "iglu_server_dns_name", typ: "string", description: "The DNS name of your Iglu Server",
			validation: [2]string{`can(regex("^http[s]?://.*$", var.iglu_server_dns_name))`, "Value must contain a http/s prefix"}},
		variable{name: "iglu_super_api_key", typ: "string", sensitive: true, description: "A UUIDv4 string to use as the master API key for Iglu Server management"},
		variable{name: "extra_iglu_resolvers", sensitive: true, def: "[]",
			typ:         "list(object({\n    name            = string\n    priority        = number\n    uri             = string\n    api_key         = string\n    vendor_prefixes = list(string)\n  }))",
			description: "Iglu repositories of the local resolver.json, used after the Iglu Server (Iglu Central is the enrich module's default)"},
		variable{name: "pipeline_kcl_write_max_capacity", typ: "number", def: "50", description: "Increasing this is important to increase throughput at very high pipeline volumes"},
		variable{name: "kinesis_stream_mode_details", typ: "string", def: `"PROVISIONED"`, description: "PROVISIONED (pay per shard) or ON_DEMAND (pay per use, higher base cost)"},
		variable{name: "kinesis_shard_count", typ: "number", def: "1", description: "Shards per stream in PROVISIONED mode"},
		variable{name: "ec2_enable_auto_scaling", typ: "bool", def: "true", description: "Whether the collector and enrich servers scale with CPU"},
	)
	vs = append(vs, ec2Variables("collector", "collector", "t3a.micro")...)
	vs = append(vs, ec2Variables("enrich", "enrich", "t3a.small")...)
	vs = append(vs,
		variable{name: "s3_raw_enabled", typ: "bool", def: "false", description: "Whether to enable loading of raw data into S3 from Kinesis"},
		variable{name: "s3_bad_enabled", typ: "bool", def: "true", description: "Whether to enable loading of bad data into S3 from Kinesis"},
		variable{name: "s3_enriched_enabled", typ: "bool", def: "true", description: "Whether to enable loading of enriched data into S3 from Kinesis"},
	)
	if s.Targets.Postgres {
		vs = append(vs,
			variable{name: "postgres_db_enabled", typ: "bool", def: "false", description: "Whether to enable loading into a Postgres Database"},
			variable{name: "postgres_db_name", typ: "string", def: `""`, description: "The name of the database to connect to"},
			variable{name: "postgres_db_username", typ: "string", def: `""`, description: "The username to use to connect to the database"},
			variable{name: "postgres_db_password", typ: "string", def: `""`, sensitive: true, description: "The password to use to connect to the database"},
			variable{name: "postgres_db_publicly_accessible", typ: "bool", def: "false", description: "Whether to make the Postgres RDS instance accessible over the internet"},
			variable{name: "postgres_db_ip_allowlist", typ: "list(any)", def: "[]", description: "An optional list of CIDR ranges to allow traffic from"},
		)
	}
	if s.Targets.SnowflakeStreaming {
		vs = append(vs,
			variable{name: "snowflake_streaming_enabled", typ: "bool", def: "false", description: "Whether to enable loading into a Snowflake Database with a Streaming Loader"},
			variable{name: "snowflake_streaming_account_url", typ: "string", def: `""`, description: "Snowflake account URL to use"},
			variable{name: "snowflake_streaming_loader_user", typ: "string", def: `""`, description: "The Snowflake user used by Snowflake Streaming Loader"},
			variable{name: "snowflake_streaming_loader_private_key", typ: "string", def: `""`, sensitive: true, description: "The private key to use for the loader user"},
			variable{name: "snowflake_streaming_database", typ: "string", def: `""`, description: "Snowflake database name"},
			variable{name: "snowflake_streaming_schema", typ: "string", def: `""`, description: "Snowflake schema name"},
		)
	}
	return vs
}

// streamModules writes the four Kinesis streams, named as `snowplow-mini run` names
// them: {prefix}-raw-stream, {prefix}-bad-1-stream, {prefix}-enriched-stream and
// {prefix}-bad-2-stream.
func (w *hclText) streamModules() {
	for _, s := range pipelineStreams {
		w.moduleHead(s.module, streamModule)
		w.line("  name = \"%s\"", streams.KinesisName("${var.prefix}", s.stream))
		w.blank()
		w.line("  shard_count         = var.kinesis_shard_count")
		w.line("  stream_mode_details = var.kinesis_stream_mode_details")
		w.blank()
		w.line("  tags = var.tags")
		w.line("}")
		w.blank()
	}
}

// pipelineStreams are the module name and pipeline stream of each Kinesis stream.
var pipelineStreams = []struct{ module, stream string }{
	{"raw_stream", streams.Raw},
	{"bad_1_stream", streams.Bad1},
	{"enriched_stream", streams.Enriched},
	{"bad_2_stream", streams.Bad2},
}

func (w *hclText) bucketModule(gated bool) {
	w.moduleHead("s3_pipeline_bucket", bucketModule)
	if gated {
		w.line("  count = var.s3_bucket_deploy ? 1 : 0")
		w.blank()
	}
	w.line("  bucket_name = var.s3_bucket_name")
	w.blank()
	w.line("  tags = var.tags")
	w.line("}")
}

func pipelineMain(s Setup) []byte {
	var w hclText
	w.line("locals {")
	w.line("  # The Iglu Server of the iglu_server stack first, then the other repositories of")
	w.line("  # the local resolver.json; the enrich module adds Iglu Central after them.")
	w.line("  custom_iglu_resolvers = concat([")
	w.line("    {")
	w.line("      name            = %q", "Iglu Server")
	w.line("      priority        = 0")
	w.line("      uri             = \"${var.iglu_server_dns_name}/api\"")
	w.line("      api_key         = var.iglu_super_api_key")
	w.line("      vendor_prefixes = []")
	w.line("    }")
	w.line("  ], var.extra_iglu_resolvers)")
	w.line("}")
	w.blank()
	w.bucketModule(true)
	w.blank()
	w.line("locals {")
	w.line("  s3_pipeline_bucket_name = var.s3_bucket_deploy ? join(\"\", module.s3_pipeline_bucket.*.id) : var.s3_bucket_name")
	w.line("}")
	w.blank()
	w.line("# 0. Setup key for SSH into deployed servers")
	w.line("resource %q %q {", "aws_key_pair", "pipeline")
	w.line("  key_name   = \"${var.prefix}-pipeline\"")
	w.line("  public_key = var.ssh_public_key")
	w.line("}")
	w.blank()
	w.line("# 1. Kinesis streams, named as `snowplow-mini run` names them")
	w.streamModules()
	w.line("# 2. Collector")
	w.loadBalancer("collector", "/health")
	w.blank()
	w.moduleHead("collector_kinesis", collectorModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  app_version = %q", collectorAppVersion)
	w.blank()
	w.line("  name               = \"${var.prefix}-collector-server\"")
	w.line("  vpc_id             = var.vpc_id")
	w.line("  subnet_ids         = var.public_subnet_ids")
	w.line("  collector_lb_sg_id = module.collector_lb.sg_id")
	w.line("  collector_lb_tg_id = module.collector_lb.tg_id")
	w.line("  ingress_port       = module.collector_lb.tg_egress_port")
	w.line("  good_stream_name   = module.raw_stream.name")
	w.line("  bad_stream_name    = module.bad_1_stream.name")
	w.blank()
	w.line("  enable_auto_scaling = var.ec2_enable_auto_scaling")
	w.line("  instance_type       = var.ec2_collector_instance_type")
	w.line("  min_size            = var.ec2_collector_min_size")
	w.line("  max_size            = var.ec2_collector_max_size")
	w.blank()
	w.ec2Common()
	w.line("}")
	w.blank()
	w.line("# 3. Enrich, with the local enrichments/*.json (JSON-encoded, as this module version")
	w.line("# stores them in its DynamoDB config table)")
	w.moduleHead("enrich_kinesis", enrichModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  app_version = %q", enrichAppVersion)
	w.blank()
	w.line("  name                 = \"${var.prefix}-enrich-server\"")
	w.line("  vpc_id               = var.vpc_id")
	w.line("  subnet_ids           = var.public_subnet_ids")
	w.line("  in_stream_name       = module.raw_stream.name")
	w.line("  enriched_stream_name = module.enriched_stream.name")
	w.line("  bad_stream_name      = module.bad_1_stream.name")
	w.blank()
	w.line("  enable_auto_scaling = var.ec2_enable_auto_scaling")
	w.line("  instance_type       = var.ec2_enrich_instance_type")
	w.line("  min_size            = var.ec2_enrich_min_size")
	w.line("  max_size            = var.ec2_enrich_max_size")
	w.blank()
	w.line("  custom_iglu_resolvers = local.custom_iglu_resolvers")
	w.blank()
	w.line("  kcl_write_max_capacity = var.pipeline_kcl_write_max_capacity")
	if s.AssetsBucket != "" || len(s.EgressPorts) > 0 {
		w.blank()
	}
	if s.AssetsBucket != "" {
		w.line("  # The enrichments read assets from this bucket")
		w.line("  custom_s3_hosted_assets_bucket_name = %s", q(s.AssetsBucket))
	}
	if len(s.EgressPorts) > 0 {
		w.line("  # The SQL enrichment's database")
		w.line("  custom_tcp_egress_port_list = %s", hclValue(strList(s.EgressPorts)))
	}
	if len(s.Enrichments) > 0 {
		w.blank()
		for _, e := range s.Enrichments {
			w.line("  %s = jsonencode(file(\"${path.module}/enrichments/%s\"))", e.Variable, e.FileName())
		}
	}
	w.blank()
	w.ec2Common()
	w.line("}")
	return w.format()
}

// s3LoaderModuleText writes one S3 loader of target_amazon_s3.tf.
func (w *hclText) s3Loader(name, enabled, in, bad, prefix string, extra ...string) {
	w.moduleHead("s3_loader_"+name, s3LoaderModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  count = var.%s ? 1 : 0", enabled)
	w.blank()
	w.line("  name             = \"${var.prefix}-s3-loader-%s-server\"", name)
	w.line("  vpc_id           = var.vpc_id")
	w.line("  subnet_ids       = var.public_subnet_ids")
	w.line("  in_stream_name   = module.%s.name", in)
	w.line("  bad_stream_name  = module.%s.name", bad)
	w.line("  s3_bucket_name   = local.s3_pipeline_bucket_name")
	w.line("  s3_object_prefix = \"${var.s3_bucket_object_prefix}%s\"", prefix)
	if len(extra) > 0 {
		w.blank()
		for _, l := range extra {
			w.line("  %s", l)
		}
	}
	w.blank()
	w.line("  kcl_write_max_capacity = var.pipeline_kcl_write_max_capacity")
	w.blank()
	w.ec2Common()
	w.line("}")
}

func targetS3() []byte {
	var w hclText
	w.s3Loader("raw", "s3_raw_enabled", "raw_stream", "bad_1_stream", "raw/")
	w.blank()
	w.s3Loader("bad", "s3_bad_enabled", "bad_1_stream", "bad_2_stream", "bad/partitioned/",
		`purpose          = "SELF_DESCRIBING"`, `partition_format = "{vendor}.{schema}"`)
	w.blank()
	w.s3Loader("enriched", "s3_enriched_enabled", "enriched_stream", "bad_1_stream", "enriched/", `purpose = "ENRICHED_EVENTS"`)
	return w.format()
}

func (w *hclText) postgresLoader(name, in, purpose, schema string) {
	w.moduleHead("postgres_loader_"+name, pgLoaderModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  count = var.postgres_db_enabled ? 1 : 0")
	w.blank()
	w.line("  name       = \"${var.prefix}-postgres-loader-%s-server\"", name)
	w.line("  vpc_id     = var.vpc_id")
	w.line("  subnet_ids = var.public_subnet_ids")
	w.blank()
	w.line("  in_stream_name = module.%s.name", in)
	w.line("  purpose        = %q", purpose)
	w.line("  schema_name    = %q", schema)
	w.blank()
	w.line("  custom_iglu_resolvers = local.custom_iglu_resolvers")
	w.blank()
	w.line("  db_sg_id    = module.postgres_loader_rds[0].sg_id")
	w.line("  db_host     = module.postgres_loader_rds[0].address")
	w.line("  db_port     = module.postgres_loader_rds[0].port")
	w.line("  db_name     = var.postgres_db_name")
	w.line("  db_username = var.postgres_db_username")
	w.line("  db_password = var.postgres_db_password")
	w.blank()
	w.line("  kcl_write_max_capacity = var.pipeline_kcl_write_max_capacity")
	w.blank()
	w.ec2Common()
	w.line("}")
}

func targetPostgres() []byte {
	var w hclText
	w.moduleHead("postgres_loader_rds", rdsModule)
	w.line("  count = var.postgres_db_enabled ? 1 : 0")
	w.blank()
	w.line("  name        = \"${var.prefix}-pipeline-rds\"")
	w.line("  vpc_id      = var.vpc_id")
	w.line("  subnet_ids  = var.public_subnet_ids")
	w.line("  db_name     = var.postgres_db_name")
	w.line("  db_username = var.postgres_db_username")
	w.line("  db_password = var.postgres_db_password")
	w.blank()
	w.line("  publicly_accessible     = var.postgres_db_publicly_accessible")
	w.line("  additional_ip_allowlist = var.postgres_db_ip_allowlist")
	w.blank()
	w.line("  ca_cert_identifier = %q", "rds-ca-rsa2048-g1")
	w.blank()
	w.line("  tags = var.tags")
	w.line("}")
	w.blank()
	w.postgresLoader("enriched", "enriched_stream", "ENRICHED_EVENTS", "atomic")
	w.blank()
	w.postgresLoader("bad", "bad_1_stream", "JSON", "atomic_bad")
	return w.format()
}

func targetSnowflakeStreaming() []byte {
	var w hclText
	w.moduleHead("snowflake_streaming_loader_enriched", sfStreamingModule)
	w.line("  accept_limited_use_license = var.accept_limited_use_license")
	w.blank()
	w.line("  count = var.snowflake_streaming_enabled ? 1 : 0")
	w.blank()
	w.line("  name       = \"${var.prefix}-sf-streaming-enriched\"")
	w.line("  vpc_id     = var.vpc_id")
	w.line("  subnet_ids = var.public_subnet_ids")
	w.blank()
	w.line("  in_stream_name  = module.enriched_stream.name")
	w.line("  bad_stream_name = module.bad_1_stream.name")
	w.blank()
	w.line("  snowflake_account_url = var.snowflake_streaming_account_url")
	w.line("  snowflake_loader_user = var.snowflake_streaming_loader_user")
	w.line("  snowflake_private_key = var.snowflake_streaming_loader_private_key")
	w.line("  snowflake_database    = var.snowflake_streaming_database")
	w.line("  snowflake_schema      = var.snowflake_streaming_schema")
	w.blank()
	w.line("  kcl_write_max_capacity = var.pipeline_kcl_write_max_capacity")
	w.blank()
	w.ec2Common()
	w.line("}")
	return w.format()
}

func pipelineOutputs(s Setup) []byte {
	var w hclText
	out := w.output
	out("collector_dns_name", "The ALB DNS name for the Pipeline Collector", "module.collector_lb.dns_name")
	streamOutputs(out)
	out("s3_bucket_name", "The bucket the S3 loaders write to", "local.s3_pipeline_bucket_name")
	if s.Targets.Postgres {
		out("postgres_db_address", "The RDS DNS name where your data is being streamed", "var.postgres_db_enabled ? module.postgres_loader_rds[0].address : null")
		out("postgres_db_port", "The RDS port where your data is being streamed", "var.postgres_db_enabled ? module.postgres_loader_rds[0].port : null")
		out("postgres_db_id", "The ID of the RDS instance", "var.postgres_db_enabled ? module.postgres_loader_rds[0].id : null")
	}
	return w.format()
}

func streamOutputs(out func(name, desc, value string)) {
	for _, s := range pipelineStreams {
		out(s.module+"_name", "The name of the "+s.stream+" Kinesis stream", "module."+s.module+".name")
	}
}

// --- hybrid --------------------------------------------------------------------

func hybridVariables() []variable {
	return []variable{
		{name: "prefix", typ: "string", description: "Will be prefixed to the stream names: the prefix `snowplow-mini run --kinesis-prefix` uses"},
		{name: "aws_region", typ: "string", description: "The AWS region to deploy into"},
		{name: "s3_bucket_name", typ: "string", description: "The name of the S3 bucket the S3 loader writes to"},
		{name: "kinesis_stream_mode_details", typ: "string", def: `"PROVISIONED"`, description: "PROVISIONED (pay per shard) or ON_DEMAND (pay per use, higher base cost)"},
		{name: "kinesis_shard_count", typ: "number", def: "1", description: "Shards per stream in PROVISIONED mode"},
		{name: "tags", typ: "map(string)", def: "{}", description: "The tags to append to the resources in this module"},
	}
}

func hybridMain() []byte {
	var w hclText
	w.line("# The four streams and the bucket that snowplow-mini's per-stage processes")
	w.line("# (snowplow-mini run collector|enrich|loader|s3-loader) use on AWS.")
	w.streamModules()
	w.bucketModule(false)
	return w.format()
}

func hybridOutputs() []byte {
	var w hclText
	out := w.output
	streamOutputs(out)
	out("s3_bucket_name", "The bucket the S3 loader writes to", "module.s3_pipeline_bucket.id")
	return w.format()
}

// renderStacks returns the Terraform files of the setup (everything but the tfvars,
// which Init merges with what is there, and the copied schemas).
func renderStacks(s Setup) []file {
	if s.Hybrid {
		return []file{
			{StackHybrid + "/versions.tf", versionsTF()},
			{StackHybrid + "/variables.tf", writeVariables(hybridVariables())},
			{StackHybrid + "/main.tf", hybridMain()},
			{StackHybrid + "/outputs.tf", hybridOutputs()},
		}
	}
	files := []file{
		{StackIglu + "/versions.tf", versionsTF()},
		{StackIglu + "/variables.tf", writeVariables(igluVariables())},
		{StackIglu + "/main.tf", igluMain()},
		{StackIglu + "/outputs.tf", igluOutputs()},
		{StackPipeline + "/versions.tf", versionsTF()},
		{StackPipeline + "/variables.tf", writeVariables(pipelineVariables(s))},
		{StackPipeline + "/main.tf", pipelineMain(s)},
		{StackPipeline + "/outputs.tf", pipelineOutputs(s)},
		{StackPipeline + "/target_amazon_s3.tf", targetS3()},
	}
	if s.Targets.Postgres {
		files = append(files, file{StackPipeline + "/target_postgres.tf", targetPostgres()})
	}
	if s.Targets.SnowflakeStreaming {
		files = append(files, file{StackPipeline + "/target_snowflake_streaming.tf", targetSnowflakeStreaming()})
	}
	for _, e := range s.Enrichments {
		files = append(files, file{StackPipeline + "/enrichments/" + e.FileName(), e.JSON})
	}
	return files
}
