terraform {
  required_version = ">= 1"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3"
    }
  }
}

# The region is a variable (not a prompt) so that plan and apply can run unattended.
provider "aws" {
  region = var.aws_region
}
