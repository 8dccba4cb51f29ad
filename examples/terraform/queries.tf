# SPDX-License-Identifier: MIT
# Saved CloudWatch Logs Insights queries (console: Logs Insights > Queries, folder execmark).
# Each parses fields out of the marker's JSON payload with a regex; `parse` takes the first
# match of an event, and a session-log event holds many transcript lines, so the queries that
# need one marker per event filter on that marker's event name first.

resource "aws_cloudwatch_query_definition" "sessions" {
  name            = "execmark/${var.name}/sessions opened (who claims what)"
  log_group_names = [aws_cloudwatch_log_group.exec.name]
  query_string    = <<-EOT
    filter @message like /EXECMARK1 \{"v":1,"ev":"open",/
    | parse @message /EXECMARK1 \{"v":1,"ev":"open","ts":"(?<opened>[^"]*)","kid":"(?<kid>[^"]*)","tseq":\d+,"sid":"(?<sid>[^"]*)"/
    | parse @message /"ev":"open",[^}]*"ctr":"(?<container>[^"]*)","user":"(?<claim>[^"]*)",[^}]*"reason":"(?<reason>[^"]*)","shell":"(?<shell>[^"]*)",[^}]*"mode":"(?<mode>[^"]*)"/
    | parse @message /"ev":"open",[^}]*\} (?<signature>ed25519|unsigned=[a-z0-9-]+)/
    | display opened, @logStream, sid, claim, reason, mode, shell, container, kid, signature
    | sort opened desc
  EOT
}

resource "aws_cloudwatch_query_definition" "unsigned" {
  name            = "execmark/${var.name}/unsigned markers"
  log_group_names = [aws_cloudwatch_log_group.exec.name, aws_cloudwatch_log_group.app.name]
  query_string    = <<-EOT
    filter @message like /EXECMARK1 \{.*\} unsigned=/
    | parse @message /EXECMARK1 \{"v":1,"ev":"(?<ev>[^"]*)","ts":"(?<ts>[^"]*)".*\} unsigned=(?<why>[a-z0-9-]+)/
    | parse @message /"user":"(?<claim>[^"]*)"/
    | display ts, @logGroup, @logStream, ev, why, claim
    | sort ts desc
  EOT
}

resource "aws_cloudwatch_query_definition" "streams_without_markers" {
  name            = "execmark/${var.name}/session logs without markers"
  log_group_names = [aws_cloudwatch_log_group.exec.name]
  query_string    = <<-EOT
    filter @logStream like /^ecs-execute-command-/
    | stats sum(strcontains(@message, "EXECMARK1")) as markers, min(@timestamp) as uploaded by @logStream
    | filter markers = 0
    | sort uploaded desc
  EOT
}

resource "aws_cloudwatch_query_definition" "seen_by_pid1" {
  name            = "execmark/${var.name}/sessions PID 1 saw"
  log_group_names = [aws_cloudwatch_log_group.app.name]
  query_string    = <<-EOT
    filter @message like /EXECMARK1 \{"v":1,"ev":"exec\.(seen|gone)",/
    | parse @message /"ev":"(?<ev>exec\.[a-z]+)","ts":"(?<ts>[^"]*)",.*"wsid":"(?<session>[^"]*)","wpid":(?<worker_pid>\d+)/
    | parse @message /"ev":"exec\.gone",.*"dur":(?<duration_ms>\d+)\}/
    | stats min(ts) as seen, max(ts) as gone, max(duration_ms) as ms by session, @logStream
    | sort seen desc
  EOT
}

resource "aws_cloudwatch_query_definition" "boot_keys" {
  name            = "execmark/${var.name}/boot keys (trust anchors)"
  log_group_names = [aws_cloudwatch_log_group.app.name]
  query_string    = <<-EOT
    filter @message like /EXECMARK1 \{"v":1,"ev":"(boot|meta|shutdown)",/
    | parse @message /"ev":"(?<ev>[a-z]+)","ts":"(?<ts>[^"]*)","kid":"(?<kid>[^"]*)"/
    | parse @message /"ev":"boot",.*"pub":"(?<pub>[A-Za-z0-9_-]+)","ver":"(?<version>[^"]*)"/
    | parse @message /"ev":"meta",.*"task":"(?<task>[^"]*)"/
    | parse @message /"ev":"shutdown",.*"rc":(?<exit_status>-?\d+)/
    | stats min(ts) as booted, max(ts) as last, latest(pub) as public_key, latest(version) as ver, latest(task) as task_arn, latest(exit_status) as rc by kid, @logStream
    | sort booted desc
  EOT
}
