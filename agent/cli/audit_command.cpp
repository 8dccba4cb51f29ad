// SPDX-License-Identifier: MIT
#include <agent/audit/run.hpp>
#include <agent/cli/audit_command.hpp>
#include <agent/cli/commands.hpp>
#include <agent/cli/po_parse.hpp>
#include <agent/util/error.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

struct Parsed {
    audit::AuditOptions options;
    bool help = false;
};

po::options_description describe(bool audit)
{
    po::options_description desc("Options");
    auto add = desc.add_options();
    if (audit) {
        add("cloudtrail",
            po::value<std::vector<std::string>>()->value_name("PATH"),
            "CloudTrail input: S3 log files ({\"Records\":[...]}, .gz; digest files are "
            "skipped), `aws cloudtrail lookup-events` or `get-query-results` (CloudTrail Lake) "
            "output, or EventBridge events; directories are read recursively (repeatable, "
            "required)");
    }
    add("container-log",
        po::value<std::vector<std::string>>()->value_name("PATH"),
        "the container's own log stream (awslogs), in any log shape: the trusted source of boot "
        "keys, of exec.seen and (audit) of the sessions' recording checkpoints (repeatable)");
    add("key",
        po::value<std::vector<std::string>>()->value_name("BASE64URL"),
        "trust this Ed25519 public key (a boot marker's pub) as well (repeatable)");
    add("session",
        po::value<std::string>()->value_name("SID"),
        "the own session id of the session logs given (stdin, renamed files, get-log-events "
        "output); filter-log-events names its streams itself");
    add("stream", po::value<std::string>()->value_name("NAME"), "same as --session");
    if (audit) {
        add("claim-var",
            po::value<std::string>()->value_name("NAME"),
            "environment variable of the claim in RunTask overrides (default AWS_USER)");
        add("identity-center-users",
            po::value<std::vector<std::string>>()->value_name("PATH"),
            "`aws identitystore list-users` output: map Identity Center user ids and "
            "AWSReservedSSO session names to user names and e-mails (repeatable)");
        add("timeline",
            po::value<std::string>()->value_name("SID"),
            "instead of the report, show session SID as a verified timeline: each command line "
            "with PID 1's time, its output as a terminal shows it, and each checkpoint's state "
            "(with --json: one {\"type\":\"timeline\"} object)");
        add("fail-on-denied",
            "denied or failed ExecuteCommand calls make the exit status 1 (by default they are "
            "reported only)");
    }
    add("account",
        po::value<std::vector<std::string>>()->value_name("ID"),
        "only sessions of this AWS account (repeatable); others are skipped and counted");
    add("region",
        po::value<std::vector<std::string>>()->value_name("REGION"),
        "only sessions in this region (repeatable)");
    add("cluster",
        po::value<std::vector<std::string>>()->value_name("NAME|ARN"),
        "only sessions on this ECS cluster (repeatable)");
    add("since",
        po::value<std::string>()->value_name("TIME"),
        "only sessions started at or after TIME (2026-03-02T09:00:00Z or 2026-03-02)");
    add("until", po::value<std::string>()->value_name("TIME"), "only sessions started before TIME");
    add("json", "one JSON object per line: sessions, keys, then a summary");
    add("help,h", "print this help");
    return desc;
}

