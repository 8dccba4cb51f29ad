// SPDX-License-Identifier: MIT
#pragma once

// Input formats and where a log's own session id comes from. Pure functions.

#include <string>
#include <string_view>

namespace execmark::audit {

enum class LogFormat {
    transcript,        // `script` typescript as uploaded to S3 (and to CloudWatch, as events)
    plain_text,        // any other text: a saved terminal, `docker logs`, `--output text`
    cloudwatch_json,   // `aws logs get-log-events` / `filter-log-events` JSON (or its events[])
    cloudwatch_export, // CloudWatch Logs export to S3: "<ISO-8601 timestamp> <message>" lines
};

std::string_view format_name(LogFormat format);

// Detects the format from the first bytes of the (decompressed) input.
// - JSON whose first key is a CloudWatch Logs response key (events, nextForwardToken,
//   nextBackwardToken, searchedLogStreams, nextToken), or a JSON array: cloudwatch_json. Other
//   JSON (an application logging JSON lines) is plain text.
// - "Script started on ": transcript.
// - A first line "YYYY-MM-DDTHH:MM:SS[.fff]Z ...": cloudwatch_export.
// - Anything else: plain_text.
LogFormat detect_log_format(std::string_view head);

// Whether a line begins with a CloudWatch export timestamp and a space; returns the length of
// that prefix (0 when it does not).
std::size_t export_timestamp_prefix(std::string_view line);

// ECS Exec session ids (and so session log stream names) begin with this.
inline constexpr std::string_view k_exec_session_prefix = "ecs-execute-command-";

bool is_exec_session_id(std::string_view name);

// The file name without directories and without trailing ".gz".
std::string base_name_without_gz(std::string_view path);

// A log's own session id when the input is a file, by its format (docs/auditing.md):
// - transcript / plain text / get-log-events JSON: the file name without ".gz" and then without
//   ".log", ".txt" or ".json" — S3 stores a session as "<prefix>/<session-id>.log";
// - CloudWatch export: the name of the directory holding the file, which the export names
//   after the log stream ("<prefix>/<task-id>/<stream>/000000.gz").
// Empty when nothing is left (stdin). The caller's --session wins over all of these.
std::string session_id_from_path(std::string_view path, LogFormat format);

// CloudWatch exports to S3 also write this object into the prefix; it is not a log.
inline constexpr std::string_view k_export_test_object = "aws-logs-write-test";

} // namespace execmark::audit
