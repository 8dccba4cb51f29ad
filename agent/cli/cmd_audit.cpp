// SPDX-License-Identifier: MIT
#include <agent/cli/audit_command.hpp>
#include <agent/cli/commands.hpp>

namespace execmark::cli {

int run_audit(const std::vector<std::string>& args, const Environment& /*env*/)
{
    return run_audit_command(args, true);
}

} // namespace execmark::cli
