// SPDX-License-Identifier: MIT
#include <agent/cli/commands.hpp>
#include <agent/cli/logging.hpp>
#include <agent/metadata/fetch.hpp>
#include <agent/util/error.hpp>
#include <agent/util/text.hpp>

#include <boost/program_options.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

// Exit status when there is no metadata endpoint in the environment (not on ECS).

constexpr std::uint64_t k_default_timeout_ms = 5000;
constexpr std::uint64_t k_max_timeout_ms = 300'000;

constexpr const char* k_env_v4 = "ECS_CONTAINER_METADATA_URI_V4";
constexpr const char* k_env_v3 = "ECS_CONTAINER_METADATA_URI";

struct MetadataArgs {
    bool json = false;
    bool verbose = false;
    bool help = false;
    std::uint64_t timeout_ms = k_default_timeout_ms;
};

void print_metadata_help(std::FILE* out, const po::options_description& desc)
{
    std::ostringstream options;
    options << desc;
    std::fprintf(out,
                 R"(Usage: execmark metadata [--json] [--timeout SECONDS] [-v]

Print what this container knows about its ECS task: task ARN, cluster, container, launch type,
availability zone, region, account, log group and stream. Fetched from the task metadata
endpoint v4 ($%s),
or v3 ($%s) when v4 is not set.

%s
Exit status: 0 metadata printed (possibly incomplete: see "complete"), 1 the endpoint failed
(reason on stderr), 2 usage error, 3 not on ECS (neither variable is set; prints nothing).

Examples:
  execmark metadata
  execmark metadata --json --timeout 2 | jq -r .task_arn
)",
                 k_env_v4,
                 k_env_v3,
                 options.str().c_str());
}

// Parses the subcommand's arguments; errors are usage errors.
util::Result<MetadataArgs> parse_metadata_args(const std::vector<std::string>& args,
                                               const po::options_description& desc)
{
    po::variables_map vm;
    try {
        // No positional arguments: an empty description makes any of them an error.
        const po::positional_options_description none;
        po::store(po::command_line_parser(args).options(desc).positional(none).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return util::make_error("parse", "arguments", e.what());
    }
    MetadataArgs a;
    a.json = vm.count("json") > 0;
    a.verbose = vm.count("verbose") > 0;
    a.help = vm.count("help") > 0;
    if (vm.count("timeout") > 0) {
        const auto& text = vm["timeout"].as<std::string>();
        const auto ms = util::parse_seconds_ms(text, k_max_timeout_ms);
        if (!ms || *ms == 0) {
            return util::make_error("parse",
                                    "--timeout",
                                    "'" + text + "' is not a number of seconds in (0, "
                                        + std::to_string(k_max_timeout_ms / 1000) + "]");
        }
        a.timeout_ms = *ms;
    }
    return a;
}

// Where `execmark metadata` is to ask the PID 1 agent first, over its socket, once the agent
// protocol has a metadata request: the agent's cached copy is what its markers carry. Until
// then the endpoint is always fetched directly, with the caller's deadline.
metadata::FetchResult obtain_metadata(const MetadataArgs& args, const Environment& env)
{
    metadata::FetchConfig config;
    config.uri_v4 = env.get(k_env_v4).value_or("");
    config.uri_v3 = env.get(k_env_v3).value_or("");
    config.deadline_ms = static_cast<long>(args.timeout_ms);
    return metadata::fetch_metadata(config);
}

void print_text(const metadata::TaskMetadata& meta)
{
    const auto fields = metadata::metadata_fields(meta);
    std::size_t width = std::string_view("complete").size();
    for (const auto& [key, value] : fields) {
        width = std::max(width, key.size());
    }
    const auto line = [&](std::string_view key, std::string_view value) {
        std::printf("%.*s:%*s %.*s\n",
                    static_cast<int>(key.size()),
                    key.data(),
                    static_cast<int>(width - key.size()),
                    "",
                    static_cast<int>(value.size()),
                    value.data());
    };
    for (const auto& [key, value] : fields) {
        line(key, value.empty() ? std::string_view("-") : value);
    }
    line("complete", meta.complete ? "yes" : "no");
}

} // namespace

int run_metadata(const std::vector<std::string>& args, const Environment& env)
{
    po::options_description desc("Options");
    desc.add_options()("json", "print one JSON object (fields: docs/configuration.md)")(
        "timeout",
        po::value<std::string>()->value_name("SECONDS"),
        "give up after SECONDS, retries included (default 5)")(
        "verbose,v", "report retried requests on stderr")("help,h", "print this help");
    auto parsed = parse_metadata_args(args, desc);
    if (!parsed) {
        setup_logging("metadata", 1);
        spdlog::error("{}", parsed.error().message);
        print_metadata_help(stderr, desc);
        return k_exit_usage;
    }
    const MetadataArgs& a = *parsed;
    if (a.help) {
        print_metadata_help(stdout, desc);
        return k_exit_ok;
    }
    setup_logging("metadata", a.verbose ? 2 : 1);

    const metadata::FetchResult result = obtain_metadata(a, env);
    for (const auto& retry : result.retries) {
        spdlog::info("{}", retry);
    }
    switch (result.status) {
    case metadata::FetchStatus::not_on_ecs:
        spdlog::info("not on ECS: neither {} nor {} is set", k_env_v4, k_env_v3);
        return k_exit_not_on_ecs;
    case metadata::FetchStatus::failed:
    case metadata::FetchStatus::cancelled:
        spdlog::error("{}", result.error);
        return k_exit_failure;
    case metadata::FetchStatus::ok:
        break;
    }
    if (a.json) {
        std::printf("%s\n", metadata::metadata_to_json(result.metadata).c_str());
    } else {
        for (const auto& note : result.metadata.notes) {
            spdlog::warn("{}", note);
        }
        print_text(result.metadata);
    }
    return std::fflush(stdout) == 0 ? k_exit_ok : k_exit_failure;
}

} // namespace execmark::cli
