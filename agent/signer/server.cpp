// SPDX-License-Identifier: MIT
#include <agent/metadata/fetcher.hpp>
#include <agent/session/origin.hpp>
#include <agent/session/owner.hpp>
#include <agent/session/watcher.hpp>
#include <agent/signer/server.hpp>
#include <agent/util/clock.hpp>
#include <agent/util/error.hpp>
#include <agent/util/io.hpp>
#include <agent/util/proc.hpp>
#include <agent/util/signals.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace execmark::signer {

namespace {

// Concurrent clients served; more are accepted and closed at once (they fall back to unsigned).
constexpr std::size_t k_max_connections = 1024;
// How long the shutdown marker may take to reach the container log.
constexpr int k_flush_timeout_ms = 2000;
// Sessions whose recorder state is remembered.
constexpr std::size_t k_max_recorders = 4096;

// mkdir -p for the socket's directory; the last component is made (or tightened to) 0700.
util::Status prepare_socket_dir(const std::string& socket_path)
{
    const auto slash = socket_path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
        return {};
    }
    const std::string dir = socket_path.substr(0, slash);
    for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos == dir.size() || dir[pos] == '/') {
            const std::string part = dir.substr(0, pos);
            if (::mkdir(part.c_str(), pos == dir.size() ? 0700 : 0755) != 0 && errno != EEXIST) {
                return util::sys_error("create", part, errno);
            }
        }
    }

    struct stat st {};

    if (::lstat(dir.c_str(), &st) != 0) {
        return util::sys_error("inspect", dir, errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        return util::make_error("use", dir, "not a directory (a symlink is refused)");
    }
    if (st.st_uid != ::geteuid()) {
        return util::make_error("use", dir, "owned by another user");
    }
    if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
        return util::sys_error("restrict", dir, errno);
    }
    return {};
}

} // namespace

// ---------------------------------------------------------------- LineWriter

LineWriter::LineWriter(int fd)
    : m_state(std::make_shared<State>())
{
    m_state->fd = fd;
    m_thread = std::thread([state = m_state] {
        util::block_all_signals_raw(); // signals belong to PID 1's signalfd only
        run(state);
    });
}

LineWriter::~LineWriter()
{
    close(1000);
}

bool LineWriter::close(int timeout_ms)
{
    if (!m_thread.joinable()) {
        return m_drained;
    }
    {
        const std::lock_guard lock(m_state->mutex);
        m_state->stop = true;
    }
    m_state->cv.notify_all();
    m_drained = flush(timeout_ms);
    if (m_drained) {
        m_thread.join();
    } else {
        m_thread.detach();
    }
    return m_drained;
}

void LineWriter::push(std::string line)
{
    {
        const std::lock_guard lock(m_state->mutex);
        if (m_state->queue.size() >= k_max_queued) {
            ++m_state->dropped;
            return;
        }
        m_state->queue.push_back(std::move(line));
    }
    m_state->cv.notify_all();
}

bool LineWriter::flush(int timeout_ms)
{
    std::unique_lock lock(m_state->mutex);
    return m_state->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
        return m_state->queue.empty() && !m_state->busy;
    });
}

void LineWriter::run(const std::shared_ptr<State>& state)
{
    for (;;) {
        std::string line;
        std::size_t dropped = 0;
        {
            std::unique_lock lock(state->mutex);
            state->cv.wait(lock, [&] { return state->stop || !state->queue.empty(); });
            if (state->queue.empty()) {
                return; // stopping and drained
            }
            line = std::move(state->queue.front());
            state->queue.pop_front();
            dropped = std::exchange(state->dropped, 0);
            state->busy = true;
        }
        if (dropped > 0) {
            spdlog::warn("container log blocked: dropped {} marker lines", dropped);
        }
        line.push_back('\n');
        // One write(2) per marker line, as the format requires.
        if (auto st = util::write_all(state->fd, line); !st) {
            spdlog::warn("write marker to the container log: {}", st.error().message);
        }
        {
            const std::lock_guard lock(state->mutex);
            state->busy = false;
        }
        state->cv.notify_all();
    }
}

