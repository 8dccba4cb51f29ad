// SPDX-License-Identifier: MIT
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/identity_center.hpp>
#include <agent/audit/json_input.hpp>
#include <agent/util/error.hpp>

#include <algorithm>

namespace execmark::audit {

namespace {

// ASCII lower case (the names are compared ignoring ASCII case only, as claims are).
std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::string string_at(const Json& object, std::string_view key)
{
    const std::string* s = json_string_member(object, key);
    return s == nullptr ? std::string{} : *s;
}

// "arn:aws:identitystore::123456789012:identitystore/d-1234567890" -> "d-1234567890"
std::string_view store_of(std::string_view arn)
{
    const std::size_t slash = arn.rfind('/');
    return slash == std::string_view::npos ? arn : arn.substr(slash + 1);
}

// The role session name of an assumed AWSReservedSSO_ role, or "" when the principal is not
// one (docs/auditing.md, "Identity Center").
std::string sso_session_name(const Principal& p)
{
    constexpr std::string_view k_assumed = ":assumed-role/";
    const std::size_t at = p.arn.find(k_assumed);
    if (at == std::string::npos) {
        return {};
    }
    const std::string_view rest = std::string_view(p.arn).substr(at + k_assumed.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || !rest.starts_with(k_sso_role_prefix)) {
        return {};
    }
    if (!p.issuer_arn.empty() && p.issuer_arn.find(k_sso_role_path) == std::string::npos) {
        return {};
    }
    return std::string(rest.substr(slash + 1));
}

} // namespace

void IdentityDirectory::add(DirectoryUser user)
{
    const std::size_t index = m_users.size();
    m_by_id[user.user_id] = index;
    const auto name = [&](const std::string& text, bool email) {
        if (text.empty()) {
            return;
        }
        auto& list = m_by_name[lower(text)];
        const bool known =
            std::any_of(list.begin(), list.end(), [&](const Named& n) { return n.user == index; });
        if (!known) {
            list.push_back({index, email});
        }
    };
    name(user.user_name, false);
    for (const auto& e : user.emails) {
        name(e, true);
    }
    m_users.push_back(std::move(user));
}

util::Status IdentityDirectory::read(Input& in, PageSet* pages)
{
    std::string bad;
    bool saw_users = false;
    std::size_t documents = 0;
    RecordStreamer streamer({"Users"}, false, [&](Json& user) {
        DirectoryUser u;
        u.user_id = string_at(user, "UserId");
        u.user_name = string_at(user, "UserName");
        u.display_name = string_at(user, "DisplayName");
        u.store_id = string_at(user, "IdentityStoreId");
        if (const Json* emails = json_member(user, "Emails");
            emails != nullptr && emails->is_array()) {
            for (const Json& e : *emails) {
                if (std::string v = string_at(e, "Value"); !v.empty()) {
                    u.emails.push_back(std::move(v));
                }
            }
        }
        if (u.user_id.empty()) {
            bad = "a user without UserId";
            return;
        }
        add(std::move(u));
    });
    streamer.on_document([&](const RecordStreamer::Document& doc) {
        ++documents;
        if (doc.stream_key != "Users") {
            bad = "not `aws identitystore list-users` output (no Users array)";
            return;
        }
        saw_users = true;
        if (pages != nullptr) {
            Page page;
            page.input =
                in.name() + (documents > 1 ? " (document " + std::to_string(documents) + ")" : "");
            page.role = "Identity Center";
            page.shape = "list-users";
            const auto token = doc.strings.find("NextToken");
            page.has_token = token != doc.strings.end() && !token->second.empty();
            pages->add(std::move(page));
        }
    });
    if (auto st = parse_json_stream(in, streamer); !st) {
        return st;
    }
    if (!bad.empty()) {
        return util::make_error("read", in.name(), bad);
    }
    if (!saw_users) {
        return util::make_error("read", in.name(), "empty: no list-users output");
    }
    return {};
}

const DirectoryUser* IdentityDirectory::by_id(std::string_view id, std::string_view store) const
{
    const auto it = m_by_id.find(id);
    if (it == m_by_id.end()) {
        return nullptr;
    }
    const DirectoryUser& u = m_users[it->second];
    if (!store.empty() && !u.store_id.empty() && store != u.store_id) {
        return nullptr; // the same id in another identity store is another person
    }
    return &u;
}

std::optional<DirectoryMatch> IdentityDirectory::find(const Principal& principal) const
{
    if (principal.type == "IdentityCenterUser" && !principal.on_behalf_of.empty()) {
        if (const DirectoryUser* u =
                by_id(principal.on_behalf_of, store_of(principal.identity_store_arn))) {
            return DirectoryMatch{u, "user id"};
        }
        return std::nullopt;
    }
    const std::string session = sso_session_name(principal);
    if (session.empty()) {
        return std::nullopt;
    }
    const auto it = m_by_name.find(lower(session));
    if (it == m_by_name.end() || it->second.size() != 1) {
        return std::nullopt; // no user, or two users fit: the name names neither for sure
    }
    const Named& n = it->second.front();
    return DirectoryMatch{&m_users[n.user],
                          n.email ? "session name = e-mail" : "session name = user name"};
}

} // namespace execmark::audit
