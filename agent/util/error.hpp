// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <string>
#include <string_view>

namespace execmark::util {

// Thread-safe text for an errno value (strerror_r; never strerror).
std::string errno_text(int err);

// Error "<action> <object>: <strerror(err)>" carrying err.
Error sys_error(std::string_view action, std::string_view object, int err);

// Error "<action> <object>: <reason>".
Error make_error(std::string_view action, std::string_view object, std::string_view reason);

} // namespace execmark::util
