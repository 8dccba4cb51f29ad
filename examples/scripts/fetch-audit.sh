#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fetch-audit.sh — the auditor's side: fetch everything `execmark audit` needs for a time window
# with the AWS CLI, then run it (docs/auditing.md):
#   - session logs: every session stream of the CloudWatch log group (get-log-events, page by
#     page) and/or every <session-id>.log object under the S3 prefix;
#   - the container log: PID 1's markers from the application's awslogs group (filter-log-events
#     on "EXECMARK1"), the only trusted source of the signing keys;
#   - CloudTrail: the ExecuteCommand events of the window, and the RunTask events from a day
#     earlier (who started the task and set the AWS_USER override).
# Everything lands in one directory, kept for the record; the report goes to stdout.
# Needs the AWS CLI v2, GNU date, and execmark on PATH (or --execmark). --help for the options.
set -euo pipefail

prog=${0##*/}

usage() {
    cat <<EOF
Usage: $prog --from TIME [--to TIME] --container-log-group GROUP
       (--exec-log-group GROUP | --s3 s3://BUCKET/PREFIX)...
       [--container-stream-prefix PREFIX] [--container-from TIME] [--task-window-hours N]
       [--out DIR] [--execmark PATH] [--json] [--fetch-only] [--region R] [--profile P]

Fetches the session logs, the container log and the CloudTrail events of a time window into
DIR, then runs execmark audit on them. Session logs are uploaded when a session ends: choose a
--to after the end of the sessions you audit (CloudTrail's event history also lags by minutes).

  --from TIME                  start of the window (required); TIME is anything GNU date -d
                               reads, e.g. 2026-03-02T00:00:00Z, "2 days ago", @1772409600
  --to TIME                    end of the window (default: now)
  --exec-log-group GROUP       CloudWatch log group of the session logs (ECS Exec OVERRIDE)
  --s3 s3://BUCKET/PREFIX      S3 location of the session logs (<prefix>/<session-id>.log)
  --container-log-group GROUP  the application container's awslogs group (required)
  --container-stream-prefix P  only container streams starting with P (e.g. ecs/app/<task-id>)
  --container-from TIME        read the container log from TIME (default: its beginning; the
                               boot marker of a long-running task can be days old)
  --task-window-hours N        RunTask events are fetched from N hours before --from (default 24)
  --out DIR                    where to put the files (default: execmark-audit-<from>); must
                               not exist or be empty
  --execmark PATH              the execmark binary (default: execmark on PATH)
  --json                       execmark audit --json (one JSON object per line)
  --fetch-only                 fetch, print the audit command, do not run it
  --region R, --profile P      passed to every aws command
  -h, --help                   this help

Exit status: execmark audit's (0 clean, 1 findings, 3 an input could not be read or no
session); 2 usage error; 1 a fetch failed.
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
    [ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

from="" to="now" exec_group="" s3_uri="" container_group="" container_prefix=""
container_from="" task_window_hours=24 out="" execmark="execmark" json=0 fetch_only=0
aws_opts=()

while [ $# -gt 0 ]; do
    case $1 in
        --from) need_value "$1" $#; from=$2; shift 2 ;;
        --to) need_value "$1" $#; to=$2; shift 2 ;;
        --exec-log-group) need_value "$1" $#; exec_group=$2; shift 2 ;;
        --s3) need_value "$1" $#; s3_uri=$2; shift 2 ;;
        --container-log-group) need_value "$1" $#; container_group=$2; shift 2 ;;
        --container-stream-prefix) need_value "$1" $#; container_prefix=$2; shift 2 ;;
        --container-from) need_value "$1" $#; container_from=$2; shift 2 ;;
        --task-window-hours) need_value "$1" $#; task_window_hours=$2; shift 2 ;;
        --out) need_value "$1" $#; out=$2; shift 2 ;;
        --execmark) need_value "$1" $#; execmark=$2; shift 2 ;;
        --json) json=1; shift ;;
        --fetch-only) fetch_only=1; shift ;;
        --region | --profile) need_value "$1" $#; aws_opts+=("$1" "$2"); shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown argument: $1" ;;
    esac
