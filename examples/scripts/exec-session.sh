#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# exec-session.sh — open an attributed ECS Exec session in a one-off task of your own:
#   1. who you are: `aws sts get-caller-identity`;
#   2. `aws ecs run-task --enable-execute-command` with your name as the AWS_USER container
#      override (the claim execmark signs into every marker) and your ARN as the Owner tag;
#   3. wait until the task runs and its ECS Exec agent is up;
#   4. `aws ecs execute-command --interactive` in wrapper mode, `execmark shell --reason ...`:
#      signed open and close markers without relying on rc files, and the reason recorded by
#      execmark and by CloudTrail (the command is part of the ExecuteCommand event);
#   5. stop the task when the session ends, however it ends.
# Needs the AWS CLI v2 and the Session Manager plugin. Run with --help for the options.
set -euo pipefail

prog=${0##*/}

usage() {
    cat <<EOF
Usage: $prog --cluster CLUSTER --task-definition FAMILY[:REV] --subnets ID[,ID...] --reason TEXT
       [--container NAME] [--security-groups ID[,ID...]] [--public-ip] [--shell PATH]
       [--execmark PATH] [--launch-type FARGATE|EC2] [--keep-task] [--region R] [--profile P]

Starts a one-off task with ECS Exec enabled, opens an interactive session in it through
execmark's wrapper mode, and stops the task when the session ends.

  --cluster NAME            cluster to run the task in (required)
  --task-definition FAMILY  task definition, family or family:revision (required)
  --subnets IDS             comma-separated subnet ids for the task (required, awsvpc)
  --reason TEXT             why you open the session, e.g. a ticket (required; signed by
                            execmark and visible in CloudTrail); letters, digits, spaces and
                            . , : / _ + = @ # - only, at most 200 characters
  --container NAME          container to open the session in (default: app)
  --security-groups IDS     comma-separated security group ids (default: the VPC's default)
  --public-ip               give the task a public IP (subnets without a NAT gateway)
  --shell PATH              shell to run in the session (default: /bin/sh)
  --execmark PATH           execmark in the image (default: /usr/local/bin/execmark)
  --launch-type TYPE        FARGATE (default) or EC2
  --keep-task               do not stop the task when the session ends
  --region R, --profile P   passed to every aws command
  -h, --help                this help

Exit status: the session's (as the AWS CLI reports it); 2 usage error; 1 any other failure.
EOF
}

die() {
    printf '%s: %s\n' "$prog" "$*" >&2
    exit 1
}

usage_error() {
    printf '%s: %s\n' "$prog" "$*" >&2
    printf 'Try %s --help\n' "$prog" >&2
    exit 2
}

need_value() {
    # $1 option, $2 number of arguments left including the option
    [ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

cluster="" task_definition="" subnets="" reason="" container="app" security_groups=""
public_ip="DISABLED" shell="/bin/sh" execmark="/usr/local/bin/execmark" launch_type="FARGATE"
keep_task=0
aws_opts=()

while [ $# -gt 0 ]; do
    case $1 in
        --cluster) need_value "$1" $#; cluster=$2; shift 2 ;;
        --task-definition) need_value "$1" $#; task_definition=$2; shift 2 ;;
        --subnets) need_value "$1" $#; subnets=$2; shift 2 ;;
        --reason) need_value "$1" $#; reason=$2; shift 2 ;;
        --container) need_value "$1" $#; container=$2; shift 2 ;;
        --security-groups) need_value "$1" $#; security_groups=$2; shift 2 ;;
        --public-ip) public_ip="ENABLED"; shift ;;
        --shell) need_value "$1" $#; shell=$2; shift 2 ;;
        --execmark) need_value "$1" $#; execmark=$2; shift 2 ;;
        --launch-type) need_value "$1" $#; launch_type=$2; shift 2 ;;
        --keep-task) keep_task=1; shift ;;
        --region | --profile) need_value "$1" $#; aws_opts+=("$1" "$2"); shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

missing=()
[ -n "$cluster" ] || missing+=(--cluster)
[ -n "$task_definition" ] || missing+=(--task-definition)
[ -n "$subnets" ] || missing+=(--subnets)
[ -n "$reason" ] || missing+=(--reason)
[ ${#missing[@]} -eq 0 ] || usage_error "missing ${missing[*]}"

# The command string is split by the SSM agent (shell-like quoting), and the reason is shown to
# auditors: keep it to characters that need no quoting rules and cannot break a log line.
if [ ${#reason} -gt 200 ] || [[ ! $reason =~ ^[A-Za-z0-9\ .,:/_+=@#-]+$ ]]; then
    usage_error "--reason: use letters, digits, spaces and . , : / _ + = @ # - (at most 200)"
fi
for value in "$shell" "$execmark"; do
    [[ $value =~ ^/[A-Za-z0-9._/+-]+$ ]] || usage_error "not an absolute path: $value"
done
case $launch_type in
    FARGATE | EC2) ;;
    *) usage_error "--launch-type must be FARGATE or EC2" ;;
esac
id_list='^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$'
[[ $subnets =~ $id_list ]] ||
    usage_error "--subnets: comma-separated ids, e.g. subnet-0a1b,subnet-2c3d"
[[ $container =~ ^[A-Za-z0-9_-]+$ ]] || usage_error "--container: letters, digits, _ and - only"
if [ -n "$security_groups" ] && [[ ! $security_groups =~ $id_list ]]; then
    usage_error "--security-groups: comma-separated ids, e.g. sg-0a1b2c3d"
fi

command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not on PATH"
command -v session-manager-plugin >/dev/null 2>&1 ||
    die "the Session Manager plugin is not on PATH (aws ecs execute-command needs it)"

awsc() {
    aws "${aws_opts[@]}" "$@"
}

# 1. Who is calling. The claim is the name the auditor matches against CloudTrail's principal
# (docs/auditing.md, section 5): the role session name, the IAM user name or the federated
# user name; the full ARN goes into the Owner tag.
caller_arn=$(awsc sts get-caller-identity --query Arn --output text) ||
    die "aws sts get-caller-identity failed: are you logged in (aws sso login, AWS_PROFILE)?"
case $caller_arn in
    arn:*:sts::*:assumed-role/*/*) claim=${caller_arn##*/} ;;
    arn:*:iam::*:user/*) claim=${caller_arn##*/} ;;
    arn:*:sts::*:federated-user/*) claim=${caller_arn##*/} ;;
    arn:*) claim=$caller_arn ;;
    *) die "unexpected caller identity: $caller_arn" ;;
