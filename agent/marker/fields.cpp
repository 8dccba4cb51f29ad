// SPDX-License-Identifier: MIT
#include <agent/marker/marker.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <utility>
#include <variant>

namespace execmark::marker {

namespace {

using Json = nlohmann::json;
using Value = std::variant<std::string, std::int64_t, std::uint64_t>;

constexpr std::array<std::string_view, 8> k_core_keys = {
    "v", "ev", "ts", "kid", "tseq", "sid", "seq", "prev"};
constexpr std::size_t k_key_id_chars = 17;     // "k" + 16 hex
constexpr std::size_t k_chain_hash_chars = 32; // 16 bytes as hex

constexpr std::array<KeySpec, 4> k_boot_keys = {{
    {"pub", false},
    {"ver", false},
    {"pid", true},
    {"host", false},
}};
constexpr std::array<KeySpec, 7> k_meta_keys = {{
    {"task", false},
    {"cluster", false},
    {"ctr", false},
    {"cid", false},
    {"az", false},
    {"lt", false},
    {"src", false},
}};
constexpr std::array<KeySpec, 2> k_shutdown_keys = {{
    {"rc", true},
    {"up", true},
}};
constexpr std::array<KeySpec, 4> k_exec_seen_keys = {{
    {"wsid", false},
    {"wpid", true},
    {"wchk", false},
    {"wst", true},
}};
constexpr std::array<KeySpec, 6> k_exec_gone_keys = {{
    {"wsid", false},
    {"wpid", true},
    {"dur", true},
    {"wchk", false},
    {"wst", true},
    {"clast", true},
}};
constexpr std::array<KeySpec, 11> k_rec_keys = {{
    {"ssid", false},
    {"kind", false},
    {"idx", true},
    {"off", true},
    {"hash", false},
    {"rpid", true},
    {"fin", false},
    {"rc", true},
    {"opid", true},
    {"ocomm", false},
    {"side", false},
}};
constexpr std::array<KeySpec, 18> k_close_keys = {{
    {"task", false},
    {"cluster", false},
    {"ctr", false},
    {"user", false},
    {"owner", false},
    {"osrc", false},
    {"reason", false},
    {"shell", false},
    {"tty", false},
    {"cpid", true},
    {"mode", false},
    {"cfix", false},
    {"wchk", false},
    {"wsid", false},
    {"wst", true},
    {"sst", true},
    {"fin", false},
    {"rc", true},
}};
// open is close without its last two keys (fin, rc).
constexpr std::size_t k_open_key_count = k_close_keys.size() - 2;

// SAX consumer that accepts exactly one flat object whose values are strings or integers and
// whose keys are unique, keeping wire order. Anything else stops the parse with a reason.
class FlatObjectReader final : public nlohmann::json_sax<Json> {
public:
    std::vector<std::pair<std::string, Value>> members;
    std::string error;

    bool null() override { return fail("null value"); }

    bool boolean(bool /*val*/) override { return fail("boolean value"); }

    bool number_integer(number_integer_t val) override { return value(Value{val}); }

    bool number_unsigned(number_unsigned_t val) override { return value(Value{val}); }

    bool number_float(number_float_t /*val*/, const string_t& /*s*/) override
    {
        return fail("non-integer number");
    }

    bool string(string_t& val) override { return value(Value{std::move(val)}); }

    bool binary(binary_t& /*val*/) override { return fail("binary value"); }

    bool start_object(std::size_t /*elements*/) override
    {
        if (m_started) {
            return fail("nested object");
        }
        m_started = true;
        return true;
    }

    bool key(string_t& val) override
    {
        if (!m_seen.insert(val).second) {
            return fail("duplicate key \"" + val + "\"");
        }
        members.emplace_back(std::move(val), Value{});
        return true;
    }

    bool end_object() override { return true; }

    bool start_array(std::size_t /*elements*/) override { return fail("array value"); }

    bool end_array() override { return fail("array value"); }

