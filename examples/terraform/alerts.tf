# SPDX-License-Identifier: MIT
# Alerts: every ECS Exec call (from CloudTrail, through EventBridge), and the marker-based
# checks that need no CloudTrail join: markers that PID 1 did not sign, and sessions that PID 1
# saw end without a session log that opened with a marker (hook missing or bypassed).
# `execmark audit` (examples/scripts/fetch-audit.sh) makes the exact, per-session judgement.

resource "aws_sns_topic" "alerts" {
  name = "${var.name}-exec-alerts"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alert_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid       = "EventBridgeRule"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.execute_command.arn]
    }
  }
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*"]
    }
  }
}

# ---- every ExecuteCommand call on this cluster, as CloudTrail recorded it. EventBridge gets
# CloudTrail's management events only where a trail logs them (an organization trail will do).
resource "aws_cloudwatch_event_rule" "execute_command" {
  name        = "${var.name}-execute-command"
  description = "ECS Exec sessions (and refused attempts) on cluster ${var.name}"
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["AWS API Call via CloudTrail"]
    detail = {
      eventSource = ["ecs.amazonaws.com"]
      eventName   = ["ExecuteCommand"]
      # The caller may name the cluster or give its ARN.
      requestParameters = {
        cluster = [var.name, local.cluster_arn]
      }
    }
  })
}

resource "aws_cloudwatch_event_target" "execute_command_sns" {
  rule      = aws_cloudwatch_event_rule.execute_command.name
  target_id = "sns"
  arn       = aws_sns_topic.alerts.arn

  input_transformer {
    input_paths = {
      time      = "$.time"
      principal = "$.detail.userIdentity.arn"
      source_ip = "$.detail.sourceIPAddress"
      session   = "$.detail.responseElements.session.sessionId"
      task      = "$.detail.requestParameters.task"
      container = "$.detail.requestParameters.container"
      command   = "$.detail.requestParameters.command"
      error     = "$.detail.errorCode"
    }
    # A JSON string: SNS delivers it as the message text. The session id names the session
    # log (stream and <prefix>/<id>.log) whose execmark markers `execmark audit` joins with
    # this event.
    input_template = "\"ECS Exec on ${var.name} at <time>: <principal> (from <source_ip>) opened session <session> in container <container> of task <task> with command <command>. Error, if refused: <error>. Check it: examples/scripts/fetch-audit.sh, then execmark audit.\""
  }
}

# ---- marker counts (namespace execmark). Filter patterns match the marker text itself:
# a marker line is `EXECMARK1 {"v":1,"ev":"<event>",...} ed25519=<sig>` or `... unsigned=<why>`.
locals {
  metric_namespace = "execmark"
}

# Session logs (one CloudWatch event holds many transcript lines: a count is of events, which
# for these markers is of sessions).
resource "aws_cloudwatch_log_metric_filter" "session_unsigned" {
  name           = "${var.name}-session-unsigned-markers"
  log_group_name = aws_cloudwatch_log_group.exec.name
  pattern        = "\"EXECMARK1\" \"unsigned=\""
  metric_transformation {
    name          = "SessionUnsignedMarkers"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

# The start of an open marker's payload, `{"v":1,"ev":"open",` (the regex uses `.` for each
# quote and colon, which filter-pattern regexes do not accept literally).
resource "aws_cloudwatch_log_metric_filter" "session_opened" {
  name           = "${var.name}-session-open-markers"
  log_group_name = aws_cloudwatch_log_group.exec.name
  pattern        = "%\\{.v..1,.ev...open.,%"
  metric_transformation {
    name          = "SessionOpenMarkers"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

# Container log: one line per event, PID 1's markers.
resource "aws_cloudwatch_log_metric_filter" "container_unsigned" {
  name           = "${var.name}-container-unsigned-markers"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "\"EXECMARK1\" \"unsigned=\""
  metric_transformation {
    name          = "ContainerUnsignedMarkers"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "exec_seen" {
  name           = "${var.name}-exec-seen"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "\"EXECMARK1\" \"exec.seen\""
  metric_transformation {
    name          = "ExecSessionsSeen"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_log_metric_filter" "exec_gone" {
  name           = "${var.name}-exec-gone"
  log_group_name = aws_cloudwatch_log_group.app.name
  pattern        = "\"EXECMARK1\" \"exec.gone\""
  metric_transformation {
    name          = "ExecSessionsEnded"
    namespace     = local.metric_namespace
    value         = "1"
    default_value = "0"
  }
}

# Any marker PID 1 could not sign: the agent was down, timed out or has no key
# (docs/configuration.md, "When the banner says the marker is not signed").
resource "aws_cloudwatch_metric_alarm" "unsigned" {
  alarm_name          = "${var.name}-unsigned-markers"
  alarm_description   = "execmark wrote unsigned markers on ${var.name}: a session shell could not get a signature from PID 1."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]

  metric_query {
    id          = "unsigned"
    expression  = "FILL(session, 0) + FILL(container, 0)"
    label       = "Unsigned markers"
    return_data = true
  }
  metric_query {
    id = "session"
    metric {
      namespace   = local.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.session_unsigned.metric_transformation[0].name
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "container"
    metric {
      namespace   = local.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.container_unsigned.metric_transformation[0].name
      period      = 300
      stat        = "Sum"
    }
  }
}

# PID 1 saw more SSM sessions end (exec.gone) than session logs arrived with an open marker:
# a shell without the hook, a session whose markers were removed, or an SSM session that
# bypassed ECS Exec (audit status BYPASSED). Both counts happen when a session ends (SSM
# uploads the log then), so they fall in the same hour except around the hour's turn; the
# alarm asks for an audit, which decides per session.
resource "aws_cloudwatch_metric_alarm" "bypassed" {
  alarm_name          = "${var.name}-sessions-without-markers"
  alarm_description   = "ECS Exec sessions on ${var.name} ended without a session log that opened with an execmark marker: run examples/scripts/fetch-audit.sh."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]

  metric_query {
    id          = "unmarked"
    expression  = "FILL(ended, 0) - FILL(opened, 0)"
    label       = "Sessions ended without an open marker"
    return_data = true
  }
  metric_query {
    id = "ended"
    metric {
      namespace   = local.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.exec_gone.metric_transformation[0].name
      period      = 3600
      stat        = "Sum"
    }
  }
  metric_query {
    id = "opened"
    metric {
      namespace   = local.metric_namespace
      metric_name = aws_cloudwatch_log_metric_filter.session_opened.metric_transformation[0].name
      period      = 3600
      stat        = "Sum"
    }
  }
}
