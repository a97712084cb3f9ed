# The prefix of the stream names: {prefix}-raw-stream, {prefix}-enriched-stream,
# {prefix}-bad-1-stream, {prefix}-bad-2-stream (snowplow-mini run --kinesis-prefix)
prefix     = "acme"
aws_region = "eu-west-1"

# Bucket names are global: keep the random suffix or choose your own
s3_bucket_name = "acme-snowplow-golden"

# Kinesis: PROVISIONED (kinesis_shard_count shards per stream) or ON_DEMAND
kinesis_stream_mode_details = "PROVISIONED"
kinesis_shard_count         = 1
tags                        = {}
