// SPDX-License-Identifier: MIT
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/formats.hpp>
#include <agent/audit/log_reader.hpp>
#include <agent/audit/parallel.hpp>
#include <agent/audit/render.hpp>
#include <agent/audit/run.hpp>
#include <agent/audit/timeline.hpp>
#include <agent/audit/verifier.hpp>
#include <agent/util/error.hpp>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

namespace execmark::audit {

namespace {

// Bytes of session logs read ahead of their content checks (the work pool's queue).
constexpr std::size_t k_content_queue_bytes = 16 * 1024 * 1024;
// Minimum time between two progress updates.
constexpr std::chrono::milliseconds k_progress_interval{200};

// Appends the regular files under dir to found (depth first, in directory order) and names in
// errors whatever below it cannot be read; the rules are expand's. POSIX calls rather than
// std::filesystem: its directory iterator and path classes are 25 KiB of the static binary
// (docs/benchmarks.md "Binary size") for one loop.
void walk(const std::string& dir, std::vector<std::string>& found, std::vector<std::string>& errors)
{
    // glibc's opendir opens with O_CLOEXEC; one descriptor per level of the tree is open.
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
    if (!d) {
        errors.push_back(util::sys_error("read directory", dir, errno).message);
        return;
    }
    const std::string prefix = dir.ends_with('/') ? dir : dir + "/";
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(d.get());
        if (entry == nullptr) {
            if (errno != 0) {
                errors.push_back(util::sys_error("read directory", dir, errno).message);
            }
            return;
        }
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..") {
            continue;
        }
        const std::string path = prefix + std::string(name);

        // Nothing in the tree is passed over silently: what cannot be read is named, so the
        // report is never taken for complete when it is not (exit status 3).
        struct stat st {};

        if (::stat(path.c_str(), &st) != 0) {
            errors.push_back(util::sys_error("read", path, errno).message); // dangling link
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            struct stat lst {};

            if (::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
                // Not followed (a link can make a loop): say so rather than drop it.
                errors.push_back(util::make_error("read",
                                                  path,
                                                  "a link to a directory is not followed; name "
                                                  "the directory as an argument to include it")
                                     .message);
            } else if (::access(path.c_str(), R_OK | X_OK) != 0) {
                errors.push_back(util::sys_error("read directory", path, errno).message);
            } else {
                walk(path, found, errors);
            }
            continue;
        }
        if (name == k_export_test_object || name.starts_with('.')) {
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            errors.push_back(
                util::make_error("read", path, "not a regular file (a FIFO, socket or device)")
                    .message);
            continue;
        }
        found.push_back(path);
    }
}

// Expands a path argument: "-" as is, a directory into its regular files (recursively, sorted,
// without CloudWatch's export test object and dot files), a file as is. Whatever in a directory
// cannot be read — an unreadable subdirectory, a dangling link, a FIFO — is an input error.
void expand(const std::string& arg, std::vector<std::string>& out, std::vector<std::string>& errors)
{
    if (arg == "-") {
        out.push_back(arg);
        return;
    }

    struct stat st {};

    if (::stat(arg.c_str(), &st) != 0) {
        errors.push_back(util::sys_error("read", arg, errno).message);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        out.push_back(arg);
        return;
    }
    std::vector<std::string> found;
    walk(arg, found, errors);
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
}

class Progress {
public:
    Progress(std::FILE* out, std::size_t total)
        : m_out(total >= k_progress_min_files ? out : nullptr)
        , m_total(total)
    {}

    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    ~Progress() { clear(); }

    void update(std::size_t done, std::uint64_t bytes)
    {
        if (m_out == nullptr) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (done != m_total && now - m_last < k_progress_interval) {
            return;
        }
        m_last = now;
        std::fprintf(m_out,
                     "\r\033[K[execmark] %zu/%zu files, %.1f MiB",
                     done,
                     m_total,
                     static_cast<double>(bytes) / (1024.0 * 1024.0));
        std::fflush(m_out);
        m_shown = true;
    }

    void clear()
    {
        if (m_out != nullptr && m_shown) {
            std::fputs("\r\033[K", m_out);
            std::fflush(m_out);
            m_shown = false;
        }
    }

private:
    std::FILE* m_out;
    std::size_t m_total;
    std::chrono::steady_clock::time_point m_last{};
    bool m_shown = false;
};

