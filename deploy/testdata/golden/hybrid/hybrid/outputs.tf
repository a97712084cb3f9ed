output "raw_stream_name" {
  description = "The name of the raw Kinesis stream"
  value       = module.raw_stream.name
}

output "bad_1_stream_name" {
  description = "The name of the bad-1 Kinesis stream"
  value       = module.bad_1_stream.name
}

output "enriched_stream_name" {
  description = "The name of the enriched Kinesis stream"
  value       = module.enriched_stream.name
}

output "bad_2_stream_name" {
  description = "The name of the bad-2 Kinesis stream"
  value       = module.bad_2_stream.name
}

output "s3_bucket_name" {
  description = "The bucket the S3 loader writes to"
  value       = module.s3_pipeline_bucket.id
}
