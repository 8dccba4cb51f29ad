// SPDX-License-Identifier: MIT
#pragma once

// IAM Identity Center users, from `aws identitystore list-users --identity-store-id d-…`
// output ({"Users":[{"UserId","UserName","DisplayName","Emails":[{"Value"}],
// "IdentityStoreId"},…],"NextToken"?}), so that a principal — an AWSReservedSSO role session
// or an IdentityCenterUser's onBehalfOf.userId — can be named as the person
// (docs/auditing.md, "Identity Center").

#include <agent/audit/input.hpp>
#include <agent/audit/pages.hpp>
#include <agent/util/result.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace execmark::audit {

struct Principal; // cloudtrail.hpp

struct DirectoryUser {
    std::string user_id, user_name, display_name, store_id;
    std::vector<std::string> emails;
};

// Which user a principal is, and how that was found.
struct DirectoryMatch {
    const DirectoryUser* user = nullptr;
    std::string how; // "user id", "session name = user name", "session name = e-mail"
};

// The role name prefix IAM Identity Center gives the roles of its permission sets, and the
// path of those roles: only their session names are set by Identity Center (to the user name),
// so only they are mapped. Any other role's session name is chosen by whoever assumes it.
inline constexpr std::string_view k_sso_role_prefix = "AWSReservedSSO_";
inline constexpr std::string_view k_sso_role_path = ":role/aws-reserved/sso.amazonaws.com/";

class IdentityDirectory {
public:
    // Adds the users of one list-users output (pages are recorded in pages when given).
    // Errors: I/O, invalid JSON, a document without a Users array, a user without UserId.
    util::Status read(Input& in, PageSet* pages = nullptr);

    void add(DirectoryUser user);

    [[nodiscard]] bool empty() const { return m_users.empty(); }

    [[nodiscard]] std::size_t size() const { return m_users.size(); }

    // The user of principal: IdentityCenterUser by onBehalfOf.userId (and the identity store
    // of identityStoreArn, when both name one); an assumed AWSReservedSSO_ role (whose issuer,
    // when given, lies under aws-reserved/sso.amazonaws.com) by its session name, equal to a
    // user name or one e-mail of exactly one user (ASCII case ignored).
    [[nodiscard]] std::optional<DirectoryMatch> find(const Principal& principal) const;

private:
    [[nodiscard]] const DirectoryUser* by_id(std::string_view id, std::string_view store) const;

    // Lower-cased user name or e-mail -> the users with it (user index, "user name"/"e-mail").
    struct Named {
        std::size_t user;
        bool email;
    };

    std::vector<DirectoryUser> m_users;
    std::map<std::string, std::size_t, std::less<>> m_by_id;
    std::map<std::string, std::vector<Named>, std::less<>> m_by_name;
};

} // namespace execmark::audit
