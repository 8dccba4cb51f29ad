// SPDX-License-Identifier: MIT
#include <agent/cli/audit_command.hpp>
#include <agent/cli/commands.hpp>

namespace execmark::cli {

int run_verify(const std::vector<std::string>& args, const Environment& /*env*/)
{
    return run_audit_command(args, false);
}

} // namespace execmark::cli
