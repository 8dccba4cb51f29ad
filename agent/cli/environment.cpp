// SPDX-License-Identifier: MIT
#include <agent/cli/environment.hpp>
#include <agent/marker/session.hpp>

#include <cstring>
#include <string_view>

extern char** environ;

namespace execmark::cli {

std::optional<std::string_view> Environment::find(std::string_view name) const
{
    for (const Entry& e : m_entries) {
        if (e.name_len == name.size()
            && std::string_view(m_text).substr(e.offset, e.name_len) == name) {
            return std::string_view(m_text).substr(e.offset + e.name_len + 1,
                                                   e.len - e.name_len - 1);
        }
    }
    return std::nullopt;
}

std::optional<std::string> Environment::get(std::string_view name) const
{
    if (const auto v = find(name)) {
        return std::string(*v);
    }
    return std::nullopt;
}

void Environment::add(std::string_view name, std::string_view value)
{
    m_entries.push_back(Entry{m_text.size(), name.size(), name.size() + 1 + value.size()});
    m_text.append(name).append(1, '=').append(value);
}

std::string Environment::claim_var() const
{
    const auto v = get(env_names::k_claim_var);
    return v && !v->empty() ? *v : std::string(marker::k_default_claim_var);
}

Environment Environment::capture()
{
    Environment env;
    std::size_t bytes = 0;
    std::size_t count = 0;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        bytes += std::strlen(*e);
        ++count;
    }
    env.m_text.reserve(bytes);
    env.m_entries.reserve(count);
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        env.m_entries.push_back(Entry{env.m_text.size(), eq, entry.size()});
        env.m_text.append(entry);
    }
    return env;
}

} // namespace execmark::cli
