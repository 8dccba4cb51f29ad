// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <optional>
#include <string>

namespace execmark::cli {

// The environment variables execmark reads, captured once at start (getenv is not thread-safe
// against setenv, and modules must not read the environment themselves).
struct Environment {
    std::map<std::string, std::string, std::less<>> vars;

    [[nodiscard]] std::optional<std::string> get(const std::string& name) const;

    [[nodiscard]] bool has(const std::string& name) const { return vars.contains(name); }

    // Captures the process environment.
    static Environment capture();
};

} // namespace execmark::cli