void print_help(std::FILE* out, bool audit, const po::options_description& desc)
{
    std::ostringstream options;
    options << desc;
    if (audit) {
        std::fprintf(
            out,
            R"(Usage: execmark audit --cloudtrail PATH... [--container-log PATH]... [OPTIONS] [SESSION-LOGS...]

Verify session logs (as `execmark verify`) and join them exactly with CloudTrail's
ExecuteCommand events on the session id: who opened each session (the CloudTrail principal),
what the markers claim, which task and container, when, and whether anything was forged, cut,
replayed or bypassed. Sessions that appear only in CloudTrail (UNMARKED), only in session logs
(ORPHAN) or only in the container log's exec.seen markers (BYPASSED) are reported too.

%s
The transcript of every recorded session is checked against the recording checkpoints PID 1
signed into the container log (rec markers): a session is ATTRIBUTED only when its whole
recorded transcript matches them.

Statuses: ATTRIBUTED (clean), MISMATCH, UNMARKED, ORPHAN, BYPASSED; content: INTERFERED (a
process outside the session wrote to its terminal: the operator is the victim), EDITED (the
transcript differs from what the shell produced), TRUNCATED, UNRECORDED; and the verify
statuses FORGED, REPLAYED, ALTERED, REORDERED, GAP, MANGLED, NO-CLOSE, DUPLICATE, UNSIGNED,
UNBOUND.
The claim matches the principal when it equals the role session name, "role/session", the
source identity, the IAM user name, the federated user name, the Identity Center user id or the
full ARN (ASCII case ignored); with --identity-center-users also the Identity Center user name
or e-mail of an AWSReservedSSO session or user id: docs/auditing.md.

Failed or denied ExecuteCommand calls (errorCode) are listed in their own section; with
--fail-on-denied they make the exit status 1. Filters skip (and count) sessions of other
accounts, regions, clusters or times.

Exit status: 0 every session attributed and clean, 1 findings, 2 usage error, 3 an input could
not be read, was not a known shape, or was incomplete (a page whose NextToken was not
followed; the report covers the rest), or there was nothing to audit.

Examples:
  aws cloudtrail lookup-events --lookup-attributes \
      AttributeKey=EventName,AttributeValue=ExecuteCommand > trail.json
  aws s3 cp --recursive s3://exec-logs/prod/ sessions/
  execmark audit --cloudtrail trail.json --container-log app-stream.json sessions/
  execmark audit --cloudtrail AWSLogs/ --container-log export/ --json sessions/ > report.jsonl
  execmark audit --cloudtrail trail.json --container-log app-stream.json \
      --timeline ecs-execute-command-0a1b2c3d4e5f6a7b8 sessions/
  aws identitystore list-users --identity-store-id d-1234567890 > users.json
  execmark audit --cloudtrail AWSLogs/ --identity-center-users users.json \
      --account 210987654321 --since 2026-03-02 sessions/
)",
            options.str().c_str());
        return;
    }
    std::fprintf(
        out,
        R"(Usage: execmark verify [--container-log PATH]... [--key BASE64URL]... [OPTIONS] FILES...

Check the execmark markers in ECS Exec session logs: signatures under a trusted key (a boot
marker in a container log, or --key; a boot marker inside a session log is never trusted),
the binding of each marker to the log's own session id (S3 object name <sid>.log, CloudWatch
stream name, or --session), the seq/prev chain, and the close marker. Reads S3 transcripts,
CloudWatch get-log-events / filter-log-events JSON, CloudWatch exports to S3, plain text and
gzip anywhere; a directory is read recursively; "-" is standard input.

%s
Statuses per session: OK, or FORGED, REPLAYED, BYPASSED, ALTERED, REORDERED, GAP, MANGLED,
NO-CLOSE, UNMARKED, DUPLICATE, UNSIGNED, UNBOUND (docs/auditing.md).

Exit status: 0 every session clean, 1 findings, 2 usage error, 3 an input could not be read
(the report covers the rest) or no session log was found.

Examples:
  execmark verify --container-log app-stream.json ecs-execute-command-0a1b2c3d4e5f6a7b8.log
  aws logs get-log-events --log-group-name /ecs/exec --log-stream-name "$SID" --start-from-head \
      | execmark verify --container-log app.json --session "$SID" -
  execmark verify --key "$BOOT_PUB" --json sessions/    # pub of a boot marker
)",
        options.str().c_str());
}

