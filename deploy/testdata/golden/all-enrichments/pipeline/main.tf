locals {
  # The Iglu Server of the iglu_server stack first, then the other repositories of
  # the local resolver.json; the enrich module adds Iglu Central after them.
  custom_iglu_resolvers = concat([
    {
      name            = "Iglu Server"
      priority        = 0
      uri             = "${var.iglu_server_dns_name}/api"
      api_key         = var.iglu_super_api_key
      vendor_prefixes = []
    }
  ], var.extra_iglu_resolvers)
}

module "s3_pipeline_bucket" {
  source  = "snowplow-devops/s3-bucket/aws"
  version = "0.2.0"

  count = var.s3_bucket_deploy ? 1 : 0

  bucket_name = var.s3_bucket_name

  tags = var.tags
}

locals {
  s3_pipeline_bucket_name = var.s3_bucket_deploy ? join("", module.s3_pipeline_bucket.*.id) : var.s3_bucket_name
}

# 0. Setup key for SSH into deployed servers
resource "aws_key_pair" "pipeline" {
  key_name   = "${var.prefix}-pipeline"
  public_key = var.ssh_public_key
}

# 1. Kinesis streams, named as `snowplow-mini run` names them
module "raw_stream" {
  source  = "snowplow-devops/kinesis-stream/aws"
  version = "0.3.0"

  name = "${var.prefix}-raw-stream"

  shard_count         = var.kinesis_shard_count
  stream_mode_details = var.kinesis_stream_mode_details

  tags = var.tags
}

module "bad_1_stream" {
  source  = "snowplow-devops/kinesis-stream/aws"
  version = "0.3.0"

  name = "${var.prefix}-bad-1-stream"

  shard_count         = var.kinesis_shard_count
  stream_mode_details = var.kinesis_stream_mode_details

  tags = var.tags
}

module "enriched_stream" {
  source  = "snowplow-devops/kinesis-stream/aws"
  version = "0.3.0"

  name = "${var.prefix}-enriched-stream"

  shard_count         = var.kinesis_shard_count
  stream_mode_details = var.kinesis_stream_mode_details

  tags = var.tags
}

module "bad_2_stream" {
  source  = "snowplow-devops/kinesis-stream/aws"
  version = "0.3.0"

  name = "${var.prefix}-bad-2-stream"

  shard_count         = var.kinesis_shard_count
  stream_mode_details = var.kinesis_stream_mode_details

  tags = var.tags
}

# 2. Collector
module "collector_lb" {
  source  = "snowplow-devops/alb/aws"
  version = "0.2.0"

  name              = "${var.prefix}-collector-lb"
  vpc_id            = var.vpc_id
  subnet_ids        = var.public_subnet_ids
  health_check_path = "/health"

  ssl_certificate_arn     = var.ssl_information.certificate_arn
  ssl_certificate_enabled = var.ssl_information.enabled

  tags = var.tags
}

module "collector_kinesis" {
  source  = "snowplow-devops/collector-kinesis-ec2/aws"
  version = "0.9.1"

  accept_limited_use_license = var.accept_limited_use_license

  app_version = "3.3.0"

  name               = "${var.prefix}-collector-server"
  vpc_id             = var.vpc_id
  subnet_ids         = var.public_subnet_ids
  collector_lb_sg_id = module.collector_lb.sg_id
  collector_lb_tg_id = module.collector_lb.tg_id
  ingress_port       = module.collector_lb.tg_egress_port
  good_stream_name   = module.raw_stream.name
  bad_stream_name    = module.bad_1_stream.name

  enable_auto_scaling = var.ec2_enable_auto_scaling
  instance_type       = var.ec2_collector_instance_type
  min_size            = var.ec2_collector_min_size
  max_size            = var.ec2_collector_max_size

  ssh_key_name     = aws_key_pair.pipeline.key_name
  ssh_ip_allowlist = var.ssh_ip_allowlist

  iam_permissions_boundary = var.iam_permissions_boundary