// ------------------------------------------------------- AttributionService

AttributionService::AttributionService(ServiceOptions options, int log_fd)
    : m_options(std::move(options))
    , m_writer(std::make_unique<LineWriter>(log_fd))
    , m_scanner(m_options.proc_root)
{}

AttributionService::~AttributionService() = default;

void AttributionService::emit(const IssuedMarker& marker)
{
    m_writer->push(marker.line);
}

void AttributionService::start(init::EventLoop& loop)
{
    m_loop = &loop;
    m_started_ms = util::monotonic_ms();
    // The process itself (non-dumpable, no environment, descriptor limit) is init's business:
    // init::harden_process() ran before this, once the child was spawned.
    auto key = SigningKey::generate();
    if (!key) {
        spdlog::error("attribution disabled: {}", key.error().message);
        return;
    }
    m_key.emplace(std::move(*key));
    m_ledger = std::make_unique<Ledger>(*m_key, m_options.version, m_options.host, &util::unix_ms);
    emit(m_ledger->boot(static_cast<std::int64_t>(::getpid())));
    spdlog::info("attribution key {}", m_key->key_id());

    open_socket();
    start_metadata_fetch();

    m_deadline_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (m_deadline_timer) {
        if (auto st =
                loop.add(m_deadline_timer.get(), EPOLLIN, [this](std::uint32_t) { on_deadline(); });
            !st) {
            spdlog::warn("{}", st.error().message);
        }
    }
    if (m_options.watch_interval_ms > 0) {
        m_watch_timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
        itimerspec spec{};
        // First scan after one interval: nothing on the start-up path (ECS Exec cannot reach a
        // task before it is RUNNING and the agent is up, seconds later).
        spec.it_interval.tv_sec = static_cast<time_t>(m_options.watch_interval_ms / 1000);
        spec.it_interval.tv_nsec =
            static_cast<long>((m_options.watch_interval_ms % 1000) * 1'000'000);
        spec.it_value = spec.it_interval;
        if (!m_watch_timer || ::timerfd_settime(m_watch_timer.get(), 0, &spec, nullptr) != 0) {
            spdlog::warn("start the session watcher: {}", util::errno_text(errno));
        } else if (auto st = loop.add(
                       m_watch_timer.get(), EPOLLIN, [this](std::uint32_t) { on_watch_tick(); });
                   !st) {
            spdlog::warn("{}", st.error().message);
        }
    }
}

void AttributionService::open_socket()
{
    if (auto st = prepare_socket_dir(m_options.socket_path); !st) {
        spdlog::error("attribution socket unavailable: {}", st.error().message);
        return;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (m_options.socket_path.size() >= sizeof addr.sun_path) {
        spdlog::error("attribution socket unavailable: path too long: {}", m_options.socket_path);
        return;
    }
    std::memcpy(addr.sun_path, m_options.socket_path.c_str(), m_options.socket_path.size() + 1);
    util::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
        spdlog::error("create attribution socket: {}", util::errno_text(errno));
        return;
    }

    // A socket file left by an earlier PID 1 of this container (restart) is stale.
    struct stat st {};

    if (::lstat(m_options.socket_path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
        ::unlink(m_options.socket_path.c_str());
    }
    const mode_t old_mask = ::umask(0177);
    const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    ::umask(old_mask);
    if (rc != 0 || ::listen(fd.get(), 512) != 0) {
        spdlog::error("listen on {}: {}", m_options.socket_path, util::errno_text(errno));
        return;
    }
    m_listen = std::move(fd);
    if (auto added = m_loop->add(m_listen.get(), EPOLLIN, [this](std::uint32_t) { on_accept(); });
        !added) {
        spdlog::error("{}", added.error().message);
        m_listen.reset();
        return;
    }
    spdlog::info("attribution socket {}", m_options.socket_path);
}

void AttributionService::on_accept()
{
    for (;;) {
        util::Fd fd(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        if (!fd) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno != EAGAIN) {
                spdlog::warn("accept a client: {}", util::errno_text(errno));
            }
            return;
        }
        if (m_conns.size() >= k_max_connections) {
            continue; // closed by Fd: the client falls back to an unsigned marker
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid <= 0) {
            continue; // a peer we cannot identify gets nothing
        }
        const int raw = fd.get();
        Conn conn;
        conn.fd = std::move(fd);
        conn.deadline_ms = util::monotonic_ms() + client::k_server_request_deadline_ms;
        conn.pid = cred.pid;
        if (auto st = m_loop->add(
                raw, EPOLLIN | EPOLLRDHUP, [this, raw](std::uint32_t) { on_readable(raw); });
            !st) {
            spdlog::warn("{}", st.error().message);
            continue;
        }
        m_conns.emplace(raw, std::move(conn));
        arm_deadline_timer();
    }
}

