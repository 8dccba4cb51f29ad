// SPDX-License-Identifier: MIT
#pragma once

namespace execmark::cli {

// The whole program: picks the subcommand (or tini mode from argv[0]), parses options, runs it,
// and maps errors to exit codes (docs/exit-codes.md). The only place that knows exit codes.
int run(int argc, char** argv);

} // namespace execmark::cli
