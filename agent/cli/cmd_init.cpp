// SPDX-License-Identifier: MIT
#include <agent/cli/commands.hpp>
#include <agent/cli/init_args.hpp>
#include <agent/cli/logging.hpp>
#include <agent/cli/version.hpp>
#include <agent/init/hardening.hpp>
#include <agent/init/supervisor.hpp>
#include <agent/signer/server.hpp>

#include <unistd.h>

#include <cstdio>
#include <memory>

namespace execmark::cli {

namespace {

// tini's usage errors exit 1; keep that so scripts written for tini see the same codes.
constexpr int k_init_usage_exit = 1;

void print_init_help(std::FILE* out, bool tini_mode)
{
    const char* name = tini_mode ? "tini" : "execmark init";
    std::fprintf(out,
                 R"(Usage: %s [OPTIONS] [--] PROGRAM [ARGS...]

Run PROGRAM as the child of a minimal init (PID 1 of a container): reap every zombie, forward
signals, exit with the child's status, and shut down gracefully.

Options (tini-compatible; options end at the first non-option word):
  -s, --subreaper           require being a child subreaper (automatic when not PID 1)
  -g, --process-group       send forwarded signals to the child's whole process group
  -p, --parent-death-signal SIG
                            signal this init receives when its parent dies (name or number)
  -e, --remap-exit CODE     exit with 0 when the child exits with CODE (repeatable)
  -v, --verbose             more log lines on stderr (repeatable: info, debug, trace)
  -w, --warn-reaped         warn for every zombie reaped that is not the child
  -l, --license             print the licence and exit
  -h, --help                print this help and exit
      --version             print the version (tini's format, for `docker info`) and exit
      --grace SECONDS       after SIGTERM/SIGINT, or when the child exits leaving processes
                            behind, wait this long for all of them, then SIGKILL (default 10)

Environment:
  TINI_SUBREAPER            set (any value): as -s
  TINI_KILL_PROCESS_GROUP   set (any value): as -g
  TINI_VERBOSITY=N          verbosity 0..4, overrides -v (default 1: warnings)
  EXECMARK_GRACE=SECONDS    default for --grace

Exit status: the child's; 128+N if it was killed by signal N; 126 if PROGRAM cannot be
executed, 127 if it is not found; 1 for a usage error. -e CODE maps CODE to 0.

Examples:
  ENTRYPOINT ["/usr/local/bin/execmark", "init", "--"]
  execmark init -g --grace 25 -- /app/server --port 8080
  ln -s execmark /sbin/tini && tini -s -- ./run.sh
)",
                 name);
}

} // namespace

int run_init(const std::vector<std::string>& args, const Environment& env, bool tini_mode)
{
    auto parsed = parse_init_args(args, env);
    if (!parsed) {
        setup_logging("init", 1);
        std::fprintf(stderr, "[execmark init] error: %s\n", parsed.error().message.c_str());
        print_init_help(stderr, tini_mode);
        return k_init_usage_exit;
    }
    const InitArgs& a = *parsed;
    if (a.help) {
        print_init_help(stdout, tini_mode);
        return 0;
    }
    if (a.version) {
        std::printf("%s\n", tini_version_line().c_str());
        return 0;
    }
    if (a.license) {
        std::fputs(license_text(), stdout);
        return 0;
    }
    setup_logging("init", a.options.verbosity);
    const bool attribution = a.attribution.value_or(!tini_mode);
    if (!attribution) {
        return init::supervise(a.options, init::SupervisorHooks{});
    }
    signer::ServiceOptions service_options;
    if (!a.socket_path.empty()) {
        service_options.socket_path = a.socket_path;
    }
    service_options.watch_interval_ms = static_cast<std::int64_t>(a.watch_interval_ms);
    service_options.version = version_string();
    service_options.metadata.uri_v4 = env.get("ECS_CONTAINER_METADATA_URI_V4").value_or("");
    service_options.metadata.uri_v3 = env.get("ECS_CONTAINER_METADATA_URI").value_or("");
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) == 0) {
        service_options.host = host;
    }
    // Created before the child runs only as an object; the key, socket and threads come in
    // on_started, after the program was spawned, so nothing here delays it.
    std::unique_ptr<signer::AttributionService> service;
    init::SupervisorHooks hooks;
    hooks.on_started = [&](init::EventLoop& loop, pid_t) {
        init::harden_process();
        // Markers go to PID 1's stdout: the container log, the trust anchor for the key.
        service = std::make_unique<signer::AttributionService>(service_options, STDOUT_FILENO);
        service->start(loop);
    };
    hooks.on_exit = [&](int exit_code) {
        if (service) {
            service->stop(exit_code);
        }
    };
    const int rc = init::supervise(a.options, hooks);
    // A blocked container log leaves the marker writer's thread detached in write(2) (stop()).
    // When the log takes lines again it runs on, and may log; static destructors must not have
    // freed the logger under it: PID 1 then ends with _exit. Nothing is lost: markers go out
    // with write(2) and the log sink flushes every message.
    const bool writer_detached = service && service->log_writer_detached();
    service.reset();
    if (writer_detached) {
        ::_exit(rc);
    }
    return rc;
}

} // namespace execmark::cli