util::Result<Parsed>
parse(const std::vector<std::string>& args, bool audit, const po::options_description& desc)
{
    auto parsed = parse_with_words(args, desc, "inputs");
    if (!parsed) {
        return parsed.error();
    }
    const po::variables_map& vm = *parsed;
    Parsed p;
    p.help = vm.count("help") > 0;
    if (p.help) {
        return p;
    }
    audit::AuditOptions& o = p.options;
    o.audit = audit;
    o.json = vm.count("json") > 0;
    const auto list = [&](const char* name) {
        return vm.count(name) > 0 ? vm[name].as<std::vector<std::string>>()
                                  : std::vector<std::string>{};
    };
    o.session_logs = list("inputs");
    o.container_logs = list("container-log");
    o.keys = list("key");
    if (audit) {
        o.cloudtrail = list("cloudtrail");
        if (o.cloudtrail.empty()) {
            return util::make_error("parse", "arguments", "--cloudtrail is required");
        }
        if (vm.count("claim-var") > 0) {
            o.claim_var = vm["claim-var"].as<std::string>();
            if (o.claim_var.empty()) {
                return util::make_error("parse", "--claim-var", "empty name");
            }
        }
        o.identity_center = list("identity-center-users");
        o.fail_on_denied = vm.count("fail-on-denied") > 0;
        if (vm.count("timeline") > 0) {
            o.timeline = vm["timeline"].as<std::string>();
            if (o.timeline.empty()) {
                return util::make_error("parse", "--timeline", "empty session id");
            }
        }
    } else if (o.session_logs.empty()) {
        return util::make_error("parse", "arguments", "no session log given");
    }
    o.scope.accounts = list("account");
    o.scope.regions = list("region");
    o.scope.clusters = list("cluster");
    for (const auto* name : {"since", "until"}) {
        if (vm.count(name) == 0) {
            continue;
        }
        std::string text = vm[name].as<std::string>();
        if (text.size() == 10) {
            text += "T00:00:00Z"; // a date: its midnight, UTC
        }
        const auto ms = audit::parse_utc_time(text);
        if (!ms) {
            return util::make_error("parse",
                                    std::string("--") + name,
                                    "not a UTC time like 2026-03-02T09:00:00Z or a date like "
                                    "2026-03-02: "
                                        + vm[name].as<std::string>());
        }
        (std::string_view(name) == "since" ? o.scope.since_ms : o.scope.until_ms) = *ms;
    }
    if (o.scope.since_ms && o.scope.until_ms && *o.scope.until_ms <= *o.scope.since_ms) {
        return util::make_error("parse", "--until", "is not after --since");
    }
    if (vm.count("session") > 0 && vm.count("stream") > 0) {
        return util::make_error("parse", "arguments", "give --session or --stream, not both");
    }
    if (vm.count("session") > 0) {
        o.session = vm["session"].as<std::string>();
    } else if (vm.count("stream") > 0) {
        o.session = vm["stream"].as<std::string>();
    }
    std::size_t stdin_uses = 0;
    for (const auto* group :
         {&o.session_logs, &o.container_logs, &o.cloudtrail, &o.identity_center}) {
        for (const auto& path : *group) {
            stdin_uses += path == "-" ? 1 : 0;
        }
    }
    if (stdin_uses > 1) {
        return util::make_error("parse", "arguments", "standard input (-) can be read only once");
    }
    return p;
}

} // namespace

int run_audit_command(const std::vector<std::string>& args, bool audit)
{
    const char* const name = audit ? "audit" : "verify";
    const po::options_description desc = describe(audit);
    auto parsed = parse(args, audit, desc);
    if (!parsed) {
        std::fprintf(stderr, "execmark %s: %s\n\n", name, parsed.error().message.c_str());
        print_help(stderr, audit, desc);
        return k_exit_usage;
    }
    if (parsed->help) {
        print_help(stdout, audit, desc);
        return k_exit_ok;
    }
    audit::AuditOptions& options = parsed->options;
    // Progress only for people watching a terminal, never in pipes or CI logs.
    options.progress = ::isatty(STDERR_FILENO) == 1;
    auto outcome = audit::run_audit(options, stderr);
    if (!outcome) {
        std::fprintf(stderr, "execmark %s: %s\n", name, outcome.error().message.c_str());
        return k_exit_usage;
    }
    for (const auto& err : outcome->input_errors) {
        std::fprintf(stderr, "execmark %s: %s\n", name, err.c_str());
    }
    std::fputs(outcome->report.c_str(), stdout);
    if (std::fflush(stdout) != 0) {
        std::fprintf(stderr, "execmark %s: write report: output error\n", name);
        return k_exit_input_error;
    }
    if (!outcome->input_errors.empty()) {
        return k_exit_input_error;
    }
    if (outcome->sessions == 0 && outcome->denied == 0) {
        std::fprintf(stderr, "execmark %s: no session found in the inputs\n", name);
        return k_exit_input_error;
    }
    if (outcome->sessions_with_findings > 0 || outcome->container_findings > 0
        || (options.fail_on_denied && outcome->denied > 0)) {
        return k_exit_findings;
    }
    return k_exit_ok;
}

} // namespace execmark::cli
