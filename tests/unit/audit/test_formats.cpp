// SPDX-License-Identifier: MIT
#include <agent/audit/formats.hpp>

#include <catch2/catch.hpp>

using namespace execmark::audit;

TEST_CASE("formats: detection from the first bytes")
{
    CHECK(detect_log_format("Script started on 2026-11-24 05:40:04+00:00 [COMMAND=\"cat x\"]\n")
          == LogFormat::transcript);
    CHECK(detect_log_format("{\n    \"events\": [\n") == LogFormat::cloudwatch_json);
    CHECK(detect_log_format("{\"nextForwardToken\":\"f/1\",\"events\":[]}")
          == LogFormat::cloudwatch_json);
    CHECK(detect_log_format("  [ {\"message\":\"x\"} ]") == LogFormat::cloudwatch_json);
    CHECK(detect_log_format("\xEF\xBB\xBF{\"events\":[]}") == LogFormat::cloudwatch_json);
    // An application logging JSON lines is plain text.
    CHECK(detect_log_format("{\"level\":\"info\",\"msg\":\"up\"}\n") == LogFormat::plain_text);
    CHECK(detect_log_format("2026-11-24T05:40:04.123Z hello\n") == LogFormat::cloudwatch_export);
    CHECK(detect_log_format("2026-11-24T05:40:04Z hello\n") == LogFormat::cloudwatch_export);
    CHECK(detect_log_format("2026-11-24 05:40:04 hello\n") == LogFormat::plain_text);
    CHECK(detect_log_format("") == LogFormat::plain_text);
    CHECK(detect_log_format("root@host:/# ls\r\n") == LogFormat::plain_text);
}

TEST_CASE("formats: export timestamp prefix")
{
    CHECK(export_timestamp_prefix("2026-11-24T05:40:04.123Z x") == 25);
    CHECK(export_timestamp_prefix("2026-11-24T05:40:04Z x") == 21);
    CHECK(export_timestamp_prefix("2026-11-24T05:40:04.Z x") == 0);
    CHECK(export_timestamp_prefix("2026-11-24T05:40:04.123Zx") == 0);
    CHECK(export_timestamp_prefix("2026-11-24T05:40:04.123Z") == 0);
}

TEST_CASE("formats: the log's own session id from its path")
{
    CHECK(session_id_from_path("s3/prod/ecs-execute-command-abc.log", LogFormat::transcript)
          == "ecs-execute-command-abc");
    CHECK(session_id_from_path("ecs-execute-command-abc.log.gz", LogFormat::transcript)
          == "ecs-execute-command-abc");
    CHECK(session_id_from_path("ecs-execute-command-abc.json", LogFormat::cloudwatch_json)
          == "ecs-execute-command-abc");
    CHECK(session_id_from_path("exp/task/ecs-execute-command-abc/000000.gz",
                               LogFormat::cloudwatch_export)
          == "ecs-execute-command-abc");
    CHECK(session_id_from_path("000000.gz", LogFormat::cloudwatch_export).empty());
    CHECK(session_id_from_path("-", LogFormat::plain_text).empty());
    CHECK(session_id_from_path("capture", LogFormat::plain_text) == "capture");
    CHECK(is_exec_session_id("ecs-execute-command-abc"));
    CHECK_FALSE(is_exec_session_id("ecs-execute-command-"));
    CHECK_FALSE(is_exec_session_id("ecs/app/0123"));
}
