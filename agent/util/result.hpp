// SPDX-License-Identifier: MIT
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace execmark::util {

// An error as a value: one message in the house shape "<action> <object>: <reason>", and the
// errno it came from (0 when none).
struct Error {
    std::string message;
    int code = 0;
};

// Either a T or an Error. Errors cross module boundaries as values; exceptions stay at the edge.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value)
        : m_value(std::in_place_index<0>, std::move(value))
    {}

    Result(Error error)
        : m_value(std::in_place_index<1>, std::move(error))
    {}

    [[nodiscard]] bool ok() const { return m_value.index() == 0; }

    explicit operator bool() const { return ok(); }

    T& value() &
    {
        assert(ok());
        return std::get<0>(m_value);
    }

    const T& value() const&
    {
        assert(ok());
        return std::get<0>(m_value);
    }

    T&& value() &&
    {
        assert(ok());
        return std::get<0>(std::move(m_value));
    }

    T& operator*() & { return value(); }

    const T& operator*() const& { return value(); }

    T* operator->() { return &value(); }

    const T* operator->() const { return &value(); }

    [[nodiscard]] const Error& error() const
    {
        assert(!ok());
        return std::get<1>(m_value);
    }

private:
    std::variant<T, Error> m_value;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;

    Result(Error error)
        : m_error(std::move(error))
        , m_ok(false)
    {}

    [[nodiscard]] bool ok() const { return m_ok; }

    explicit operator bool() const { return m_ok; }

    [[nodiscard]] const Error& error() const
    {
        assert(!m_ok);
        return m_error;
    }

private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

} // namespace execmark::util
