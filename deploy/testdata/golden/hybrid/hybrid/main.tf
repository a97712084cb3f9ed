# The four streams and the bucket that snowplow-mini's per-stage processes
# (snowplow-mini run collector|enrich|loader|s3-loader) use on AWS.
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

module "s3_pipeline_bucket" {
  source  = "snowplow-devops/s3-bucket/aws"
  version = "0.2.0"

  bucket_name = var.s3_bucket_name

  tags = var.tags
}
