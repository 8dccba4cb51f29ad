// SPDX-License-Identifier: MIT
#include <agent/cli/environment.hpp>
#include <agent/marker/session.hpp>

#include <string_view>

extern char** environ;

namespace execmark::cli {

std::optional<std::string> Environment::get(const std::string& name) const
{
    const auto it = vars.find(name);
    if (it == vars.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::string Environment::claim_var() const
{
    const auto v = get(env_names::k_claim_var);
    return v && !v->empty() ? *v : std::string(marker::k_default_claim_var);
}

Environment Environment::capture()
{
    Environment env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        // First definition wins, as getenv does.
        env.vars.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return env;
}

} // namespace execmark::cli