esac
# IAM and STS names use only these characters; anything else would not be a real identity.
[[ $claim =~ ^[A-Za-z0-9+=,.@_:/-]+$ ]] || die "unexpected characters in caller identity: $claim"
[[ $caller_arn =~ ^[A-Za-z0-9+=,.@_:/-]+$ ]] || die "unexpected characters in caller ARN"
echo "$prog: you are $caller_arn (claim: $claim)" >&2

network="awsvpcConfiguration={subnets=[$subnets],assignPublicIp=$public_ip"
if [ -n "$security_groups" ]; then
    network+=",securityGroups=[$security_groups]"
fi
network+="}"
# JSON by hand: every value was checked above to hold no quote or backslash.
env_json="[{\"name\":\"AWS_USER\",\"value\":\"$claim\"}]"
overrides="{\"containerOverrides\":[{\"name\":\"$container\",\"environment\":$env_json}]}"
tags="[{\"key\":\"Owner\",\"value\":\"$caller_arn\"}]"

task_arn=""
# Runs on every exit (the EXIT trap), so the task never outlives the session.
# shellcheck disable=SC2317  # reached through the trap only
stop_task() {
    local status=$?
    trap - EXIT INT TERM HUP
    if [ -n "$task_arn" ]; then
        if [ "$keep_task" = 1 ]; then
            echo "$prog: task $task_arn keeps running (--keep-task)" >&2
        else
            echo "$prog: stopping task $task_arn" >&2
            awsc ecs stop-task --cluster "$cluster" --task "$task_arn" \
                --reason "exec-session.sh: session of $claim ended" >/dev/null ||
                echo "$prog: warning: could not stop task $task_arn; stop it yourself" >&2
        fi
    fi
    exit "$status"
}
trap stop_task EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# 2. The task, with ECS Exec enabled, the claim and the owner.
read -r task_arn failure < <(awsc ecs run-task --cluster "$cluster" \
    --task-definition "$task_definition" --launch-type "$launch_type" --count 1 \
    --enable-execute-command --network-configuration "$network" \
    --overrides "$overrides" --tags "$tags" --propagate-tags TASK_DEFINITION \
    --started-by "exec-session.sh" \
    --query '[tasks[0].taskArn, failures[0].reason]' --output text) ||
    die "aws ecs run-task failed"
if [ -z "$task_arn" ] || [ "$task_arn" = "None" ]; then
    task_arn=""
    die "run-task started no task: ${failure:-no reason given}"
fi
echo "$prog: started $task_arn" >&2

# 3. Running, and the ECS Exec agent in our container is up (execute-command fails until then).
if ! awsc ecs wait tasks-running --cluster "$cluster" --tasks "$task_arn"; then
    why=$(awsc ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
        --query 'tasks[0].stoppedReason' --output text 2>/dev/null || true)
    die "task did not reach RUNNING: ${why:-see the ECS console}"
fi
agent_status=""
agent_query="tasks[0].containers[?name=='$container'] | [0]"
agent_query+=".managedAgents[?name=='ExecuteCommandAgent'] | [0].lastStatus"
for _ in $(seq 1 60); do
    agent_status=$(awsc ecs describe-tasks --cluster "$cluster" --tasks "$task_arn" \
        --query "$agent_query" --output text)
    [ "$agent_status" = "RUNNING" ] && break
    sleep 2
done
[ "$agent_status" = "RUNNING" ] ||
    die "the ECS Exec agent of $container is ${agent_status:-unknown}, not RUNNING" \
        "(task role permissions? platform version?)"

# 4. The session, in execmark's wrapper mode. Its exit status is this script's. Ctrl-C belongs
# to the remote shell: while the session runs, SIGINT does not end this script (a trap that
# runs ':' is not inherited as "ignored", so the AWS CLI still gets its own Ctrl-C).
echo "$prog: opening a session in $container (reason: $reason)" >&2
trap ':' INT
session_status=0
awsc ecs execute-command --cluster "$cluster" --task "$task_arn" --container "$container" \
    --interactive --command "$execmark shell --reason '$reason' -- $shell" || session_status=$?
exit "$session_status"
