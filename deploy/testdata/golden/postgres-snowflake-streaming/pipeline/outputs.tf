output "collector_dns_name" {
  description = "The ALB DNS name for the Pipeline Collector"
  value       = module.collector_lb.dns_name
}

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
  description = "The bucket the S3 loaders write to"
  value       = local.s3_pipeline_bucket_name
}

output "postgres_db_address" {
  description = "The RDS DNS name where your data is being streamed"
  value       = var.postgres_db_enabled ? module.postgres_loader_rds[0].address : null
}

output "postgres_db_port" {
  description = "The RDS port where your data is being streamed"
  value       = var.postgres_db_enabled ? module.postgres_loader_rds[0].port : null
}

output "postgres_db_id" {
  description = "The ID of the RDS instance"
  value       = var.postgres_db_enabled ? module.postgres_loader_rds[0].id : null
}