done

[ -n "$from" ] || usage_error "missing --from"
[ -n "$container_group" ] || usage_error "missing --container-log-group (the trusted key source)"
[ -n "$exec_group$s3_uri" ] || usage_error "give --exec-log-group, --s3 or both"
[[ $task_window_hours =~ ^[0-9]{1,4}$ ]] || usage_error "--task-window-hours: a number of hours"
group_re='^[A-Za-z0-9._/#-]+$'
for group in "$exec_group" "$container_group"; do
    if [ -n "$group" ] && [[ ! $group =~ $group_re ]]; then
        usage_error "not a log group name: $group"
    fi
done
s3_bucket="" s3_prefix=""
if [ -n "$s3_uri" ]; then
    [[ $s3_uri =~ ^s3://([a-z0-9.-]+)(/(.*))?$ ]] || usage_error "--s3: s3://BUCKET/PREFIX"
    s3_bucket=${BASH_REMATCH[1]}
    s3_prefix=${BASH_REMATCH[3]%/}
fi

# Times as epoch seconds (GNU date), then in the forms the APIs want.
epoch() {
    date -u -d "$1" +%s 2>/dev/null || usage_error "cannot read the time '$1' (GNU date -d)"
}
iso() {
    date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
from_s=$(epoch "$from")
to_s=$(epoch "$to")
[ "$from_s" -lt "$to_s" ] || usage_error "--from must be before --to"
container_from_ms=0
if [ -n "$container_from" ]; then
    container_from_ms=$(( $(epoch "$container_from") * 1000 ))
fi
runtask_from_s=$(( from_s - task_window_hours * 3600 ))

command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not on PATH"
if [ "$fetch_only" = 0 ] && ! command -v "$execmark" >/dev/null 2>&1; then
    die "execmark not found ($execmark): give --execmark PATH, or --fetch-only"
fi

[ -n "$out" ] || out="execmark-audit-$(date -u -d "@$from_s" +%Y%m%dT%H%M%SZ)"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
    usage_error "$out exists and is not empty: files of another fetch would mix in (use --out)"
fi
mkdir -p "$out/sessions" "$out/container" "$out/cloudtrail"

awsc() {
    aws "${aws_opts[@]}" "$@"
}

log() {
    printf '%s: %s\n' "$prog" "$*" >&2
}

# A session id or stream name as a file name: SSM session ids are [a-z0-9-].
safe_name() {
    [[ $1 =~ ^[A-Za-z0-9._-]+$ ]] && [ "$1" != "." ] && [ "$1" != ".." ]
}

# ---- session logs, CloudWatch: one file per session stream, named <session-id>.json (the
# auditor takes the session id from the file name). get-log-events has no CLI pagination: page
# with nextForwardToken until it comes back unchanged; the pages are concatenated JSON
# documents, which execmark reads in order.
sessions=0
if [ -n "$exec_group" ]; then
    mkdir -p "$out/sessions/cloudwatch"
    # Streams with events (uploads) in the window; JMESPath number literals in backquotes.
    in_window="lastEventTimestamp >= \`$((from_s * 1000))\`"
    in_window+=" && firstEventTimestamp <= \`$((to_s * 1000))\`"
    streams=$(awsc logs describe-log-streams --log-group-name "$exec_group" \
        --log-stream-name-prefix ecs-execute-command- \
        --query "logStreams[?$in_window].logStreamName" --output text) ||
        die "aws logs describe-log-streams $exec_group failed"
    for stream in $streams; do
        [ "$stream" != "None" ] || continue
        safe_name "$stream" || { log "skipping stream with an unexpected name: $stream"; continue; }
        file="$out/sessions/cloudwatch/$stream.json"
        token="" pages=0
        while :; do
            page_args=(--log-group-name "$exec_group" --log-stream-name "$stream" --start-from-head)
            [ -z "$token" ] || page_args+=(--next-token "$token")
            page=$(awsc logs get-log-events "${page_args[@]}" --output json) ||
                die "aws logs get-log-events $exec_group $stream failed"
            printf '%s\n' "$page" >>"$file"
            pages=$((pages + 1))
            next=$(printf '%s\n' "$page" | grep -o '"nextForwardToken": *"[^"]*"' | tail -n 1 |
                sed 's/.*: *"\(.*\)"/\1/' || true)
            if [ -z "$next" ] || [ "$next" = "$token" ] || [ "$pages" -ge 10000 ]; then
                break
            fi
            token=$next
        done
        sessions=$((sessions + 1))
    done
    log "CloudWatch: $sessions session logs from $exec_group"
fi

# ---- session logs, S3: the objects as they are (file name <session-id>.log), those written in
# the window.
if [ -n "$s3_bucket" ]; then
    mkdir -p "$out/sessions/s3"
    list_prefix=${s3_prefix:+$s3_prefix/}
    objects=$(awsc s3api list-objects-v2 --bucket "$s3_bucket" --prefix "$list_prefix" \
        --query 'Contents[].[Key, LastModified]' --output text) ||
        die "aws s3api list-objects-v2 s3://$s3_bucket/$list_prefix failed"
    fetched=0
    while IFS=$'\t' read -r key modified; do
        if [ -z "$key" ] || [ "$key" = "None" ]; then
            continue
        fi
        name=${key##*/}
        case $name in *.log) ;; *) continue ;; esac
        safe_name "$name" || { log "skipping object with an unexpected name: $key"; continue; }
        modified_s=$(date -u -d "$modified" +%s 2>/dev/null) || continue
        if [ "$modified_s" -lt "$from_s" ] || [ "$modified_s" -gt "$to_s" ]; then
            continue
        fi
        awsc s3 cp --only-show-errors "s3://$s3_bucket/$key" "$out/sessions/s3/$name" ||
            die "aws s3 cp s3://$s3_bucket/$key failed"
        fetched=$((fetched + 1))
    done <<<"$objects"
    sessions=$((sessions + fetched))
    log "S3: $fetched session logs from s3://$s3_bucket/$list_prefix"
fi

# ---- the container log: PID 1's markers only (filter-log-events names each event's stream;
# the CLI fetches every page).
container_args=(--log-group-name "$container_group" --filter-pattern '"EXECMARK1"'
    --start-time "$container_from_ms" --end-time "$((to_s * 1000))")
[ -z "$container_prefix" ] || container_args+=(--log-stream-name-prefix "$container_prefix")
awsc logs filter-log-events "${container_args[@]}" --output json \
    >"$out/container/container-log.json" ||
    die "aws logs filter-log-events $container_group failed"
log "container log: PID 1's markers from $container_group"

# ---- CloudTrail event history (the CLI fetches every page; the API allows 2 calls a second,
# the CLI retries when throttled).
awsc cloudtrail lookup-events \
    --lookup-attributes AttributeKey=EventName,AttributeValue=ExecuteCommand \
    --start-time "$(iso "$from_s")" --end-time "$(iso "$to_s")" --output json \
    >"$out/cloudtrail/execute-command.json" ||
    die "aws cloudtrail lookup-events ExecuteCommand failed"
awsc cloudtrail lookup-events \
    --lookup-attributes AttributeKey=EventName,AttributeValue=RunTask \
    --start-time "$(iso "$runtask_from_s")" --end-time "$(iso "$to_s")" --output json \
    >"$out/cloudtrail/run-task.json" || die "aws cloudtrail lookup-events RunTask failed"
log "CloudTrail: ExecuteCommand $(iso "$from_s") to $(iso "$to_s")," \
    "RunTask from $(iso "$runtask_from_s")"

audit=("$execmark" audit --cloudtrail "$out/cloudtrail/execute-command.json"
    --cloudtrail "$out/cloudtrail/run-task.json" --container-log "$out/container")
[ "$json" = 0 ] || audit+=(--json)
audit+=("$out/sessions")
log "files in $out; audit: ${audit[*]}"
if [ "$fetch_only" = 1 ]; then
    exit 0
fi
status=0
"${audit[@]}" || status=$?
exit "$status"
