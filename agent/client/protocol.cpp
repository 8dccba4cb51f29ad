// SPDX-License-Identifier: MIT
#include <agent/client/protocol.hpp>
#include <agent/marker/marker.hpp>
#include <agent/util/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace execmark::client {

namespace {

using nlohmann::json;

const char* op_name(Op op)
{
    switch (op) {
    case Op::ping:
        return "ping";
    case Op::open:
        return "open";
    case Op::close:
        return "close";
    case Op::metadata:
        return "metadata";
    case Op::rec:
        return "rec";
    }
    return "ping";
}

// Reads an optional string member; a present member of another type is an error.
bool read_string(const json& obj, const char* key, std::string& out, std::string& error)
{
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
        return true;
    }
    if (!it->is_string()) {
        error = std::string("field '") + key + "' must be a string";
        return false;
    }
    out = it->get<std::string>();
    return true;
}

// Dumps with invalid UTF-8 replaced rather than thrown on (claims may be raw bytes).
std::string dump_line(const json& j)
{
    return j.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
}

bool is_lower_hex(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

util::Status read_count(const json& j, const char* key, std::uint64_t& out)
{
    const auto it = j.find(key);
    if (it == j.end()) {
        return {};
    }
    if (!it->is_number_unsigned() || it->get<std::uint64_t>() > k_max_rec_count) {
        return util::make_error(
            "parse", "request", std::string("field '") + key + "' must be a count");
    }
    out = it->get<std::uint64_t>();
    return {};
}

// The fields of op "rec", each checked: a recorder is trusted for nothing it could lie about
// in size or shape.
util::Status parse_record_report(const json& j, RecordReport& rec)
{
    std::string error;
    if (!read_string(j, "kind", rec.kind, error) || !read_string(j, "hash", rec.hash, error)
        || !read_string(j, "ocomm", rec.ocomm, error) || !read_string(j, "side", rec.side, error)) {
        return util::make_error("parse", "request", error);
    }
    if (rec.kind != "start" && rec.kind != "interference" && rec.kind != "typed"
        && !is_checkpoint_kind(rec.kind)) {
        return util::make_error("parse", "request", "unknown record kind");
    }
    // A checkpoint carries exactly one chain hash, typed the digest of an echo; start and
    // interference carry none.
    if (is_checkpoint_kind(rec.kind) || rec.kind == "typed"
            ? (rec.hash.size() != k_max_rec_hash_chars || !is_lower_hex(rec.hash))
            : !rec.hash.empty()) {
        return util::make_error(
            "parse", "request", "field 'hash' must be 64 lowercase hex digits (empty for start)");
    }
    if (rec.kind == "interference" ? (rec.side != "inner" && rec.side != "outer")
                                   : !rec.side.empty()) {
        return util::make_error("parse", "request", "field 'side' must be inner or outer");
    }
    if (rec.ocomm.size() > k_max_rec_comm_bytes) {
        return util::make_error("parse", "request", "field 'ocomm' too long");
    }
    if (auto st = read_count(j, "idx", rec.idx); !st) {
        return st;
    }
    if (auto st = read_count(j, "off", rec.off); !st) {
        return st;
    }
    if (rec.kind == "typed" && (rec.idx != 0 || rec.off == 0 || rec.off > k_max_rec_typed_bytes)) {
        return util::make_error(
            "parse", "request", "typed: idx 0 and 1 to 4096 input bytes in 'off'");
    }
    if (const auto it = j.find("opid"); it != j.end()) {
        if (!it->is_number_integer() || it->get<std::int64_t>() < 0
            || it->get<std::int64_t>() > 0x7fffffff) {
            return util::make_error("parse", "request", "field 'opid' must be a pid");
        }
        rec.opid = it->get<std::int64_t>();
    }
    return {};
}

} // namespace

bool is_checkpoint_kind(std::string_view kind)
{
    return kind == "enter" || kind == "idle" || kind == "flow" || kind == "end";
}

