# Please accept the terms of the Snowplow Limited Use License Agreement to proceed.
# (https://docs.snowplow.io/limited-use-license-1.0/) snowplow-mini never accepts it for you:
# set true yourself or run init with --accept-license.
accept_limited_use_license = true

# Will be prefixed to all resource names; the stream names are {prefix}-raw-stream etc.
prefix     = "acme"
aws_region = "eu-west-1"

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

# Iglu Server
iglu_db_name     = "iglu"
iglu_db_username = "iglu"

# Pushing the same schema version again (deploy aws push-schemas) needs this;
# false keeps published versions immutable
iglu_patches_allowed   = true
ec2_iglu_instance_type = "t3a.micro"
ec2_iglu_min_size      = 1
ec2_iglu_max_size      = 2

# Telemetry sent to Snowplow Analytics Ltd by the modules
telemetry_enabled = true
user_provided_id  = ""

# AWS IAM (advanced setting)
iam_permissions_boundary = ""
tags                     = {}

# CloudWatch logging, so that logs are kept outside the servers
cloudwatch_logs_enabled        = true
cloudwatch_logs_retention_days = 7
