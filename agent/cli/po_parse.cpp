// SPDX-License-Identifier: MIT
#include <agent/cli/po_parse.hpp>
#include <agent/util/error.hpp>

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

} // namespace execmark::cli
