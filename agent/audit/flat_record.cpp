// SPDX-License-Identifier: MIT
#include <agent/audit/flat_record.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace execmark::audit {

void FlatRecord::clear()
{
    m_nodes.clear();
    m_text.clear();
}

std::uint32_t FlatRecord::keep(std::string_view s)
{
    const auto at = static_cast<std::uint32_t>(m_text.size());
    m_text.append(s);
    return at;
}

FlatRecord::Id FlatRecord::link(Id parent, Node node, std::string_view key)
{
    const auto id = static_cast<Id>(m_nodes.size());
    if (parent != k_none && m_nodes[parent].kind == Kind::object) {
        node.key_at = keep(key);
        node.key_size = static_cast<std::uint32_t>(key.size());
    }
    m_nodes.push_back(node);
    if (parent != k_none) {
        Node& p = m_nodes[parent];
        if (p.last == k_none) {
            p.first = id;
        } else {
            m_nodes[p.last].next = id;
        }
        p.last = id;
    }
    return id;
}

FlatRecord::Id FlatRecord::add(Id parent, std::string_view key, Kind kind, std::string_view text)
{
    Node node;
    node.kind = kind;
    if (kind == Kind::string) {
        node.text_at = keep(text);
        node.text_size = static_cast<std::uint32_t>(text.size());
    }
    return link(parent, node, key);
}

FlatRecord::Id FlatRecord::add_integer(Id parent, std::string_view key, std::int64_t value)
{
    Node node;
    node.kind = Kind::integer;
    node.number = static_cast<std::uint64_t>(value);
    return link(parent, node, key);
}

FlatRecord::Id FlatRecord::add_unsigned(Id parent, std::string_view key, std::uint64_t value)
{
    Node node;
    node.kind = Kind::unsigned_integer;
    node.number = value;
    return link(parent, node, key);
}

FlatRecord::Id FlatRecord::add_boolean(Id parent, std::string_view key, bool value)
{
    Node node;
    node.kind = Kind::boolean;
    node.flag = value;
    return link(parent, node, key);
}

FlatRecord FlatRecord::of(const Json& value)
{
    FlatRecord out;

    // (DOM value, parent id, member name); a stack, not recursion: a DOM may be deep.
    struct Pending {
        const Json* value;
        Id parent;
        std::string_view key;
    };

    std::vector<Pending> todo{{&value, k_none, {}}};
    while (!todo.empty()) {
        const Pending p = todo.back();
        todo.pop_back();
        const Json& v = *p.value;
        Id id = k_none;
        switch (v.type()) {
        case Json::value_t::object: {
            id = out.add(p.parent, p.key, Kind::object);
            const auto& members = v.get_ref<const Json::object_t&>();
            // Pushed in reverse, so that they are added in order.
            for (auto it = members.rbegin(); it != members.rend(); ++it) {
                todo.push_back({&it->second, id, it->first});
            }
            break;
        }
        case Json::value_t::array: {
            id = out.add(p.parent, p.key, Kind::array);
            const auto& elements = v.get_ref<const Json::array_t&>();
            for (auto it = elements.rbegin(); it != elements.rend(); ++it) {
                todo.push_back({&*it, id, {}});
            }
            break;
        }
        case Json::value_t::string:
            out.add(p.parent, p.key, Kind::string, v.get_ref<const std::string&>());
            break;
        case Json::value_t::boolean:
            out.add_boolean(p.parent, p.key, v.get<bool>());
            break;
        case Json::value_t::number_integer:
            out.add_integer(p.parent, p.key, v.get<std::int64_t>());
            break;
        case Json::value_t::number_unsigned:
            out.add_unsigned(p.parent, p.key, v.get<std::uint64_t>());
            break;
        case Json::value_t::number_float:
            out.add(p.parent, p.key, Kind::floating);
            break;
        default: // null, binary, discarded
            out.add(p.parent, p.key, Kind::null);
            break;
        }
    }
    return out;
}

FlatRecord::Id FlatRecord::member(Id object, std::string_view key) const
{
    if (object == k_none || m_nodes[object].kind != Kind::object) {
        return k_none;
    }
    Id found = k_none;
    for (Id c = m_nodes[object].first; c != k_none; c = m_nodes[c].next) {
        const Node& n = m_nodes[c];
        if (n.key_size == key.size()
            && std::memcmp(m_text.data() + n.key_at, key.data(), key.size()) == 0) {
            found = c; // the last of equal names, as a DOM keeps it
        }
    }
    return found;
}

std::string_view FlatRecord::string(Id id) const
{
    if (id == k_none || m_nodes[id].kind != Kind::string) {
        return {};
    }
    const Node& n = m_nodes[id];
    return std::string_view(m_text).substr(n.text_at, n.text_size);
}

std::string FlatRecord::text(Id id) const
{
    if (id == k_none) {
        return {};
    }
    const Node& n = m_nodes[id];
    switch (n.kind) {
    case Kind::string:
        return std::string(string(id));
    case Kind::integer:
        return std::to_string(static_cast<std::int64_t>(n.number));
    case Kind::unsigned_integer:
        return std::to_string(n.number);
    case Kind::boolean:
        return n.flag ? "true" : "false";
    default:
        return {};
    }
}

std::vector<std::string_view> FlatRecord::keys(Id object) const
{
    std::vector<std::string_view> out;
    if (object == k_none || m_nodes[object].kind != Kind::object) {
        return out;
    }
    for (Id c = m_nodes[object].first; c != k_none; c = m_nodes[c].next) {
        out.push_back(std::string_view(m_text).substr(m_nodes[c].key_at, m_nodes[c].key_size));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

const char* FlatRecord::type_name(Id id) const
{
    switch (m_nodes[id].kind) {
    case Kind::null:
        return "null";
    case Kind::boolean:
        return "boolean";
    case Kind::integer:
    case Kind::unsigned_integer:
    case Kind::floating:
        return "number";
    case Kind::string:
        return "string";
    case Kind::object:
        return "object";
    case Kind::array:
        return "array";
    }
    return "null";
}

} // namespace execmark::audit
