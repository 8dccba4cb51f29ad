// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>

namespace execmark::client {

enum class BannerStyle { full, compact, off };

// What the banner shows. Every value is sanitized for display (render_banner does it), so a
// hostile value can neither break a line, move the cursor, nor spell a second marker.
struct BannerInput {
    std::string event; // "open" / "close"
    std::string marker_line;
    std::string sid;
    std::string ts;
    std::string user;
    std::string claim_var; // where the user claim came from (e.g. AWS_USER)
    std::string task;
    std::string ctr;
    std::string kid;
    std::string owner;
    std::string unsigned_reason; // empty when signed
    std::string unsigned_detail; // why, for the human line
    std::int64_t rc = 0;         // close
};

// The text written to the terminal in one write(2): human lines (none when off), then the
// marker line, every line ending in "\n". The marker line is always on a line of its own.
std::string render_banner(const BannerInput& in, BannerStyle style);

} // namespace execmark::client
