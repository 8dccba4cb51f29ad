// SPDX-License-Identifier: MIT
// libFuzzer: any bytes as a session log through format detection and the matching reader
// (transcript / plain text / CloudWatch JSON / CloudWatch export), then the session verifier.
// Must not crash; candidate lines stay within the window and hold the magic (or say they lost
// it); the verdict is consistent.
#include <agent/audit/input.hpp>
#include <agent/audit/log_reader.hpp>
#include <agent/audit/verifier.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>

using namespace execmark::audit;

namespace {

void require(bool condition)
{
    if (!condition) {
        std::abort();
    }
}

// Checks each candidate, then hands it to the verifier.
class Checked final : public LineSink {
public:
    explicit Checked(LineSink& next)
        : m_next(next)
    {}

    void on_candidate(const CandidateLine& line) override
    {
        require(line.text.size() <= k_window_bytes + 1);
        require(line.lost_marker || line.text.find("EXECMARK1") != std::string_view::npos);
        m_next.on_candidate(line);
    }

private:
    LineSink& m_next;
};

class Router final : public LogRouter {
public:
    TrustStore trust;
    SessionBootKeys boot_keys;
    std::map<std::string, std::unique_ptr<SessionLogCheck>> checks;
    std::map<std::string, std::unique_ptr<Checked>> sinks;

    LineSink* open_log(const LogIdentity& id) override
    {
        auto& check = checks[id.key];
        if (!check) {
            check = std::make_unique<SessionLogCheck>(id, trust, boot_keys);
            sinks[id.key] = std::make_unique<Checked>(*check);
        }
        return sinks[id.key].get();
    }

    void end_log(const LogIdentity& id, const LogEnd& end) override
    {
        checks.at(id.key)->end_input(end);
    }
};

} // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto in = Input::from_memory("fuzz", bytes);
    if (!in) {
        return 0;
    }
    Router router;
    // The session key of a fixed test key (docs/markers.md's example key) is trusted, so that
    // the verifier's post-signature paths are reachable from the corpus.
    require(router.trust.add_key_text("IVL40Zt5HSRFMkLhXy6rbLfP-ntqXtMAl5YOBpiB2xI").ok());
    static_cast<void>(read_log_input(
        *in, "fuzz/ecs-execute-command-0a1b2c3d4e5f6a7b8.log", ReadOptions{}, router));
    for (auto& [key, check] : router.checks) {
        const LogVerdict v = check->finish(router.boot_keys);
        require(v.verified <= v.markers);
        require(v.own <= v.verified);
        require(v.problems.size() <= k_max_problems_per_log + 1);
        require(v.findings.empty() == v.problems.empty() || v.more_problems > 0);
    }
    return 0;
}
