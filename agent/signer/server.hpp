// SPDX-License-Identifier: MIT
#pragma once

#include <agent/client/protocol.hpp>
#include <agent/init/event_loop.hpp>
#include <agent/metadata/fetch.hpp>
#include <agent/session/origin.hpp>
#include <agent/session/watcher.hpp>
#include <agent/signer/key.hpp>
#include <agent/signer/ledger.hpp>
#include <agent/signer/recording_order.hpp>
#include <agent/util/fd.hpp>
#include <agent/util/proc.hpp>

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace execmark::metadata {
class MetadataFetcher;
}

namespace execmark::signer {

// Settings of the attribution service inside PID 1.
struct ServiceOptions {
    std::string socket_path = client::k_default_socket_path;
    std::int64_t watch_interval_ms = 2000; // 0: no session watcher
    std::string proc_root = "/proc";
    std::string ssm_state_root = "/var/lib/amazon/ssm";
    std::string version;
    std::string host;
    // Where the task metadata comes from; both URIs empty: not on ECS, no fetch.
    metadata::FetchConfig metadata;
};

// Writes container-log marker lines to an fd from its own thread, in order, so that a blocked
// log pipe can never stall PID 1's loop. Bounded: past k_max_queued lines, lines are dropped
// and counted (the next line written says how many).
class LineWriter {
public:
    static constexpr std::size_t k_max_queued = 1024;

    explicit LineWriter(int fd);
    LineWriter(const LineWriter&) = delete;
    LineWriter& operator=(const LineWriter&) = delete;
    // Joins the thread when the queue drains within a second; otherwise detaches it (it owns
    // its state), so a blocked log pipe cannot hang PID 1's exit.
    ~LineWriter();

    void push(std::string line);

    // Waits up to timeout_ms for the queue to drain; false if it did not.
    bool flush(int timeout_ms);

    // Last lines: lets the thread drain the queue and end, waiting up to timeout_ms, then joins
    // it (or detaches it when the log is blocked). One hand-over instead of flush-then-stop, so
    // PID 1's exit waits for the thread once. Lines pushed afterwards are not written.
    bool close(int timeout_ms);

    // True once close() gave up and detached the thread: it may still be in write(2) on a
    // blocked log, and runs on when the log takes lines again.
    [[nodiscard]] bool detached() const { return !m_thread.joinable() && !m_drained; }

private:
    struct State {
        int fd = -1;
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<std::string> queue;
        std::size_t dropped = 0;
        bool busy = false;
        bool stop = false;
    };

    static void run(const std::shared_ptr<State>& state);

    std::shared_ptr<State> m_state;
    std::thread m_thread;
    bool m_drained = true;
};

// The attribution service: the per-boot key, the boot/meta/shutdown markers on the container
// log, the socket that signs session markers, the session watcher. Everything runs on PID 1's
// event loop; every failure is logged and only degrades the service.
class AttributionService {
public:
    AttributionService(ServiceOptions options, int log_fd);
    AttributionService(const AttributionService&) = delete;
    AttributionService& operator=(const AttributionService&) = delete;
    ~AttributionService();

    // Generates the key, writes the boot marker, opens the socket, starts the watcher.
    void start(init::EventLoop& loop);

    // Task metadata became known: remembered for session markers, and a meta marker.
    void set_task(const TaskFacts& facts);

    // Writes the shutdown marker and waits briefly for the container log to take it.
    void stop(int exit_code);

    // After stop(): the container log was blocked and the marker writer's thread is detached.
    [[nodiscard]] bool log_writer_detached() const { return m_writer && m_writer->detached(); }

private:
    struct Conn {
        util::Fd fd;
        std::string buffer;
        std::int64_t deadline_ms = 0;
        pid_t pid = 0;
    };

    void open_socket();
    void on_accept();
    void on_readable(int fd);
    void close_conn(int fd);
    void arm_deadline_timer();
    void on_deadline();
    void on_watch_tick();
    std::string handle(const Conn& conn, std::string_view line);
    std::string handle_record(const Conn& conn,
                              const session::SessionOrigin& origin,
                              marker::SessionFacts facts,
                              client::Request& request);
    std::string issue_session_marker(std::string_view ev,
                                     const session::SessionOrigin& origin,
                                     const marker::SessionFacts& facts,
                                     client::Request& request);

    // One recorder per session: the session's command itself, running execmark's own
    // executable, untraced; its reports in order, at a bounded rate.
    struct Recorder {
        pid_t rpid = 0;
        std::uint64_t rstart = 0; // the recorder's start time (clock ticks), against pid reuse
        // Where the session stood at start: a recorder outlives its worker when the session's
        // terminal hangs up, and its end must still close that session with these facts.
        session::SessionOrigin origin;
        marker::SessionFacts facts;
        RecordingOrder order;
        std::uint64_t last_used = 0;
    };

    void emit(const IssuedMarker& marker);
    void start_metadata_fetch();
    void on_metadata_done();

    ServiceOptions m_options;
    init::EventLoop* m_loop = nullptr;
    std::unique_ptr<LineWriter> m_writer;
    std::optional<SigningKey> m_key;
    std::unique_ptr<Ledger> m_ledger;
    TaskFacts m_task;
    std::string m_metadata_json = "{}";
    util::Fd m_listen;
    util::Fd m_deadline_timer;
    util::Fd m_watch_timer;
    std::map<int, Conn> m_conns;
    std::map<std::string, Recorder> m_recorders; // by session id, bounded
    std::uint64_t m_recorder_uses = 0;
    std::optional<util::ProcExe> m_self_exe;
    std::int64_t m_started_ms = 0;
    session::WorkerScanner m_scanner;
    session::SessionWatcher m_watcher;
    std::unique_ptr<metadata::MetadataFetcher> m_fetcher;
};

} // namespace execmark::signer