  telemetry_enabled = var.telemetry_enabled
  user_provided_id  = var.user_provided_id

  tags = var.tags

  cloudwatch_logs_enabled        = var.cloudwatch_logs_enabled
  cloudwatch_logs_retention_days = var.cloudwatch_logs_retention_days
}

# 3. Enrich, with the local enrichments/*.json (JSON-encoded, as this module version
# stores them in its DynamoDB config table)
module "enrich_kinesis" {
  source  = "snowplow-devops/enrich-kinesis-ec2/aws"
  version = "0.6.1"

  accept_limited_use_license = var.accept_limited_use_license

  app_version = "5.2.0"

  name                 = "${var.prefix}-enrich-server"
  vpc_id               = var.vpc_id
  subnet_ids           = var.public_subnet_ids
  in_stream_name       = module.raw_stream.name
  enriched_stream_name = module.enriched_stream.name
  bad_stream_name      = module.bad_1_stream.name

  enable_auto_scaling = var.ec2_enable_auto_scaling
  instance_type       = var.ec2_enrich_instance_type
  min_size            = var.ec2_enrich_min_size
  max_size            = var.ec2_enrich_max_size

  custom_iglu_resolvers = local.custom_iglu_resolvers

  kcl_write_max_capacity = var.pipeline_kcl_write_max_capacity

  # The enrichments read assets from this bucket
  custom_s3_hosted_assets_bucket_name = "acme-enrichment-assets"
  # The SQL enrichment's database
  custom_tcp_egress_port_list = ["5432"]

  enrichment_anon_ip                         = jsonencode(file("${path.module}/enrichments/anon_ip.json"))
  enrichment_api_request_enrichment_config   = jsonencode(file("${path.module}/enrichments/api_request_enrichment_config.json"))
  enrichment_campaign_attribution            = jsonencode(file("${path.module}/enrichments/campaign_attribution.json"))
  enrichment_cookie_extractor_config         = jsonencode(file("${path.module}/enrichments/cookie_extractor_config.json"))
  enrichment_currency_conversion_config      = jsonencode(file("${path.module}/enrichments/currency_conversion_config.json"))
  enrichment_event_fingerprint_config        = jsonencode(file("${path.module}/enrichments/event_fingerprint_config.json"))
  enrichment_http_header_extractor_config    = jsonencode(file("${path.module}/enrichments/http_header_extractor_config.json"))
  enrichment_iab_spiders_and_bots_enrichment = jsonencode(file("${path.module}/enrichments/iab_spiders_and_robots_enrichment.json"))
  enrichment_ip_lookups                      = jsonencode(file("${path.module}/enrichments/ip_lookups.json"))
  enrichment_javascript_script_config        = jsonencode(file("${path.module}/enrichments/javascript_script_config.json"))
  enrichment_pii_enrichment_config           = jsonencode(file("${path.module}/enrichments/pii_enrichment_config.json"))
  enrichment_referer_parser                  = jsonencode(file("${path.module}/enrichments/referer_parser.json"))
  enrichment_sql_query_enrichment_config     = jsonencode(file("${path.module}/enrichments/sql_query_enrichment_config.json"))
  enrichment_ua_parser_config                = jsonencode(file("${path.module}/enrichments/ua_parser_config.json"))
  enrichment_weather_enrichment_config       = jsonencode(file("${path.module}/enrichments/weather_enrichment_config.json"))
  enrichment_yauaa_enrichment_config         = jsonencode(file("${path.module}/enrichments/yauaa_enrichment_config.json"))

  ssh_key_name     = aws_key_pair.pipeline.key_name
  ssh_ip_allowlist = var.ssh_ip_allowlist

  iam_permissions_boundary = var.iam_permissions_boundary

  telemetry_enabled = var.telemetry_enabled
  user_provided_id  = var.user_provided_id

  tags = var.tags

  cloudwatch_logs_enabled        = var.cloudwatch_logs_enabled
  cloudwatch_logs_retention_days = var.cloudwatch_logs_retention_days
}
