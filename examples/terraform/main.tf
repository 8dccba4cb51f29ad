# SPDX-License-Identifier: MIT
# ECS Exec with signed attribution (execmark): a Fargate cluster whose sessions are logged to
# CloudWatch Logs and S3, a task definition that runs execmark as PID 1, least-privilege roles
# for the task and for operators, and alerts on sessions and on missing or unsigned markers.
# Files: main.tf (shared data, KMS, log storage), iam.tf, ecs.tf, alerts.tf, queries.tf.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  cluster_arn = "arn:${local.partition}:ecs:${local.region}:${local.account}:cluster/${var.name}"
  # Tasks of this cluster (ECS long ARN format: task/<cluster>/<id>).
  task_arns = "arn:${local.partition}:ecs:${local.region}:${local.account}:task/${var.name}/*"

  # Log groups: the session logs SSM uploads at the end of each session (one stream per SSM
  # session id), and the application container's own log (awslogs), where PID 1 writes its
  # boot, meta, exec.seen, exec.gone and shutdown markers.
  exec_log_group_name = "/ecs/${var.name}/exec-sessions"
  app_log_group_name  = "/ecs/${var.name}/${var.container_name}"
  app_stream_prefix   = "ecs"

  session_log_prefix = trim(var.session_log_prefix, "/")
}

# One key for the ECS Exec data channel (the cluster's kmsKeyId: the task role decrypts, the
# operator generates data keys) and for both log groups.
resource "aws_kms_key" "exec" {
  description             = "${var.name}: ECS Exec sessions and their logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "exec" {
  name          = "alias/${var.name}-exec"
  target_key_id = aws_kms_key.exec.key_id
}

data "aws_iam_policy_document" "kms" {
  # The account administers the key; IAM policies (iam.tf) grant its use.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  # CloudWatch Logs encrypts this account's log groups with it.
  statement {
    sid = "CloudWatchLogsEncrypts"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"]
    }
  }
}

resource "aws_cloudwatch_log_group" "exec" {
  name              = local.exec_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.exec.arn
}

resource "aws_cloudwatch_log_group" "app" {
  name              = local.app_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.exec.arn
}

# S3 copy of the session logs: <prefix>/<session-id>.log, the `script` transcript as SSM wrote
# it. Private, encrypted, versioned (an overwritten or deleted transcript keeps its old
# version for the auditor), TLS only.
resource "aws_s3_bucket" "exec_logs" {
  # At most 37 characters: S3 appends a unique suffix.
  bucket_prefix = "${substr(lower(var.name), 0, 20)}-exec-logs-"
}

resource "aws_s3_bucket_public_access_block" "exec_logs" {
  bucket                  = aws_s3_bucket.exec_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# SSM uploads with the bucket-owner-full-control ACL, which BucketOwnerEnforced accepts.
resource "aws_s3_bucket_ownership_controls" "exec_logs" {
  bucket = aws_s3_bucket.exec_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "exec_logs" {
  bucket = aws_s3_bucket.exec_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "exec_logs" {
  bucket = aws_s3_bucket.exec_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "exec_logs" {
  bucket = aws_s3_bucket.exec_logs.id
  policy = data.aws_iam_policy_document.exec_logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.exec_logs]
}

data "aws_iam_policy_document" "exec_logs_bucket" {
  statement {
    sid       = "TlsOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.exec_logs.arn, "${aws_s3_bucket.exec_logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
