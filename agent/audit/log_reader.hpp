// SPDX-License-Identifier: MIT
#pragma once

// Reading one log input (session or container log) in any supported shape and handing its
// candidate marker lines, per log, to the caller.

#include <agent/audit/formats.hpp>
#include <agent/audit/input.hpp>
#include <agent/audit/lines.hpp>
#include <agent/audit/pages.hpp>
#include <agent/util/result.hpp>

#include <cstdint>
#include <string>

namespace execmark::audit {

// One log: a file, a CloudWatch stream, or the objects of one exported stream.
struct LogIdentity {
    std::string key;        // inputs with the same key continue one log
    std::string source;     // for messages: the path, and the stream when there is one
    std::string own_sid;    // the log's own session id; empty when unknown
    std::string sid_origin; // where own_sid came from: "file name", "stream name", "--session"
    std::string stream;     // CloudWatch stream name when the input names one
    LogFormat format = LogFormat::plain_text;
};

// What the reader saw of a log once its input ended.
struct LogEnd {
    bool transcript = false; // it was a `script` transcript
    bool footer = false;     // ... ending with the "Script done on" footer
    std::uint64_t units = 0; // lines (text) or events (CloudWatch) read
};

class LogRouter {
public:
    virtual ~LogRouter() = default;

    // The sink for a log's candidate lines, or nullptr to skip the log. Called once per log and
    // input, before its lines.
    virtual LineSink* open_log(const LogIdentity& id) = 0;

    // After the last line of that log in this input.
    virtual void end_log(const LogIdentity& id, const LogEnd& end) = 0;
};

struct ReadOptions {
    std::string session_override;     // --session: the own session id of non-stream inputs
    PageSet* pages = nullptr;         // filter-log-events pages are recorded here (pages.hpp)
    std::string role = "session log"; // the role named for an incomplete page
};

// Reads the whole of in (opened from path) and routes its logs. Errors: I/O, decompression,
// invalid JSON; what was read before the error has been delivered.
util::Status
read_log_input(Input& in, const std::string& path, const ReadOptions& options, LogRouter& router);

// Cap on one line of a CloudWatch export kept in memory while events are reassembled; longer
// ones are passed on in pieces (the split-event rule rejoins a marker cut by that).
inline constexpr std::size_t k_max_export_event_bytes = 1024 * 1024;

} // namespace execmark::audit
