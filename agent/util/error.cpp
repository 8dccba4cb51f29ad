// SPDX-License-Identifier: MIT
#include <agent/util/error.hpp>

#include <string.h>

#include <array>

namespace execmark::util {

std::string errno_text(int err)
{
    std::array<char, 128> buf{};
    // GNU strerror_r returns a pointer that may or may not be buf.
    const char* text = strerror_r(err, buf.data(), buf.size());
    return text != nullptr ? std::string(text) : std::string("errno ") + std::to_string(err);
}

Error sys_error(std::string_view action, std::string_view object, int err)
{
    Error e = make_error(action, object, errno_text(err));
    e.code = err;
    return e;
}

Error make_error(std::string_view action, std::string_view object, std::string_view reason)
{
    std::string msg;
    msg.append(action);
    if (!object.empty()) {
        msg.push_back(' ');
        msg.append(object);
    }
    msg.append(": ");
    msg.append(reason);
    return Error{std::move(msg), 0};
}

} // namespace execmark::util
