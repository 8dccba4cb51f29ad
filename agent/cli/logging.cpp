// SPDX-License-Identifier: MIT
#include <agent/cli/logging.hpp>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <string>

namespace execmark::cli {

void setup_logging(std::string_view component, int verbosity)
{
    static constexpr auto k_levels =
        std::to_array<spdlog::level::level_enum>({spdlog::level::critical,
                                                  spdlog::level::warn,
                                                  spdlog::level::info,
                                                  spdlog::level::debug,
                                                  spdlog::level::trace});
    const auto index =
        static_cast<std::size_t>(verbosity < 0 ? 0 : (verbosity > 4 ? 4 : verbosity));
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>(std::string(component), std::move(sink));
    logger->set_pattern("[execmark %n] %l: %v");
    logger->set_level(k_levels[index]);
    // Every line reaches stderr at once: the process may be killed at any moment.
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
}

} // namespace execmark::cli
