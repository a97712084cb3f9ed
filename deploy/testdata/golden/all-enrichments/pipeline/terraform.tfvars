# Please accept the terms of the Snowplow Limited Use License Agreement to proceed.
# (https://docs.snowplow.io/limited-use-license-1.0/) snowplow-mini never accepts it for you:
# set true yourself or run init with --accept-license.
accept_limited_use_license = true

# Will be prefixed to all resource names; the stream names are {prefix}-raw-stream etc.
prefix     = "acme"
aws_region = "eu-west-1"

# Bucket names are global: keep the random suffix or choose your own.
# To use an existing bucket set s3_bucket_deploy = false.
s3_bucket_name          = "acme-snowplow-golden"
s3_bucket_deploy        = true
s3_bucket_object_prefix = ""

# The VPC and its public subnets to deploy into (your default VPC:
# aws ec2 describe-vpcs --filters Name=is-default,Values=true)
vpc_id            = "vpc-0a1b2c3d"
public_subnet_ids = ["subnet-0a1b2c3d", "subnet-4e5f6a7b"]

# SSH: the public key of the servers and the CIDR ranges allowed to connect (empty: none)
ssh_public_key   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployTestKeyNotARealOne deploy@test"
ssh_ip_allowlist = ["203.0.113.7/32"]

# Load balancer SSL (optional)
ssl_information = {
  certificate_arn = ""
  enabled         = false
}

# Kinesis: PROVISIONED (kinesis_shard_count shards per stream) or ON_DEMAND
kinesis_stream_mode_details     = "PROVISIONED"
kinesis_shard_count             = 1
pipeline_kcl_write_max_capacity = 50

# Servers (collector and enrich scale on CPU between min and max)
ec2_enable_auto_scaling     = true
ec2_collector_instance_type = "t3a.micro"
ec2_collector_min_size      = 1
ec2_collector_max_size      = 2
ec2_enrich_instance_type    = "t3a.small"
ec2_enrich_min_size         = 1
ec2_enrich_max_size         = 2

# Target: Amazon S3 (always)
s3_raw_enabled      = false
s3_bad_enabled      = true
s3_enriched_enabled = true

# Telemetry sent to Snowplow Analytics Ltd by the modules
telemetry_enabled = true
user_provided_id  = ""

# AWS IAM (advanced setting)
iam_permissions_boundary = ""
tags                     = {}

# CloudWatch logging, so that logs are kept outside the servers
cloudwatch_logs_enabled        = true
cloudwatch_logs_retention_days = 7
