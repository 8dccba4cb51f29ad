// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <boost/program_options.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace execmark::cli {

// Parses args with desc, collecting the positional words under rest_name (a vector<string>
// option added here). Boost.Program_options exceptions become an Error "parse arguments: ...".
util::Result<boost::program_options::variables_map>
parse_with_words(const std::vector<std::string>& args,
                 const boost::program_options::options_description& desc,
                 const char* rest_name);

// The positional words collected by parse_with_words (empty when none).
std::vector<std::string> words_of(const boost::program_options::variables_map& vm,
                                  const char* rest_name);

// A usage error in one style: "execmark <command>: <message>" on stderr; returns k_exit_usage.
int usage_error(std::string_view command, std::string_view message);

} // namespace execmark::cli
