// SPDX-License-Identifier: MIT
#include <agent/cli/commands.hpp>
#include <agent/client/protocol.hpp>
#include <agent/doctor/doctor.hpp>
#include <agent/util/error.hpp>
#include <agent/util/io.hpp>

#include <boost/program_options.hpp>

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace execmark::cli {

namespace {

namespace po = boost::program_options;

struct DoctorArgs {
    bool json = false;
    bool help = false;
    std::string root = "/";
};

void print_doctor_help(std::FILE* out, const po::options_description& desc)
{
    std::ostringstream options;
    options << desc;
    std::fprintf(out,
                 R"(Usage: execmark doctor [--json] [--root DIR]

Check, inside the container, what signed session markers need, one line per check with a fix
for each problem:
  pid1      PID 1 is execmark (ENTRYPOINT ["/usr/local/bin/execmark", "init", "--"])
  agent     the agent answers on its socket ($EXECMARK_SOCKET, default %s)
  hooks     the hooks are installed for the bash and zsh present (execmark hook install)
  env       ENV sources the hook for dash, busybox ash, mksh and sh
  tools     script and cat are on PATH (SSM uploads no session log without them)
  metadata  the ECS task metadata endpoint answers ($ECS_CONTAINER_METADATA_URI_V4)
  claim     the claim variable is set ($AWS_USER, or the one EXECMARK_CLAIM_VAR names)
Run it the way a session runs, e.g. with ECS Exec: it judges the environment it is given.

%s
Exit status: 0 nothing required is missing (warnings allowed), 1 something required is
missing, 2 usage error.

Examples:
  aws ecs execute-command --cluster C --task T --interactive --command "execmark doctor"
  execmark doctor --json | jq '.checks[] | select(.status != "ok")'
  execmark doctor --root /tmp/rootfs
)",
                 client::k_default_socket_path,
                 options.str().c_str());
}

util::Result<DoctorArgs> parse_doctor_args(const std::vector<std::string>& args,
                                           const po::options_description& desc)
{
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(desc).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return util::make_error("parse", "arguments", e.what());
    }
    DoctorArgs a;
    a.json = vm.count("json") > 0;
    a.help = vm.count("help") > 0;
    if (vm.count("root") > 0) {
        a.root = vm["root"].as<std::string>();
        if (a.root.empty()) {
            return util::make_error("parse", "--root", "is empty");
        }
    }
    return a;
}

} // namespace

int run_doctor(const std::vector<std::string>& args, const Environment& env)
{
    po::options_description desc("Options");
    desc.add_options()("json", "print the checks as JSON")(
        "root", po::value<std::string>(), "check the image files under DIR instead of /")(
        "help,h", "show this help");
    auto parsed = parse_doctor_args(args, desc);
    if (!parsed) {
        std::fprintf(stderr, "execmark doctor: %s\n\n", parsed.error().message.c_str());
        print_doctor_help(stderr, desc);
        return k_exit_usage;
    }
    if (parsed->help) {
        print_doctor_help(stdout, desc);
        return k_exit_ok;
    }
    doctor::Options options;
    options.root = parsed->root;
    options.socket_path = env.get(env_names::k_socket).value_or(client::k_default_socket_path);
    options.env_value = env.get("ENV");
    options.path_value = env.get("PATH").value_or("");
    options.claim_variable = env.claim_var();
    options.claim_value = env.get(options.claim_variable);
    options.metadata_uri_v4 = env.get("ECS_CONTAINER_METADATA_URI_V4").value_or("");
    options.metadata_uri_v3 = env.get("ECS_CONTAINER_METADATA_URI").value_or("");

    const auto checks = doctor::evaluate(doctor::gather(options));
    const std::string out =
        parsed->json ? doctor::render_json(checks) : doctor::render_text(checks);
    if (auto w = util::write_all(STDOUT_FILENO, out); !w) {
        std::fprintf(stderr, "execmark doctor: %s\n", w.error().message.c_str());
        return k_exit_failure;
    }
    return doctor::exit_code(checks) == 0 ? k_exit_ok : k_exit_failure;
}

} // namespace execmark::cli