std::string format_request(const Request& r)
{
    json j = {{"op", op_name(r.op)}, {"mode", r.mode}};
    // The end report carries the claims too: PID 1 signs the session's close from it.
    if (r.op == Op::open || r.op == Op::close || (r.op == Op::rec && r.rec.kind == "end")) {
        j["user"] = r.claims.user;
        j["reason"] = r.claims.reason;
        j["shell"] = r.claims.shell;
        j["tty"] = r.claims.tty;
    }
    if (r.op == Op::close || (r.op == Op::rec && r.rec.kind == "end")) {
        j["fin"] = r.fin;
        j["rc"] = r.rc;
    }
    if (r.op == Op::rec) {
        j["kind"] = r.rec.kind;
        j["idx"] = r.rec.idx;
        j["off"] = r.rec.off;
        j["hash"] = r.rec.hash;
        if (r.rec.kind == "interference") {
            j["opid"] = r.rec.opid;
            j["ocomm"] = r.rec.ocomm;
            j["side"] = r.rec.side;
        }
    }
    if (!r.client_fixed.empty()) {
        j["cfix"] = r.client_fixed;
    }
    return dump_line(j);
}

util::Result<Request> parse_request(std::string_view line)
{
    if (line.size() > k_max_request_bytes) {
        return util::make_error("parse", "request", "too long");
    }
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return util::make_error("parse", "request", "not a JSON object");
    }
    Request r;
    std::string op;
    std::string error;
    if (!read_string(j, "op", op, error) || !read_string(j, "mode", r.mode, error)
        || !read_string(j, "user", r.claims.user, error)
        || !read_string(j, "reason", r.claims.reason, error)
        || !read_string(j, "shell", r.claims.shell, error)
        || !read_string(j, "tty", r.claims.tty, error) || !read_string(j, "fin", r.fin, error)) {
        return util::make_error("parse", "request", error);
    }
    if (op == "ping") {
        r.op = Op::ping;
    } else if (op == "open") {
        r.op = Op::open;
    } else if (op == "close") {
        r.op = Op::close;
    } else if (op == "metadata") {
        r.op = Op::metadata;
    } else if (op == "rec") {
        r.op = Op::rec;
        if (auto st = parse_record_report(j, r.rec); !st) {
            return st.error();
        }
    } else {
        return util::make_error("parse", "request", "unknown op");
    }
    if (r.mode != "hook" && r.mode != "wrapper") {
        return util::make_error("parse", "request", "mode must be hook or wrapper");
    }
    if (r.fin != "exit" && r.fin != "signal" && r.fin != "hangup") {
        return util::make_error("parse", "request", "fin must be exit, signal or hangup");
    }
    if (const auto it = j.find("cfix"); it != j.end()) {
        if (!it->is_array() || it->size() > 4) {
            return util::make_error("parse", "request", "field 'cfix' must be a short list");
        }
        for (const auto& name : *it) {
            if (!name.is_string()) {
                return util::make_error("parse", "request", "field 'cfix' must list names");
            }
            const auto& n = name.get_ref<const std::string&>();
            if (n != "user" && n != "reason" && n != "shell" && n != "tty") {
                return util::make_error("parse", "request", "field 'cfix' names an unknown claim");
            }
            r.client_fixed.push_back(n);
        }
    }
    if (const auto it = j.find("rc"); it != j.end()) {
        if (!it->is_number_integer()) {
            return util::make_error("parse", "request", "field 'rc' must be an integer");
        }
        const auto rc = it->get<std::int64_t>();
        if (rc < -1 || rc > 255 + 128) {
            return util::make_error("parse", "request", "field 'rc' out of range");
        }
        r.rc = rc;
    }
    return r;
}

std::string format_marker_response(const MarkerResponse& r)
{
    const json j = {{"ok", true},
                    {"marker", r.marker},
                    {"sid", r.sid},
                    {"ts", r.ts},
                    {"kid", r.kid},
                    {"user", r.user},
                    {"task", r.task},
                    {"cluster", r.cluster},
                    {"ctr", r.ctr},
                    {"owner", r.owner},
                    {"ssm", r.under_ssm}};
    return dump_line(j);
}

