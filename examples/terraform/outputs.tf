# SPDX-License-Identifier: MIT

output "cluster_name" {
  value = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  value = aws_ecs_cluster.this.arn
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.app.arn
}

output "container_name" {
  value = var.container_name
}

output "exec_log_group" {
  description = "Session logs in CloudWatch: one stream per SSM session id."
  value       = aws_cloudwatch_log_group.exec.name
}

output "container_log_group" {
  description = "The application container's log, with PID 1's boot markers (the key's trust anchor)."
  value       = aws_cloudwatch_log_group.app.name
}

output "session_log_s3_uri" {
  description = "Session logs in S3: <uri>/<session-id>.log."
  value       = "s3://${aws_s3_bucket.exec_logs.id}/${local.session_log_prefix}/"
}

output "operator_policy_arn" {
  value = aws_iam_policy.operator.arn
}

output "alerts_topic_arn" {
  value = aws_sns_topic.alerts.arn
}

output "exec_session_command" {
  description = "Open a session in a one-off task (examples/scripts/exec-session.sh)."
  value = join(" ", concat(
    ["examples/scripts/exec-session.sh", "--region", local.region, "--cluster", var.name,
    "--task-definition", aws_ecs_task_definition.app.family, "--container", var.container_name],
    length(var.subnet_ids) > 0 ? ["--subnets", join(",", var.subnet_ids)] : ["--subnets", "SUBNET_IDS"],
    length(var.security_group_ids) > 0 ? ["--security-groups", join(",", var.security_group_ids)] : [],
    ["--reason", "TICKET-123"],
  ))
}

output "fetch_audit_command" {
  description = "Fetch the logs and CloudTrail events of a day and run execmark audit (examples/scripts/fetch-audit.sh)."
  value = join(" ", [
    "examples/scripts/fetch-audit.sh", "--region", local.region,
    "--exec-log-group", aws_cloudwatch_log_group.exec.name,
    "--s3", "s3://${aws_s3_bucket.exec_logs.id}/${local.session_log_prefix}",
    "--container-log-group", aws_cloudwatch_log_group.app.name,
    "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z",
  ])
}
