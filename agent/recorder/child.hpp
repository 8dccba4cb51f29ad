// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

namespace execmark::recorder {

// How the session's shell ended.
struct ChildOutcome {
    int exit_code = 0;        // the shell's status, 128+N when killed by signal N, 126/127
    std::string fin = "exit"; // "exit" | "signal" | "hangup" (the close marker's fin)
};

// Runs argv (PATH search) on the caller's terminal and waits for it, the way system(3) does:
// INT and QUIT are ignored here and default in the child; HUP and TERM received here are passed
// on to the child (and make fin "hangup" / "signal"). The signal mask is restored afterwards.
ChildOutcome run_child(const std::vector<std::string>& argv);

} // namespace execmark::recorder