// Routes container-log streams to the container check; session streams are left out.
class ContainerRouter final : public LogRouter {
public:
    explicit ContainerRouter(ContainerLogCheck& check)
        : m_check(check)
    {}

    LineSink* open_log(const LogIdentity& id) override
    {
        if (!id.stream.empty() && is_exec_session_id(id.stream)) {
            // A session's own stream inside a container-log input (a whole log group): never a
            // key source.
            return nullptr;
        }
        m_check.begin_log(id);
        return &m_check;
    }

    void end_log(const LogIdentity& /*id*/, const LogEnd& /*end*/) override {}

private:
    ContainerLogCheck& m_check;
};

// Routes session logs to one SessionLogCheck per log key.
class SessionRouter final : public LogRouter {
public:
    SessionRouter(const TrustStore& trust, SessionBootKeys& boot_keys, ContentOptions content)
        : m_trust(trust)
        , m_boot_keys(boot_keys)
        , m_content(std::move(content))
    {}

    LineSink* open_log(const LogIdentity& id) override
    {
        if (!id.stream.empty() && id.sid_origin == "stream name"
            && !is_exec_session_id(id.stream)) {
            // A container stream inside a session-log input (a whole log group): not a session.
            return nullptr;
        }
        auto it = m_checks.find(id.key);
        if (it == m_checks.end()) {
            it =
                m_checks
                    .emplace(id.key,
                             std::make_unique<SessionLogCheck>(id, m_trust, m_boot_keys, m_content))
                    .first;
            m_order.push_back(id.key);
        }
        return it->second.get();
    }

    void end_log(const LogIdentity& id, const LogEnd& end) override
    {
        if (const auto it = m_checks.find(id.key); it != m_checks.end()) {
            it->second->end_input(end);
        }
    }

    std::vector<LogVerdict> finish(std::uint64_t& signatures)
    {
        std::vector<LogVerdict> out;
        for (const auto& key : m_order) {
            SessionLogCheck& check = *m_checks.at(key);
            signatures += check.signatures_checked();
            out.push_back(check.finish(m_boot_keys));
        }
        return out;
    }

private:
    const TrustStore& m_trust;
    SessionBootKeys& m_boot_keys;
    ContentOptions m_content;
    std::map<std::string, std::unique_ptr<SessionLogCheck>> m_checks;
    std::vector<std::string> m_order;
};

} // namespace

util::Result<AuditOutcome> run_audit(const AuditOptions& options, std::FILE* progress_out)
{
#if defined(__GLIBC__)
    // Every input gets read and normalisation buffers of a few hundred KiB. glibc would map
    // each of them afresh (above its mmap threshold) and give the memory back when it is freed,
    // so that every file paid for page faults over its buffers again (a fifth of the run time
    // on a VM); keeping them in the heap lets the next file reuse the same pages.
    static_cast<void>(mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024));
    static_cast<void>(mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024));