    bool parse_error(std::size_t position,
                     const std::string& /*last_token*/,
                     const nlohmann::detail::exception& /*ex*/) override
    {
        return fail("invalid JSON at byte " + std::to_string(position));
    }

private:
    bool fail(std::string reason)
    {
        if (error.empty()) {
            error = std::move(reason);
        }
        return false;
    }

    bool value(Value&& val)
    {
        if (!m_started) {
            return fail("not a JSON object");
        }
        members.back().second = std::move(val);
        return true;
    }

    bool m_started = false;
    std::set<std::string> m_seen;
};

bool is_lower_hex(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

std::optional<Fields> fail(std::string* error, std::string reason)
{
    if (error != nullptr) {
        *error = std::move(reason);
    }
    return std::nullopt;
}

// Non-negative integer value of a core key.
std::optional<std::uint64_t> as_count(const Value& value)
{
    if (const auto* u = std::get_if<std::uint64_t>(&value)) {
        return *u;
    }
    return std::nullopt;
}

const std::string* as_string(const Value& value)
{
    return std::get_if<std::string>(&value);
}

bool fill_core(Fields& fields,
               const std::vector<std::pair<std::string, Value>>& members,
               std::string* error)
{
    const auto wrong = [&](std::string_view key, std::string_view want) {
        fail(error, "check field " + std::string(key) + ": " + std::string(want));
        return false;
    };
    const auto v = as_count(members[0].second);
    if (!v) {
        return wrong("v", "not an integer >= 0");
    }
    if (*v != static_cast<std::uint64_t>(k_version)) {
        return wrong("v", "unsupported version " + std::to_string(*v));
    }
    fields.v = k_version;

    const std::string* ev = as_string(members[1].second);
    if (ev == nullptr || ev->empty()) {
        return wrong("ev", "not a non-empty string");
    }
    fields.ev = *ev;

    const std::string* ts = as_string(members[2].second);
    if (ts == nullptr || !parse_timestamp(*ts)) {
        return wrong("ts", "not an RFC 3339 UTC time with milliseconds");
    }
    fields.ts = *ts;

    const std::string* kid = as_string(members[3].second);
    if (kid == nullptr
        || (*kid != k_none
            && (kid->size() != k_key_id_chars || kid->front() != 'k'
                || !is_lower_hex(std::string_view(*kid).substr(1))))) {
        return wrong("kid", "not \"-\" or a key id");
    }
    fields.kid = *kid;

    const auto tseq = as_count(members[4].second);
    if (!tseq) {
        return wrong("tseq", "not an integer >= 0");
    }
    fields.tseq = *tseq;

    const std::string* sid = as_string(members[5].second);
    if (sid == nullptr || sid->empty()) {
        return wrong("sid", "not a non-empty string");
    }
    fields.sid = *sid;

    const auto seq = as_count(members[6].second);
    if (!seq || *seq == 0) {
        return wrong("seq", "not an integer >= 1");
    }
    fields.seq = *seq;

    const std::string* prev = as_string(members[7].second);
    if (prev == nullptr) {
        return wrong("prev", "not a string");
    }
    if (fields.seq == 1 ? *prev != k_none
                        : (prev->size() != k_chain_hash_chars || !is_lower_hex(*prev))) {
        return wrong("prev", fields.seq == 1 ? "not \"-\" on seq 1" : "not a chain hash");
    }
    fields.prev = *prev;
    return true;
}

} // namespace

std::optional<Fields> parse_fields(std::string_view payload, std::string* error)
{
    if (payload.size() > k_max_payload_bytes) {
        return fail(error,
                    "parse payload: " + std::to_string(payload.size()) + " bytes, more than "
                        + std::to_string(k_max_payload_bytes));
    }
    if (!std::all_of(
            payload.begin(), payload.end(), [](char c) { return c >= 0x20 && c <= 0x7E; })) {
        return fail(error, "parse payload: bytes outside printable ASCII");
    }
    FlatObjectReader reader;
    bool parsed = false;
    try {
        parsed = Json::sax_parse(payload.begin(), payload.end(), &reader);
    } catch (const std::exception& e) {
        // sax_parse reports through parse_error; this is only a safety net at the edge.
        return fail(error, std::string("parse payload: ") + e.what());
    }
    if (!parsed || !reader.error.empty()) {
        return fail(error,
                    "parse payload: " + (reader.error.empty() ? "invalid JSON" : reader.error));
    }

    std::vector<std::pair<std::string, Value>>& members = reader.members;
    for (std::size_t i = 0; i < k_core_keys.size(); ++i) {
        if (i >= members.size() || members[i].first != k_core_keys[i]) {
            const bool present =
                std::any_of(members.begin(), members.end(), [&](const auto& member) {
                    return member.first == k_core_keys[i];
                });
            return fail(error,
                        "parse payload: core key \"" + std::string(k_core_keys[i])
                            + (present ? "\" out of order" : "\" missing"));
        }
    }

    Fields fields;
    std::string reason;
    if (!fill_core(fields, members, &reason)) {
        return fail(error, "parse payload: " + reason);
    }
    for (std::size_t i = k_core_keys.size(); i < members.size(); ++i) {
        auto& [key, value] = members[i];
        if (auto* text = std::get_if<std::string>(&value)) {
            fields.str.emplace(key, std::move(*text));
        } else if (const auto* number = std::get_if<std::int64_t>(&value)) {
            fields.num.emplace(key, *number);
        } else {
            const std::uint64_t count = std::get<std::uint64_t>(value);
            if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return fail(error, "parse payload: field " + key + " out of range");
            }
            fields.num.emplace(key, static_cast<std::int64_t>(count));
        }
    }
    fields.keys.reserve(members.size());
    for (auto& member : members) {
        fields.keys.push_back(std::move(member.first));
    }
    return fields;
}

std::span<const KeySpec> event_keys(std::string_view ev)
{
    if (ev == k_ev_boot) {
        return k_boot_keys;
    }
    if (ev == k_ev_meta) {
        return k_meta_keys;
    }
    if (ev == k_ev_shutdown) {
        return k_shutdown_keys;
    }
    if (ev == k_ev_exec_seen) {
        return k_exec_seen_keys;
    }
    if (ev == k_ev_exec_gone) {
        return k_exec_gone_keys;
    }
    if (ev == k_ev_open) {
        return std::span<const KeySpec>(k_close_keys).first(k_open_key_count);
    }
    if (ev == k_ev_close) {
        return k_close_keys;
    }
    if (ev == k_ev_rec) {
        return k_rec_keys;
    }
    return {};
}

bool check_event_fields(const Fields& fields, std::string* error)
{
    const std::span<const KeySpec> specs = event_keys(fields.ev);
    if (specs.empty()) {
        return true;
    }
    const auto wrong = [&](std::string reason) {
        if (error != nullptr) {
            *error = "check " + fields.ev + " fields: " + std::move(reason);
        }
        return false;
    };
    const std::size_t extra = fields.keys.size() - std::min(fields.keys.size(), k_core_keys.size());
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const std::string_view name = specs[i].name;
        if (i >= extra || fields.keys[k_core_keys.size() + i] != name) {
            return wrong("expected key \"" + std::string(name) + "\" at position "
                         + std::to_string(k_core_keys.size() + i + 1));
        }
        const bool is_int = fields.num.contains(std::string(name));
        if (is_int != specs[i].is_int) {
            return wrong("key \"" + std::string(name) + "\" is not "
                         + (specs[i].is_int ? "an integer" : "a string"));
        }
    }
    if (extra > specs.size()) {
        return wrong("unexpected key \"" + fields.keys[k_core_keys.size() + specs.size()] + "\"");
    }
    return true;
}

} // namespace execmark::marker
