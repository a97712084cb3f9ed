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

variable "iglu_db_name" {
  description = "The name of the database to create"
  type        = string
}

variable "iglu_db_username" {
  description = "The username to use to connect to the database"
  type        = string
}

variable "iglu_db_password" {
  description = "The password to use to connect to the database"
  type        = string
  sensitive   = true
}

variable "iglu_super_api_key" {
  description = "A UUIDv4 string to use as the master API key for Iglu Server management"
  type        = string
  sensitive   = true
}

variable "iglu_patches_allowed" {
  description = "Whether a schema version already on the server may be replaced (pushing the same schemas again needs it)"
  type        = bool
  default     = true
}

variable "ec2_iglu_instance_type" {
  description = "The EC2 instance type of the Iglu Server servers"
  type        = string
  default     = "t3a.micro"
}

variable "ec2_iglu_min_size" {
  description = "The minimum number of Iglu Server servers"
  type        = number
  default     = 1
}

variable "ec2_iglu_max_size" {
  description = "The maximum number of Iglu Server servers"
  type        = number
  default     = 2
}
