// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/io.hpp>

#include <stdexcept>
#include <string>

namespace execmark::test {

// The text of tests/fixtures/metadata/<name>; throws (failing the test) when unreadable.
inline std::string metadata_fixture(const std::string& name)
{
    auto text =
        util::read_file(std::string(EXECMARK_FIXTURES_DIR) + "/metadata/" + name, 1024 * 1024);
    if (!text) {
        throw std::runtime_error(text.error().message);
    }
    return std::move(*text);
}

} // namespace execmark::test
