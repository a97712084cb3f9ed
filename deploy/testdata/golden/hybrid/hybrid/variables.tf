variable "prefix" {
  description = "Will be prefixed to the stream names: the prefix `snowplow-mini run --kinesis-prefix` uses"
  type        = string
}

variable "aws_region" {
  description = "The AWS region to deploy into"
  type        = string
}

variable "s3_bucket_name" {
  description = "The name of the S3 bucket the S3 loader writes to"
  type        = string
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

variable "tags" {
  description = "The tags to append to the resources in this module"
  type        = map(string)
  default     = {}
}