void AttributionService::on_readable(int fd)
{
    const auto it = m_conns.find(fd);
    if (it == m_conns.end()) {
        return;
    }
    Conn& conn = it->second;
    char buf[2048];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN)) {
            return; // wait for more
        }
        if (n <= 0) {
            close_conn(fd); // EOF before a full line, or an error: nothing to answer
            return;
        }
        conn.buffer.append(buf, static_cast<std::size_t>(n));
        const auto nl = conn.buffer.find('\n');
        if (nl != std::string::npos) {
            const std::string response = handle(conn, std::string_view(conn.buffer).substr(0, nl));
            // The response is small and the socket buffer empty: one non-blocking write.
            [[maybe_unused]] const ssize_t w =
                ::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            close_conn(fd);
            return;
        }
        if (conn.buffer.size() > client::k_max_request_bytes) {
            const std::string response =
                client::format_refusal(client::Refusal::too_long, "request too long");
            [[maybe_unused]] const ssize_t w =
                ::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            close_conn(fd);
            return;
        }
    }
}

void AttributionService::close_conn(int fd)
{
    m_loop->remove(fd);
    m_conns.erase(fd); // closes
    arm_deadline_timer();
}

void AttributionService::arm_deadline_timer()
{
    if (!m_deadline_timer) {
        return;
    }
    itimerspec spec{};
    if (!m_conns.empty()) {
        std::int64_t earliest = INT64_MAX;
        for (const auto& [fd, conn] : m_conns) {
            earliest = std::min(earliest, conn.deadline_ms);
        }
        spec.it_value.tv_sec = static_cast<time_t>(earliest / 1000);
        spec.it_value.tv_nsec = static_cast<long>((earliest % 1000) * 1'000'000);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) {
            spec.it_value.tv_nsec = 1;
        }
    }
    // Disarmed (all zero) when no client is connected: no wake-ups while idle.
    ::timerfd_settime(m_deadline_timer.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void AttributionService::on_deadline()
{
    std::uint64_t expirations = 0;
    [[maybe_unused]] const auto n =
        ::read(m_deadline_timer.get(), &expirations, sizeof expirations);
    const std::int64_t now = util::monotonic_ms();
    std::vector<int> expired;
    for (const auto& [fd, conn] : m_conns) {
        if (conn.deadline_ms <= now) {
            expired.push_back(fd);
        }
    }
    for (const int fd : expired) {
        spdlog::debug("client pid {} sent no request in time", m_conns.at(fd).pid);
        close_conn(fd);
    }
    arm_deadline_timer();
}

void AttributionService::on_watch_tick()
{
    std::uint64_t expirations = 0;
    [[maybe_unused]] const auto n = ::read(m_watch_timer.get(), &expirations, sizeof expirations);
    if (!m_ledger) {
        return;
    }
    for (const auto& ev : m_watcher.update(m_scanner.scan(util::unix_ms()), util::monotonic_ms())) {
        const Ledger::WorkerFacts worker{ev.sid,
                                         ev.pid,
                                         std::string(session::worker_check_name(ev.check)),
                                         ev.start_ms,
                                         ev.duration_ms,
                                         ev.command_last_ms};
        if (ev.check != session::WorkerCheck::ok) {
            spdlog::warn("a process imitates a session worker: pid {} claims {} (check: {})",
                         ev.pid,
                         ev.sid,
                         worker.wchk);
        }
        emit(ev.kind == session::WatchEvent::Kind::seen ? m_ledger->exec_seen(worker)
                                                        : m_ledger->exec_gone(worker));
    }
}

std::string AttributionService::handle(const Conn& conn, std::string_view line)
{
    auto request = client::parse_request(line);
    if (!request) {
        spdlog::debug("client pid {}: {}", conn.pid, request.error().message);
        return client::format_refusal(client::Refusal::bad_request, request.error().message);
    }
    if (!m_ledger) {
        return client::format_refusal(client::Refusal::no_key, "no signing key");
    }
    if (request->op == client::Op::ping) {
        return nlohmann::json{{"ok", true},
                              {"kid", m_key->key_id()},
                              {"pid", static_cast<int>(::getpid())},
                              {"ver", m_options.version},
                              {"markers", m_ledger->markers_issued()}}
                   .dump()
               + "\n";
    }
    if (request->op == client::Op::metadata) {
        return std::string(R"({"ok":true,"metadata":)") + m_metadata_json + "}\n";
    }
    const session::SessionOrigin origin =
        session::find_session_origin(conn.pid, m_options.proc_root);
    marker::SessionFacts facts;
    facts.task = m_task.task;
    facts.cluster = m_task.cluster;
    facts.ctr = m_task.ctr;
    facts.cpid = origin.command_pid;
    facts.mode = request->mode;
    facts.fin = request->fin;
    facts.rc = request->rc;
    facts.wchk = std::string(session::worker_check_name(origin.check));
    facts.wsid = origin.claimed_sid;
    facts.wst = origin.worker_start_ms;
    facts.sst = origin.command_start_ms;
    if (origin.check != session::WorkerCheck::ok && origin.check != session::WorkerCheck::none) {
        spdlog::warn("client pid {}: its ancestry imitates a session worker ({} claims {}): "
                     "signed as {}",
                     conn.pid,
                     facts.wchk,
                     origin.claimed_sid,
                     origin.sid);
    }
    if (request->op == client::Op::rec) {
        return handle_record(conn, origin, std::move(facts), *request);
    }
    if (request->op == client::Op::close) {
        if (const auto rec = m_recorders.find(origin.sid);
            rec != m_recorders.end() && rec->second.rpid != 0) {
            spdlog::warn(
                "client pid {}: close of recorded session {} refused", conn.pid, origin.sid);
            return client::format_refusal(client::Refusal::not_allowed,
                                          "a recorded session is closed by its recorder");
        }
        // One close per session, and only from the session's own command (the shell, or the
        // wrapper) or its direct child (the hook's `execmark session close`).
        if (m_ledger->closed(origin.sid)) {
            spdlog::warn("client pid {}: second close of {} refused", conn.pid, origin.sid);
            return client::format_refusal(client::Refusal::not_allowed,
                                          "the session is already closed");
        }
        const auto peer = util::read_proc_stat(conn.pid, m_options.proc_root);
        if (origin.under_ssm && conn.pid != origin.command_pid
            && (!peer || peer->ppid != origin.command_pid)) {
            spdlog::warn(
                "client pid {}: close of {} from outside its shell refused", conn.pid, origin.sid);
            return client::format_refusal(client::Refusal::not_allowed,
                                          "close must come from the session's shell");
        }
    }
    return issue_session_marker(request->op == client::Op::open ? marker::k_ev_open
                                                                : marker::k_ev_close,
                                origin,
                                facts,
                                *request);
}

std::string AttributionService::issue_session_marker(std::string_view ev,
                                                     const session::SessionOrigin& origin,
                                                     const marker::SessionFacts& session_facts,
                                                     client::Request& request)
{
    marker::SessionFacts facts = session_facts;
    if (origin.under_ssm) {
        if (auto owner = session::find_session_owner(origin.sid, m_options.ssm_state_root)) {
            facts.owner = std::move(*owner);
            facts.osrc = session::k_owner_source_state_file;
        }
    }
    request.claims.client_fixed = request.client_fixed;
    const IssuedMarker issued = m_ledger->session(ev, origin.sid, facts, request.claims);
    client::MarkerResponse response;
    response.marker = issued.line;
    response.sid = issued.sid;
    response.ts = issued.ts;
    response.kid = m_key->key_id();
    response.user = issued.user;
    response.task = m_task.task;
    response.cluster = m_task.cluster;
    response.ctr = m_task.ctr;
    response.owner = facts.owner;
    response.under_ssm = origin.under_ssm;
    return client::format_marker_response(response);
}

std::string AttributionService::handle_record(const Conn& conn,
                                              const session::SessionOrigin& found_origin,
                                              marker::SessionFacts facts,
                                              client::Request& request)
{
    const client::RecordReport& rep = request.rec;
    session::SessionOrigin origin = found_origin;
    const auto refuse = [&](const std::string& why) {
        spdlog::warn("recorder pid {} ({}): {}", conn.pid, origin.sid, why);
        return client::format_refusal(client::Refusal::not_allowed, why);
    };
    // A recorder whose worker is gone (the session's terminal hung up, the worker exited before
    // the shell did) is no longer under the agent's chain, but it is still that very process
    // (pid and start time, checked below): its session is the one it started.
    if (rep.kind != "start" && (!origin.under_ssm || conn.pid != origin.command_pid)) {
        const auto self = util::read_proc_stat(conn.pid, m_options.proc_root);
        for (const auto& [sid, r] : m_recorders) {
            if (self && r.rpid == conn.pid && r.rstart == self->start_time && !r.order.ended()) {
                origin = r.origin;
                const std::string mode = facts.mode;
                facts = r.facts;
                facts.mode = mode;
                break;
            }
        }
    }
    // Who may report: the session's own command (the wrapper, or the shell the hook replaced
    // with the recorder), running this executable, not traced. The executable is checked when
    // the recording starts: right after it the recorder makes itself non-dumpable, and then
    // /proc/<pid>/exe is closed to a PID 1 without CAP_SYS_PTRACE (the usual container); later
    // reports must come from that very process (pid and start time), still untraced.
    if (!origin.under_ssm || conn.pid != origin.command_pid) {
        return refuse("a recorder must be the session's command under the SSM agent's worker");
    }
    const auto peer_stat = util::read_proc_stat(conn.pid, m_options.proc_root);
    if (!peer_stat) {
        return refuse("the recorder is gone");
    }
    if (rep.kind == "start") {
        // The recorder must run this very executable (docs/threat-model.md). PID 1's own is
        // looked up here, not at start (it costs every start ~1,000 instructions): /proc/self/exe
        // is the file this process runs, whatever was renamed over its path since.
        if (!m_self_exe) {
            m_self_exe = util::read_exe(::getpid(), "/proc");
        }
        const auto exe = util::read_exe(conn.pid, m_options.proc_root);
        if (!m_self_exe || !exe || exe->dev != m_self_exe->dev || exe->ino != m_self_exe->ino) {
            return refuse("a recorder must run PID 1's own executable");
        }
    }
    const auto tracer = util::read_tracer_pid(conn.pid, m_options.proc_root);
    if (!tracer || *tracer != 0) {
        return refuse("a traced process cannot record");
    }
    if (m_recorders.size() >= k_max_recorders && !m_recorders.contains(origin.sid)) {
        auto oldest = m_recorders.begin();
        for (auto it = m_recorders.begin(); it != m_recorders.end(); ++it) {
            if (it->second.last_used < oldest->second.last_used) {
                oldest = it;
            }
        }
        m_recorders.erase(oldest);
    }
    Recorder& rec = m_recorders[origin.sid];
    rec.last_used = ++m_recorder_uses;
    if (rep.kind == "start") {
        if (rec.rpid != 0 || m_ledger->closed(origin.sid)) {
            return refuse("the session already has a recorder, or is closed");
        }
    } else if (rec.rpid != conn.pid || rec.rstart != peer_stat->start_time) {
        return refuse("not this session's recorder");
    }
    if (const auto why = rec.order.accept(rep, util::monotonic_ms())) {
        return refuse(std::string(*why));
    }
    if (rep.kind == "start") {
        rec.rpid = conn.pid;
        rec.rstart = peer_stat->start_time;
        rec.origin = origin;
        rec.facts = facts;
    }
    const bool end = rep.kind == "end";
    Ledger::RecordFacts facts_rec{origin.sid,
                                  rep.kind,
                                  rep.idx,
                                  rep.off,
                                  rep.hash,
                                  conn.pid,
                                  end ? request.fin : std::string(),
                                  end ? request.rc : 0,
                                  rep.opid,
                                  rep.ocomm,
                                  rep.side};
    emit(m_ledger->record(facts_rec));
    if (!end) {
        return "{\"ok\":true}\n";
    }
    // The close is PID 1's own, from the recorder's observation of the shell's end.
    if (m_ledger->closed(origin.sid)) {
        return refuse("the session is already closed");
    }
    facts.mode = request.mode;
    facts.fin = request.fin;
    facts.rc = request.rc;
    return issue_session_marker(marker::k_ev_close, origin, facts, request);
}

void AttributionService::start_metadata_fetch()
{
    if (m_options.metadata.uri_v4.empty() && m_options.metadata.uri_v3.empty()) {
        spdlog::info("no ECS metadata endpoint: not on ECS (markers carry no task data)");
        m_metadata_json = R"({"status":"not_on_ecs"})";
        return;
    }
    auto fetcher = metadata::MetadataFetcher::start(m_options.metadata);
    if (!fetcher) {
        spdlog::warn("task metadata unavailable: {}", fetcher.error().message);
        return;
    }
    m_fetcher = std::move(*fetcher);
    if (auto st = m_loop->add(
            m_fetcher->completion_fd(), EPOLLIN, [this](std::uint32_t) { on_metadata_done(); });
        !st) {
        spdlog::warn("{}", st.error().message);
        m_fetcher.reset();
    }
}

void AttributionService::on_metadata_done()
{
    m_loop->remove(m_fetcher->completion_fd());
    const auto result = m_fetcher->result();
    if (!result) {
        return;
    }
    if (result->status != metadata::FetchStatus::ok) {
        spdlog::warn("task metadata: {}", result->error.empty() ? "not available" : result->error);
        return;
    }
    const auto& md = result->metadata;
    for (const auto& note : md.notes) {
        spdlog::debug("task metadata: {}", note);
    }
    TaskFacts facts;
    facts.task = md.task_arn;
    facts.cluster = md.cluster_name.empty() ? md.cluster : md.cluster_name;
    facts.ctr = md.container_name;
    facts.cid = md.container_id;
    facts.az = md.availability_zone;
    facts.lt = md.launch_type;
    facts.src = md.source;
    m_metadata_json = metadata::metadata_to_json(md);
    set_task(facts);
    spdlog::info(
        "task metadata from {}: {} container {}", md.source, md.task_arn, md.container_name);
}

void AttributionService::set_task(const TaskFacts& facts)
{
    m_task = facts;
    if (m_ledger) {
        emit(m_ledger->meta(facts));
    }
}

void AttributionService::stop(int exit_code)
{
    if (m_ledger) {
        emit(m_ledger->shutdown(exit_code, util::monotonic_ms() - m_started_ms));
    }
    if (m_listen) {
        ::unlink(m_options.socket_path.c_str());
    }
    if (!m_writer->close(k_flush_timeout_ms)) {
        spdlog::warn("container log did not take the last markers within {} ms",
                     k_flush_timeout_ms);
    }
    // Nothing is signed after shutdown: wipe and release the key now, with no other thread of
    // ours left to interrupt.
    m_ledger.reset();
    m_key.reset();
}

} // namespace execmark::signer
