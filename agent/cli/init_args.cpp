// SPDX-License-Identifier: MIT
#include <agent/cli/init_args.hpp>
#include <agent/init/signals.hpp>
#include <agent/util/error.hpp>
#include <agent/util/text.hpp>

#include <algorithm>
#include <array>
#include <csignal>
#include <optional>
#include <string_view>

namespace execmark::cli {

namespace {

// Longest accepted grace period: Fargate's maximum stopTimeout is 120 s; allow a margin for EC2.
constexpr std::uint64_t k_max_grace_ms = 3600ULL * 1000;
constexpr int k_max_verbosity = 4;

enum class Opt {
    subreaper,
    group,
    pdeath,
    remap,
    verbose,
    warn_reap,
    license,
    help,
    version,
    grace,
    socket,
    no_attribution,
    watch_interval
};

// Longest session-watcher interval accepted.
constexpr std::uint64_t k_max_watch_ms = 3600ULL * 1000;

struct OptSpec {
    char short_name; // '\0' when long-only
    std::string_view long_name;
    bool takes_value;
    Opt id;
};

constexpr auto k_opts = std::to_array<OptSpec>({
    OptSpec{'s', "subreaper", false, Opt::subreaper},
    OptSpec{'g', "process-group", false, Opt::group},
    OptSpec{'p', "parent-death-signal", true, Opt::pdeath},
    OptSpec{'e', "remap-exit", true, Opt::remap},
    OptSpec{'v', "verbose", false, Opt::verbose},
    OptSpec{'w', "warn-reaped", false, Opt::warn_reap},
    OptSpec{'l', "license", false, Opt::license},
    OptSpec{'h', "help", false, Opt::help},
    OptSpec{'\0', "version", false, Opt::version},
    OptSpec{'\0', "grace", true, Opt::grace},
    OptSpec{'\0', "socket", true, Opt::socket},
    OptSpec{'\0', "no-attribution", false, Opt::no_attribution},
    OptSpec{'\0', "watch-interval", true, Opt::watch_interval},
});

util::Error usage_error(std::string_view option, std::string_view reason)
{
    return util::Error{std::string(option) + ": " + std::string(reason), 0};
}

std::optional<std::uint64_t> parse_grace(std::string_view text)
{
    return util::parse_seconds_ms(text, k_max_grace_ms);
}

util::Status
apply(InitArgs& out, const OptSpec& spec, std::string_view shown, std::string_view value)
{
    auto& o = out.options;
    switch (spec.id) {
    case Opt::subreaper:
        o.subreaper = true;
        break;
    case Opt::group:
        o.kill_process_group = true;
        break;
    case Opt::pdeath: {
        const auto sig = init::signal_from_name(value);
        if (!sig) {
            return usage_error(shown, "unknown signal '" + std::string(value) + "'");
        }
        o.pdeath_signal = *sig;
        break;
    }
    case Opt::remap: {
        const auto code = util::parse_uint(value, 255);
        if (!code) {
            return usage_error(shown, "exit code must be 0..255, got '" + std::string(value) + "'");
        }
        o.remap.set(static_cast<std::size_t>(*code));
        break;
    }
    case Opt::verbose:
        if (o.verbosity < k_max_verbosity) {
            ++o.verbosity;
        }
        break;
    case Opt::warn_reap:
        o.warn_on_reap = true;
        break;
    case Opt::license:
        out.license = true;
        break;
    case Opt::help:
        out.help = true;
        break;
    case Opt::version:
        out.version = true;
        break;
    case Opt::grace: {
        const auto ms = parse_grace(value);
        if (!ms) {
            return usage_error(shown,
                               "grace must be seconds (0..3600, up to 3 decimals), got '"
                                   + std::string(value) + "'");
        }
        o.grace_ms = *ms;
        break;
    }
    case Opt::socket:
        if (value.empty() || value[0] != '/') {
            return usage_error(shown, "must be an absolute path");
        }
        out.socket_path = std::string(value);
        break;
    case Opt::no_attribution:
        out.attribution = false;
        break;
    case Opt::watch_interval: {
        const auto ms = util::parse_seconds_ms(value, k_max_watch_ms);
        if (!ms) {
            return usage_error(shown,
                               "must be seconds (0 = off), got '" + std::string(value) + "'");
        }
        out.watch_interval_ms = *ms;
        break;
    }
    }
    return {};
}

const OptSpec* find_short(char c)
{
    for (const auto& spec : k_opts) {
        if (spec.short_name == c) {
            return &spec;
        }
    }
    return nullptr;
}

const OptSpec* find_long(std::string_view name)
{
    for (const auto& spec : k_opts) {
        if (spec.long_name == name) {
            return &spec;
        }
    }
    return nullptr;
}

// Environment applied before the command line (flags OR, --grace overrides EXECMARK_GRACE).
util::Status apply_environment_defaults(InitArgs& out, const Environment& env)
{
    auto& o = out.options;
    o.subreaper = env.has(env_names::k_tini_subreaper);
    o.kill_process_group = env.has(env_names::k_tini_kill_process_group);
    if (const auto g = env.get(env_names::k_grace)) {
        const auto ms = parse_grace(*g);
        if (!ms) {
            return usage_error(env_names::k_grace, "must be seconds (0..3600), got '" + *g + "'");
        }
        o.grace_ms = *ms;
    }
    if (const auto a = env.get(env_names::k_attribution)) {
        if (*a == "on" || *a == "1" || *a == "true") {
            out.attribution = true;
        } else if (*a == "off" || *a == "0" || *a == "false") {
            out.attribution = false;
        } else {
            return usage_error(env_names::k_attribution, "must be on or off, got '" + *a + "'");
        }
    }
    if (const auto sock = env.get(env_names::k_socket)) {
        if (sock->empty() || (*sock)[0] != '/') {
            return usage_error(env_names::k_socket, "must be an absolute path");
        }
        out.socket_path = *sock;
    }
    if (const auto w = env.get(env_names::k_watch_interval)) {
        const auto ms = util::parse_seconds_ms(*w, k_max_watch_ms);
        if (!ms) {
            return usage_error(env_names::k_watch_interval, "must be seconds, got '" + *w + "'");
        }
        out.watch_interval_ms = *ms;
    }
    return {};
}

// TINI_VERBOSITY is absolute and applied after -v, as tini does.
util::Status apply_environment_overrides(InitArgs& out, const Environment& env)
{
    if (const auto v = env.get(env_names::k_tini_verbosity)) {
        // tini uses atoi, so garbage means 0 (silence). We refuse garbage loudly instead.
        const auto level = util::parse_uint(*v, 1000);
        if (!level) {
            return usage_error(env_names::k_tini_verbosity, "must be a number, got '" + *v + "'");
        }
        out.options.verbosity = static_cast<int>(std::min<std::uint64_t>(*level, k_max_verbosity));
    }
    return {};
}

} // namespace

util::Result<InitArgs> parse_init_args(const std::vector<std::string>& args, const Environment& env)
{
    InitArgs out;
    if (auto st = apply_environment_defaults(out, env); !st) {
        return st.error();
    }
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            break; // first non-option: the program (also a lone "-")
        }
        if (arg.starts_with("--")) {
            const auto eq = arg.find('=');
            const std::string_view name = arg.substr(2, eq == std::string_view::npos ? eq : eq - 2);
            const OptSpec* spec = find_long(name);
            if (spec == nullptr) {
                return usage_error(arg.substr(0, eq), "unknown option");
            }
            std::string_view value;
            if (spec->takes_value) {
                if (eq != std::string_view::npos) {
                    value = arg.substr(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args[++i];
                } else {
                    return usage_error(arg, "needs a value");
                }
            } else if (eq != std::string_view::npos) {
                return usage_error(arg.substr(0, eq), "takes no value");
            }
            if (auto st = apply(out, *spec, "--" + std::string(name), value); !st) {
                return st.error();
            }
            continue;
        }
        // Grouped short options: -sgv, -e143, -e 143, -vvv.
        for (std::size_t k = 1; k < arg.size(); ++k) {
            const OptSpec* spec = find_short(arg[k]);
            const std::string shown = std::string("-") + arg[k];
            if (spec == nullptr) {
                return usage_error(shown, "unknown option");
            }
            std::string_view value;
            if (spec->takes_value) {
                if (k + 1 < arg.size()) {
                    value = arg.substr(k + 1);
                } else if (i + 1 < args.size()) {
                    value = args[++i];
                } else {
                    return usage_error(shown, "needs a value");
                }
                k = arg.size(); // the rest of the token was the value
            }
            if (auto st = apply(out, *spec, shown, value); !st) {
                return st.error();
            }
        }
    }
    out.options.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (auto st = apply_environment_overrides(out, env); !st) {
        return st.error();
    }
    if (!out.help && !out.version && !out.license && out.options.command.empty()) {
        return usage_error("PROGRAM",
                           "missing (usage: execmark init [OPTIONS] [--] PROGRAM [ARGS])");
    }
    return out;
}

} // namespace execmark::cli
