// SPDX-License-Identifier: MIT
#pragma once

// `execmark verify` and `execmark audit` as library calls: options in, report out. The cli maps
// the outcome to exit codes (docs/exit-codes.md).

#include <agent/audit/assessment.hpp>
#include <agent/util/result.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace execmark::audit {

// Files at which a progress line is shown (only when stderr is a terminal).
inline constexpr std::size_t k_progress_min_files = 20;

struct AuditOptions {
    bool audit = false;                       // audit (CloudTrail join) rather than verify
    std::vector<std::string> session_logs;    // files, directories, "-"
    std::vector<std::string> container_logs;  // --container-log
    std::vector<std::string> keys;            // --key (base64url public keys)
    std::vector<std::string> cloudtrail;      // --cloudtrail
    std::string session;                      // --session
    std::string claim_var = "AWS_USER";       // --claim-var
    std::vector<std::string> identity_center; // --identity-center-users (list-users output)
    Scope scope;                              // --account, --region, --cluster, --since, --until
    bool fail_on_denied = false;              // --fail-on-denied: denied calls are findings
    bool json = false;
    std::string timeline;  // --timeline SID: that session's verified timeline instead of the report
    bool progress = false; // show a progress line on `progress_out` (a terminal)
};

struct AuditOutcome {
    std::string report; // rendered table or JSON lines
    std::vector<std::string> input_errors;
    std::size_t sessions = 0;
    std::size_t sessions_with_findings = 0;
    std::size_t container_findings = 0;
    std::size_t denied = 0; // failed or denied ExecuteCommand calls in scope
};

// Runs the whole check. Errors are only those that make a report meaningless (a bad --key);
// unreadable inputs are listed in input_errors and the report covers the rest.
util::Result<AuditOutcome> run_audit(const AuditOptions& options, std::FILE* progress_out);

} // namespace execmark::audit
