// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/exchange.hpp>
#include <agent/client/protocol.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/result.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace execmark::recorder {

// Sends the recorder's reports to PID 1 on a thread of its own, one at a time, so that the relay
// never waits for PID 1: a slow or hung PID 1 costs the session its checkpoints, never its shell.
// The first refusal, timeout or error breaks the reporter for good (later checkpoint indices would
// no longer be consecutive among those PID 1 accepted).
class Reporter {
public:
    Reporter(std::string socket_path, int deadline_ms);
    Reporter(const Reporter&) = delete;
    Reporter& operator=(const Reporter&) = delete;
    ~Reporter();

    // Creates the completion eventfd and starts the thread.
    util::Status start();

    // Readable (an eventfd) when a report finished; acknowledge() reads it.
    [[nodiscard]] int done_fd() const { return m_done.get(); }

    void acknowledge();

    // Whether a report may be handed over now (none in flight, not broken).
    [[nodiscard]] bool ready();

    [[nodiscard]] bool broken();

    // Hands over one report; only when ready().
    void submit(const client::Request& request);

    // Waits for the report in flight (at most its deadline) and stops the thread. Returns the
    // exchange that broke the reporter (failed, or answered with a refusal), if any.
    std::optional<client::ExchangeResult> stop();

private:
    void run();

    std::string m_socket;
    int m_deadline_ms;
    util::Fd m_done;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::optional<std::string> m_job; // the request line
    bool m_busy = false;
    bool m_stop = false;
    std::optional<client::ExchangeResult> m_failure; // the exchange that broke it
};

} // namespace execmark::recorder
