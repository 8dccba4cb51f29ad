// SPDX-License-Identifier: MIT
#pragma once

// A model of what the SSM agent does to a session's terminal output between the pty and
// storage (../shared/reference/ecs-exec-internals.md §3.3-3.4), for the property test and the
// fuzz target: `script -c "cat ipcTempFile.log"` (header, ONLCR of its pty, footer) for S3,
// then the CloudWatch event construction (whole lines up to 200,000 bytes, longer lines in
// 200,000-byte pieces, CR LF -> LF, trailing LF dropped, invalid UTF-8 -> U+FFFD per byte as
// Go's JSON encoder does).

#include <agent/transcript/transcript.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace execmark::transcript::model {

inline constexpr std::string_view k_header =
    "Script started on 2026-11-24 05:40:04+00:00 [COMMAND=\"cat /var/lib/amazon/ssm/i-0/session/"
    "orchestration/s/InteractiveCommands/ipcTempFile.log\" <not executed on terminal>]\n";
inline constexpr std::string_view k_footer =
    "\nScript done on 2026-11-24 05:52:17+00:00 [COMMAND_EXIT_CODE=\"0\"]\n";

// ONLCR of the second pty: every LF becomes CR LF.
inline std::string onlcr(std::string_view raw)
{
    std::string out;
    out.reserve(raw.size() + raw.size() / 16);
    for (const char c : raw) {
        if (c == '\n') {
            out.push_back('\r');
        }
        out.push_back(c);
    }
    return out;
}

// The typescript file uploaded to S3 for terminal output raw.
inline std::string typescript(std::string_view raw)
{
    return std::string(k_header) + onlcr(raw) + std::string(k_footer);
}

// Go's []byte -> string -> JSON: each byte that does not start a well-formed UTF-8 sequence
// becomes U+FFFD (utf8.DecodeRune returns RuneError with width 1).
inline std::string go_coerce_utf8(std::string_view in)
{
    std::string out;
    out.reserve(in.size());
    std::size_t i = 0;
    while (i < in.size()) {
        const auto lead = static_cast<unsigned char>(in[i]);
        if (lead < 0x80) {
            out.push_back(in[i]);
            ++i;
            continue;
        }
        const std::size_t len = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        // normalise() leaves exactly the well-formed characters (U+FFFD included) alone.
        if (i + len <= in.size() && normalise(in.substr(i, len)) == in.substr(i, len)) {
            out.append(in.substr(i, len));
            i += len;
        } else {
            out.append(k_replacement);
            ++i;
        }
    }
    return out;
}

// The CloudWatch event messages SSM makes of a finished typescript file.
inline std::vector<std::string> cloudwatch_events(std::string_view file)
{
    std::vector<std::string_view> pieces;
    std::size_t pos = 0;
    while (pos < file.size()) {
        const std::size_t nl = file.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? file.size() : nl + 1;
        if (end - pos > k_cloudwatch_event_bytes) {
            end = pos + k_cloudwatch_event_bytes; // bufio.ErrBufferFull
        }
        pieces.push_back(file.substr(pos, end - pos));
        pos = end;
    }
    std::vector<std::string> raw_events;
    std::string current;
    for (const auto piece : pieces) {
        if (!current.empty() && current.size() + piece.size() > k_cloudwatch_event_bytes) {
            raw_events.push_back(current);
            current.clear();
        }
        current.append(piece);
        if (piece.size() == k_cloudwatch_event_bytes && piece.back() != '\n') {
            raw_events.push_back(current);
            current.clear();
        }
    }
    if (!current.empty()) {
        raw_events.push_back(current);
    }
    std::vector<std::string> messages;
    for (const auto& raw : raw_events) {
        std::string text;
        const std::string coerced = go_coerce_utf8(raw);
        for (std::size_t i = 0; i < coerced.size(); ++i) {
            if (coerced[i] == '\r' && i + 1 < coerced.size() && coerced[i + 1] == '\n') {
                continue; // strings.ReplaceAll(message, "\r\n", "\n")
            }
            text.push_back(coerced[i]);
        }
        if (raw.back() == '\n') {
            text.pop_back();
        }
        messages.push_back(std::move(text));
    }
    return messages;
}

} // namespace execmark::transcript::model
