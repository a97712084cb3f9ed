variable "accept_limited_use_license" {
  description = "Acceptance of the SLULA terms (https://docs.snowplow.io/limited-use-license-1.0/)"
  type        = bool
  default     = false

  validation {
    condition     = var.accept_limited_use_license
    error_message = "Please accept the terms of the Snowplow Limited Use License Agreement to proceed."
  }
}

variable "prefix" {
  description = "Will be prefixed to all resource names. Use to easily identify the resources created"
  type        = string
}

variable "aws_region" {
  description = "The AWS region to deploy into"
  type        = string
}

variable "vpc_id" {
  description = "The VPC to deploy the components within"
  type        = string
}

variable "public_subnet_ids" {
  description = "The list of public subnets to deploy the components across"
  type        = list(string)
}

variable "ssh_public_key" {
  description = "The SSH public key to use for the deployment"
  type        = string
}

variable "ssh_ip_allowlist" {
  description = "The list of CIDR ranges to allow SSH traffic from"
  type        = list(any)
}

variable "telemetry_enabled" {
  description = "Whether or not to send telemetry information back to Snowplow Analytics Ltd"
  type        = bool
  default     = true
}

variable "user_provided_id" {
  description = "An optional unique identifier to identify the telemetry events emitted by this stack"
  type        = string
  default     = ""
}

variable "iam_permissions_boundary" {
  description = "The permissions boundary ARN to set on IAM roles created"
  type        = string
  default     = ""
}

variable "ssl_information" {
  description = "The ARN of an Amazon Certificate Manager certificate to bind to the load balancer"
  type = object({
    enabled         = bool
    certificate_arn = string
  })
  default = {
    certificate_arn = ""
    enabled         = false
  }
}

variable "tags" {
  description = "The tags to append to the resources in this module"
  type        = map(string)
  default     = {}
}

variable "cloudwatch_logs_enabled" {
  description = "Whether application logs should be reported to CloudWatch"
  type        = bool
  default     = true
}

variable "cloudwatch_logs_retention_days" {
  description = "The length of time in days to retain logs for"
  type        = number
  default     = 7
}

variable "s3_bucket_name" {
  description = "The name of the S3 bucket events will be loaded into"
  type        = string
}

variable "s3_bucket_deploy" {
  description = "Whether this module should create a new bucket with the specified name - if the bucket already exists set this to false"
  type        = bool
  default     = true
}

variable "s3_bucket_object_prefix" {
  description = "An optional prefix under which Snowplow data will be saved (Note: your prefix must end with a trailing '/')"
  type        = string
  default     = ""
}

variable "iglu_server_dns_name" {
  description = "The DNS name of your Iglu Server"
  type        = string

  validation {
    condition     = can(regex("^http[s]?://.*$", var.iglu_server_dns_name))
    error_message = "Value must contain a http/s prefix"
  }
}

variable "iglu_super_api_key" {
  description = "A UUIDv4 string to use as the master API key for Iglu Server management"
  type        = string
  sensitive   = true
}

variable "extra_iglu_resolvers" {
  description = "Iglu repositories of the local resolver.json, used after the Iglu Server (Iglu Central is the enrich module's default)"
  type = list(object({
    name            = string
    priority        = number
    uri             = string
    api_key         = string
    vendor_prefixes = list(string)
  }))
  default   = []
  sensitive = true
}

variable "pipeline_kcl_write_max_capacity" {
  description = "Increasing this is important to increase throughput at very high pipeline volumes"
  type        = number
  default     = 50
}

variable "kinesis_stream_mode_details" {
  description = "PROVISIONED (pay per shard) or ON_DEMAND (pay per use, higher base cost)"
  type        = string
  default     = "PROVISIONED"
}

variable "kinesis_shard_count" {
  description = "Shards per stream in PROVISIONED mode"
  type        = number
  default     = 1
}

variable "ec2_enable_auto_scaling" {
  description = "Whether the collector and enrich servers scale with CPU"
  type        = bool
  default     = true
}

variable "ec2_collector_instance_type" {
  description = "The EC2 instance type of the collector servers"
  type        = string
  default     = "t3a.micro"
}

variable "ec2_collector_min_size" {
  description = "The minimum number of collector servers"
  type        = number
  default     = 1
}

variable "ec2_collector_max_size" {
  description = "The maximum number of collector servers"
  type        = number
  default     = 2
}

variable "ec2_enrich_instance_type" {
  description = "The EC2 instance type of the enrich servers"
  type        = string
  default     = "t3a.small"
}

variable "ec2_enrich_min_size" {
  description = "The minimum number of enrich servers"
  type        = number
  default     = 1
}

variable "ec2_enrich_max_size" {
  description = "The maximum number of enrich servers"
  type        = number
  default     = 2
}

variable "s3_raw_enabled" {
  description = "Whether to enable loading of raw data into S3 from Kinesis"
  type        = bool
  default     = false
}

variable "s3_bad_enabled" {
  description = "Whether to enable loading of bad data into S3 from Kinesis"
  type        = bool
  default     = true
}

variable "s3_enriched_enabled" {
  description = "Whether to enable loading of enriched data into S3 from Kinesis"
  type        = bool
  default     = true
}
