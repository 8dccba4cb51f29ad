# SPDX-License-Identifier: MIT

variable "region" {
  description = "AWS region of the cluster, its logs and the alerts."
  type        = string
}

variable "name" {
  description = "Name of the cluster and prefix of everything else (letters, digits, '-')."
  type        = string
  default     = "execmark-demo"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,30}$", var.name))
    error_message = "The name must start with a letter and hold at most 31 letters, digits or '-'."
  }
}

variable "image" {
  description = "Application image with execmark installed (examples/images/)."
  type        = string
}

variable "container_name" {
  description = "Name of the application container: the one operators may open sessions in."
  type        = string
  default     = "app"
}

variable "command" {
  description = "The application's command, run by execmark as its child (empty: the image's CMD)."
  type        = list(string)
  default     = []
}

variable "cpu" {
  description = "Task CPU units (Fargate sizes)."
  type        = number
  default     = 256
}

variable "memory" {
  description = "Task memory in MiB (Fargate sizes)."
  type        = number
  default     = 512
}

variable "cpu_architecture" {
  description = "X86_64, or ARM64 for Graviton (execmark builds for both: docker/Dockerfile)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "stop_timeout" {
  description = "Seconds ECS waits after SIGTERM before SIGKILL (2-120 on Fargate)."
  type        = number
  default     = 30
}

variable "grace_seconds" {
  description = "execmark's own shutdown window; keep it below stop_timeout (docs/configuration.md)."
  type        = number
  default     = 25
}

variable "subnet_ids" {
  description = "Subnets for run-task (awsvpc); only used in the example commands printed as outputs."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups for run-task; only used in the example commands printed as outputs."
  type        = list(string)
  default     = []
}

variable "session_log_prefix" {
  description = "S3 key prefix of the session logs: objects are <prefix>/<session-id>.log."
  type        = string
  default     = "exec-sessions"
}

variable "log_retention_days" {
  description = "Retention of the session and container log groups (the container log is the key's trust anchor: keep it as long as the session logs)."
  type        = number
  default     = 400
}

variable "operator_role_names" {
  description = "IAM roles of the operators who may open ECS Exec sessions; the operator policy is attached to each."
  type        = list(string)
  default     = []
}

variable "alert_email" {
  description = "E-mail address subscribed to the alert topic (empty: none; subscribe your own endpoints)."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
