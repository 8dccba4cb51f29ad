# SPDX-License-Identifier: MIT
# Roles of the task (execution role: pull the image, ship the container log; task role: what
# the SSM agent inside the container needs for ECS Exec and its session logs) and the policy
# for operators who open sessions.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    # Only ECS on behalf of this account (confused-deputy protection).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account}:*"]
    }
  }
}

# ---- task execution role: used by ECS/Fargate, not by the application
resource "aws_iam_role" "execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

# ---- task role: the SSM agent that ECS Exec starts in the container runs with it
resource "aws_iam_role" "task" {
  name_prefix        = "${var.name}-task-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task_exec" {
  name   = "ecs-exec"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task_exec.json
}

data "aws_iam_policy_document" "task_exec" {
  # The SSM agent's control and data channels (what AmazonSSMManagedInstanceCore would grant,
  # without the rest of that policy).
  statement {
    sid = "SsmMessagesChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  # The data channel is encrypted with the cluster's KMS key.
  statement {
    sid       = "DecryptExecChannel"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.exec.arn]
  }

  # Session log upload to CloudWatch Logs at the end of each session: one stream per session.
  statement {
    sid       = "FindSessionLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }
  statement {
    sid = "WriteSessionLogs"
    actions = [
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = ["${aws_cloudwatch_log_group.exec.arn}:*"]
  }

  # Session log upload to S3: <prefix>/<session-id>.log; the agent checks the bucket's
  # encryption first.
  statement {
    sid       = "WriteSessionTranscripts"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.exec_logs.arn}/${local.session_log_prefix}/*"]
  }
  statement {
    sid       = "CheckBucketEncryption"
    actions   = ["s3:GetEncryptionConfiguration"]
    resources = [aws_s3_bucket.exec_logs.arn]
  }
}

# ---- operators: open sessions in the application container of this cluster's tasks only,
# and run and stop the one-off tasks of examples/scripts/exec-session.sh.
resource "aws_iam_policy" "operator" {
  name_prefix = "${var.name}-operator-"
  description = "Open ECS Exec sessions in container ${var.container_name} of cluster ${var.name}"
  policy      = data.aws_iam_policy_document.operator.json
}

resource "aws_iam_role_policy_attachment" "operator" {
  for_each   = toset(var.operator_role_names)
  role       = each.value
  policy_arn = aws_iam_policy.operator.arn
}

data "aws_iam_policy_document" "operator" {
  statement {
    sid       = "ExecIntoAppContainerOnly"
    actions   = ["ecs:ExecuteCommand"]
    resources = [local.cluster_arn, local.task_arns]
    # Sidecars (without execmark) are out of reach: sessions there would carry no markers.
    condition {
      test     = "StringEquals"
      variable = "ecs:container-name"
      values   = [var.container_name]
    }
  }

  # The client encrypts the session with the cluster's key.
  statement {
    sid       = "EncryptExecChannel"
    actions   = ["kms:GenerateDataKey"]
    resources = [aws_kms_key.exec.arn]
  }

  # A session started with `aws ssm start-session` straight to the task would bypass ECS Exec's
  # logging configuration (execmark's watcher still records it as exec.seen: BYPASSED).
  statement {
    sid       = "NoSsmSessionsIntoTasks"
    effect    = "Deny"
    actions   = ["ssm:StartSession"]
    resources = [local.task_arns]
  }

  # examples/scripts/exec-session.sh: a one-off task with the operator's claim and Owner tag.
  statement {
    sid       = "RunOneOffTask"
    actions   = ["ecs:RunTask"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account}:task-definition/${var.name}:*"]
    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [local.cluster_arn]
    }
  }
  statement {
    sid       = "TagOnRunTask"
    actions   = ["ecs:TagResource"]
    resources = [local.task_arns]
    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }
  statement {
    sid       = "WatchAndStopTasks"
    actions   = ["ecs:DescribeTasks", "ecs:StopTask"]
    resources = [local.task_arns]
  }
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task.arn, aws_iam_role.execution.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}