#endif
    TrustStore trust;
    for (const auto& key : options.keys) {
        if (auto st = trust.add_key_text(key); !st) {
            return st.error();
        }
    }
    Totals totals;
    std::vector<std::string> container_files;
    std::vector<std::string> session_files;
    std::vector<std::string> trail_files;
    for (const auto& p : options.container_logs) {
        expand(p, container_files, totals.input_errors);
    }
    for (const auto& p : options.session_logs) {
        expand(p, session_files, totals.input_errors);
    }
    std::vector<std::string> directory_files;
    for (const auto& p : options.cloudtrail) {
        expand(p, trail_files, totals.input_errors);
    }
    for (const auto& p : options.identity_center) {
        expand(p, directory_files, totals.input_errors);
    }
    const std::size_t all =
        container_files.size() + session_files.size() + trail_files.size() + directory_files.size();
    totals.inputs = all;
    Progress progress(options.progress ? progress_out : nullptr, all);
    std::size_t done = 0;
    const auto read_each = [&](const std::vector<std::string>& files, auto&& read_one) {
        for (const auto& path : files) {
            auto in = Input::open(path);
            if (!in) {
                totals.input_errors.push_back(in.error().message);
            } else {
                if (auto st = read_one(*in, path); !st) {
                    totals.input_errors.push_back(st.error().message);
                }
                totals.bytes += in->raw_bytes();
            }
            progress.update(++done, totals.bytes);
        }
    };

    // 1. Container logs first: they decide which keys are trusted.
    PageSet pages;
    ContainerLogCheck container(trust);
    ContainerRouter container_router(container);
    ReadOptions container_options;
    container_options.pages = &pages;
    container_options.role = "container log";
    read_each(container_files, [&](Input& in, const std::string& path) {
        return read_log_input(in, path, container_options, container_router);
    });
    container.finish();

    // 2. Session logs. Their content checks (normalisation and hashing: most of the work) run
    // on all cores, one strand per log; everything else stays on this thread, in input order.
    SessionBootKeys boot_keys;
    std::optional<WorkPool> pool; // before the router: its checks' strands must go first
    ContentOptions content;
    if (options.audit) {
        pool.emplace(audit_threads(), k_content_queue_bytes);
        content.recordings = &container.recordings();
        content.timeline_sid = options.timeline;
        content.pool = &*pool;
    }
    SessionRouter session_router(trust, boot_keys, content);
    ReadOptions session_options;
    session_options.session_override = options.session;
    session_options.pages = &pages;
    read_each(session_files, [&](Input& in, const std::string& path) {
        return read_log_input(in, path, session_options, session_router);
    });

    // 3. CloudTrail, and the Identity Center directory.
    TrailIndex trail;
    trail.set_scope(options.scope);
    IdentityDirectory directory;
    if (options.audit) {
        read_each(trail_files, [&](Input& in, const std::string& /*path*/) {
            return read_trail_input(in, options.claim_var, trail, &pages);
        });
        read_each(directory_files, [&](Input& in, const std::string& /*path*/) {
            return directory.read(in, &pages);
        });
    }
    progress.clear();
    // A page whose next page is missing makes its role's input incomplete (pages.hpp).
    for (auto& message : pages.unfollowed()) {
        totals.input_errors.push_back(std::move(message));
    }
    totals.incomplete = pages.incomplete_roles();

    JoinInputs join;
    join.verdicts = session_router.finish(totals.signatures);
    std::optional<Timeline> timeline;
    if (!options.timeline.empty()) {
        for (const LogVerdict& v : join.verdicts) {
            if (v.id.own_sid == options.timeline && v.content.checked) {
                const auto rec = container.recordings().find(options.timeline);
                timeline =
                    build_timeline(options.timeline,
                                   v.id.source,
                                   v.content,
                                   rec == container.recordings().end() ? nullptr : &rec->second);
                break;
            }
        }
        if (!timeline) {
            totals.input_errors.push_back(util::make_error("show timeline",
                                                           options.timeline,
                                                           "no session log given holds this "
                                                           "session's open marker")
                                              .message);
        }
    }
    totals.signatures += container.signatures_checked();
    join.evidence = &container.evidence();
    join.recordings = &container.recordings();
    join.container_logs = !container_files.empty();
    join.trail = options.audit ? &trail : nullptr;
    join.trust = &trust;
    join.boots = &container.boots();
    join.container_problems = &container.problems();
    join.directory = directory.empty() ? nullptr : &directory;
    join.claim_var = options.claim_var;
    join.scope = options.scope;
    for (const LogVerdict& v : join.verdicts) {
        totals.markers += v.markers;
    }
    totals.trail_records = trail.records();
    totals.exec_events = trail.execs().size();
    totals.run_task_events = trail.run_tasks();
    const Assessment assessment = assess(std::move(join), std::move(totals));
    const Totals& result = assessment.totals;

    AuditOutcome outcome;
    if (timeline) {
        for (const SessionRecord& row : assessment.sessions) {
            if (row.session == timeline->session) {
                timeline->status = row.primary_status(options.audit);
                for (const Finding f : row.findings.list()) {
                    timeline->statuses.emplace_back(finding_name(f));
                }
            }
        }
        outcome.report =
            options.json ? render_timeline_json(*timeline) : render_timeline_text(*timeline);
    } else if (!options.timeline.empty()) {
        outcome.report.clear();
    } else {
        outcome.report = options.json ? render_json(assessment) : render_table(assessment);
    }
    outcome.input_errors = result.input_errors;
    outcome.sessions = result.sessions;
    outcome.sessions_with_findings = result.sessions - result.clean;
    outcome.container_findings = result.container_problems;
    outcome.denied = result.denied;
    return outcome;
}

} // namespace execmark::audit
