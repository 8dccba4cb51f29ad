// SPDX-License-Identifier: MIT
#include <agent/cli/exit_codes.hpp>
#include <agent/cli/po_parse.hpp>
#include <agent/util/error.hpp>

#include <cstdio>

namespace execmark::cli {

namespace po = boost::program_options;

util::Result<po::variables_map> parse_with_words(const std::vector<std::string>& args,
                                                 const po::options_description& desc,
                                                 const char* rest_name)
{
    po::options_description all;
    all.add(desc);
    all.add_options()(rest_name, po::value<std::vector<std::string>>(), "");
    // The parser keeps a reference to the positional description: it must outlive run().
    po::positional_options_description positional;
    positional.add(rest_name, -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        return util::make_error("parse", "arguments", e.what());
    }
    return vm;
}

std::vector<std::string> words_of(const po::variables_map& vm, const char* rest_name)
{
    return vm.count(rest_name) > 0 ? vm[rest_name].as<std::vector<std::string>>()
                                   : std::vector<std::string>{};
}

int usage_error(std::string_view command, std::string_view message)
{
    std::fprintf(stderr,
                 "execmark %.*s: %.*s\n",
                 static_cast<int>(command.size()),
                 command.data(),
                 static_cast<int>(message.size()),
                 message.data());
    return k_exit_usage;
}

} // namespace execmark::cli
