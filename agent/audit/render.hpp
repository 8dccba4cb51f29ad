// SPDX-License-Identifier: MIT
#pragma once

// Rendering an Assessment (assessment.hpp) for people (an aligned table with sections) and for
// programs (JSON lines). Pure functions of the assessment: no status rule is decided here.

#include <agent/audit/assessment.hpp>

#include <string>

namespace execmark::audit {

// Aligned table (padded by display width), then the sections: findings, trusted keys,
// container-log findings, totals.
std::string render_table(const Assessment& assessment);

// JSON lines: {"type":"session",...} per session, {"type":"key",...} per trusted key, then one
// {"type":"summary",...}. Field names are documented in docs/auditing.md, "JSON output".
std::string render_json(const Assessment& assessment);

} // namespace execmark::audit