namespace {

constexpr std::array<std::pair<Refusal, std::string_view>, 5> k_refusal_names{{
    {Refusal::bad_request, "bad-request"},
    {Refusal::too_long, "too-long"},
    {Refusal::no_key, "no-key"},
    {Refusal::not_allowed, "not-allowed"},
    {Refusal::refused_other, "refused"},
}};

} // namespace

std::string format_refusal(Refusal code, std::string_view detail)
{
    std::string_view name = "refused";
    for (const auto& [c, n] : k_refusal_names) {
        if (c == code) {
            name = n;
        }
    }
    return dump_line(
        json{{"ok", false}, {"code", std::string(name)}, {"error", std::string(detail)}});
}

bool is_ok_response(std::string_view line)
{
    if (line.size() > k_max_response_bytes) {
        return false;
    }
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return false;
    }
    const auto ok = j.find("ok");
    return ok != j.end() && ok->is_boolean() && ok->get<bool>();
}

std::optional<Refused> parse_refusal(std::string_view line)
{
    if (line.size() > k_max_response_bytes) {
        return std::nullopt;
    }
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean() || ok->get<bool>()) {
        return std::nullopt;
    }
    Refused r;
    std::string code;
    std::string ignored;
    read_string(j, "code", code, ignored);
    read_string(j, "error", r.detail, ignored);
    for (const auto& [c, n] : k_refusal_names) {
        if (n == code) {
            r.code = c;
        }
    }
    return r;
}

Request session_request(Op op, std::string mode, const marker::Claims& raw)
{
    Request req;
    req.op = op;
    req.mode = std::move(mode);
    const auto prepare = [&req](const char* name, const std::string& value) {
        auto s = marker::sanitize_claim(value, k_max_sent_claim_bytes);
        if (s.altered || s.truncated) {
            req.client_fixed.emplace_back(name);
        }
        return std::move(s.value);
    };
    req.claims.user = prepare("user", raw.user);
    req.claims.reason = prepare("reason", raw.reason);
    req.claims.shell = prepare("shell", raw.shell);
    req.claims.tty = prepare("tty", raw.tty);
    return req;
}

util::Result<MarkerResponse> parse_marker_response(std::string_view line)
{
    if (line.size() > k_max_response_bytes) {
        return util::make_error("parse", "agent response", "too long");
    }
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return util::make_error("parse", "agent response", "not a JSON object");
    }
    const auto ok = j.find("ok");
    if (ok == j.end() || !ok->is_boolean()) {
        return util::make_error("parse", "agent response", "no 'ok' field");
    }
    if (!ok->get<bool>()) {
        std::string error = "unknown error";
        std::string ignored;
        read_string(j, "error", error, ignored);
        return util::make_error("agent", "request", "refused: " + error);
    }
    MarkerResponse r;
    std::string error;
    if (!read_string(j, "marker", r.marker, error) || !read_string(j, "sid", r.sid, error)
        || !read_string(j, "ts", r.ts, error) || !read_string(j, "kid", r.kid, error)
        || !read_string(j, "user", r.user, error) || !read_string(j, "task", r.task, error)
        || !read_string(j, "cluster", r.cluster, error) || !read_string(j, "ctr", r.ctr, error)
        || !read_string(j, "owner", r.owner, error)) {
        return util::make_error("parse", "agent response", error);
    }
    if (const auto s = j.find("ssm"); s != j.end() && s->is_boolean()) {
        r.under_ssm = s->get<bool>();
    }
    // The marker must be one well-formed signed marker line and nothing else.
    const auto extracted = marker::extract(r.marker);
    if (extracted.status != marker::ExtractStatus::ok || !extracted.is_signed
        || r.marker.find('\n') != std::string::npos || r.marker.find('\r') != std::string::npos
        || !r.marker.starts_with(marker::k_magic)) {
        return util::make_error("parse", "agent response", "no valid marker line");
    }
    return r;
}

} // namespace execmark::client
