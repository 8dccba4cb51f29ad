# SPDX-License-Identifier: MIT

resource "aws_ecs_cluster" "this" {
  name = var.name

  configuration {
    execute_command_configuration {
      kms_key_id = aws_kms_key.exec.arn
      # OVERRIDE: session logs go to the log group and bucket below, not to the container's
      # own awslogs group (DEFAULT), so the container log stays PID 1's and the application's.
      logging = "OVERRIDE"

      log_configuration {
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec.name
        cloud_watch_encryption_enabled = true
        s3_bucket_name                 = aws_s3_bucket.exec_logs.id
        s3_key_prefix                  = local.session_log_prefix
        s3_bucket_encryption_enabled   = true
      }
    }
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    merge(
      {
        name      = var.container_name
        image     = var.image
        essential = true
        # execmark is PID 1: it reaps every zombie (the SSM agent's orphans too), forwards
        # signals, shuts down gracefully and holds the per-boot signing key. That is what
        # linuxParameters.initProcessEnabled would add, so it stays unset: with it, Docker's
        # init (tini) would be PID 1 with execmark under it, two inits for one job, and
        # `execmark doctor` would report that PID 1 is not execmark.
        entryPoint  = ["/usr/local/bin/execmark", "init", "--grace", tostring(var.grace_seconds), "--"]
        stopTimeout = var.stop_timeout
        # Writable root file system: the SSM agent that ECS Exec injects writes under /var/lib
        # and /var/log, and execmark its socket under /run.
        readonlyRootFilesystem = false
        environment = [
          # How often PID 1 looks for SSM session workers (exec.seen / exec.gone markers).
          { name = "EXECMARK_WATCH_INTERVAL", value = "2" },
        ]
        # PID 1's markers go to stdout, i.e. this stream: the trust anchor for its key.
        logConfiguration = {
          logDriver = "awslogs"
          options = {
            awslogs-group         = aws_cloudwatch_log_group.app.name
            awslogs-region        = local.region
            awslogs-stream-prefix = local.app_stream_prefix
          }
        }
      },
      length(var.command) > 0 ? { command = var.command } : {},
    )
  ])
}
