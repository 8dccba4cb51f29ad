// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace execmark::util {

// Writes all of data, retrying on EINTR and short writes. Returns the errno error otherwise.
Status write_all(int fd, std::string_view data);

// Reads at most max_bytes of a regular or /proc file; Error if it is larger ("too large").
Result<std::string> read_file(const std::string& path, std::size_t max_bytes);

} // namespace execmark::util
