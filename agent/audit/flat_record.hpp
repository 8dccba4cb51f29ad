// SPDX-License-Identifier: MIT
#pragma once

// One JSON record (a CloudTrail record, an EventBridge event) held flat: its values as nodes in
// one vector, their member names and strings in one buffer, both kept between records, so that
// reading a record allocates nothing once the buffers have grown to the largest one. Read with
// the same answers as the nlohmann DOM it replaces: a member named twice is the last one, an
// object's member names are listed sorted and once each.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

using Json = nlohmann::json;

class FlatRecord {
public:
    using Id = std::uint32_t;
    static constexpr Id k_none = UINT32_MAX;

    enum class Kind : std::uint8_t {
        null,
        boolean,
        integer,
        unsigned_integer,
        floating,
        string,
        object,
        array
    };

    // Empties the record, keeping its buffers.
    void clear();

    // Adds a value under parent (k_none: the root, which must be the first value): as member
    // key of an object parent, as the next element of an array parent (key ignored). Returns
    // its id. Strings: the text; integers, booleans: the value.
    Id add(Id parent, std::string_view key, Kind kind, std::string_view text = {});
    Id add_integer(Id parent, std::string_view key, std::int64_t value);
    Id add_unsigned(Id parent, std::string_view key, std::uint64_t value);
    Id add_boolean(Id parent, std::string_view key, bool value);

    // The record of a DOM (tests, CloudTrail Lake rows, lookup-events' CloudTrailEvent); not
    // recursive, whatever the depth.
    static FlatRecord of(const Json& value);

    [[nodiscard]] bool empty() const { return m_nodes.empty(); }

    [[nodiscard]] Id root() const { return m_nodes.empty() ? k_none : 0; }

    [[nodiscard]] Kind kind(Id id) const { return m_nodes[id].kind; }

    [[nodiscard]] bool is(Id id, Kind k) const { return id != k_none && m_nodes[id].kind == k; }

    // The member key of object (the last one of that name), k_none when object is not an
    // object or has none.
    [[nodiscard]] Id member(Id object, std::string_view key) const;

    // The children of an object or array, in document order: first(id), then next(child).
    [[nodiscard]] Id first(Id id) const { return id == k_none ? k_none : m_nodes[id].first; }

    [[nodiscard]] Id next(Id id) const { return m_nodes[id].next; }

    // A string's text ("" for anything else).
    [[nodiscard]] std::string_view string(Id id) const;

    // The text of a value as the auditor reads fields: a string's text, an integer's or a
    // boolean's JSON text (nlohmann's dump()), "" for anything else and for k_none.
    [[nodiscard]] std::string text(Id id) const;

    // An object's member names, sorted, each once (std::map order, as nlohmann keeps them).
    [[nodiscard]] std::vector<std::string_view> keys(Id object) const;

    // nlohmann's type_name() of a value.
    [[nodiscard]] const char* type_name(Id id) const;

private:
    struct Node {
        Kind kind = Kind::null;
        bool flag = false;
        std::uint32_t key_at = 0, key_size = 0;
        std::uint32_t text_at = 0, text_size = 0;
        Id first = k_none, last = k_none, next = k_none;
        std::uint64_t number = 0; // integer (two's complement) or unsigned value
    };

    std::uint32_t keep(std::string_view s);
    Id link(Id parent, Node node, std::string_view key);

    std::vector<Node> m_nodes;
    std::string m_text;
};

} // namespace execmark::audit
