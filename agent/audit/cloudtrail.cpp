// SPDX-License-Identifier: MIT
#include <agent/audit/assessment.hpp>
#include <agent/audit/cloudtrail.hpp>
#include <agent/audit/flat_record.hpp>
#include <agent/audit/identity_center.hpp>
#include <agent/util/error.hpp>

#include <algorithm>
#include <array>

namespace execmark::audit {

namespace {

constexpr std::string_view k_ecs_source = "ecs.amazonaws.com";
constexpr std::string_view k_assumed_role = ":assumed-role/";
constexpr std::string_view k_iam_user = ":user/";
constexpr std::string_view k_federated_user = ":federated-user/";

using Id = FlatRecord::Id;
using Kind = FlatRecord::Kind;
constexpr Id k_none = FlatRecord::k_none;

// A value of a record: the record and the node (k_none: absent).
struct At {
    const FlatRecord* record = nullptr;
    Id id = k_none;

    [[nodiscard]] bool exists() const { return id != k_none; }

    [[nodiscard]] bool is(Kind k) const { return record->is(id, k); }

    [[nodiscard]] At member(std::string_view key) const
    {
        return {record, record->member(id, key)};
    }

    [[nodiscard]] At path(std::initializer_list<std::string_view> keys) const
    {
        At at = *this;
        for (const auto key : keys) {
            at = at.member(key);
            if (!at.exists()) {
                break;
            }
        }
        return at;
    }

    // A string's text, an integer's or a boolean's JSON text, else "".
    [[nodiscard]] std::string text() const { return record->text(id); }

    [[nodiscard]] std::string text_at(std::initializer_list<std::string_view> keys) const
    {
        return path(keys).text();
    }

    // The elements of an array (or members of an object), in order.
    template <typename Each>
    void each(Each&& each) const
    {
        for (Id c = record->first(id); c != k_none; c = record->next(c)) {
            each(At{record, c});
        }
    }
};

Principal principal_of(const At& record)
{
    Principal p;
    const At id = record.member("userIdentity");
    if (!id.exists()) {
        return p;
    }
    p.type = id.text_at({"type"});
    p.arn = id.text_at({"arn"});
    p.principal_id = id.text_at({"principalId"});
    p.account = id.text_at({"accountId"});
    p.user_name = id.text_at({"userName"});
    p.issuer_type = id.text_at({"sessionContext", "sessionIssuer", "type"});
    p.issuer_arn = id.text_at({"sessionContext", "sessionIssuer", "arn"});
    p.issuer_name = id.text_at({"sessionContext", "sessionIssuer", "userName"});
    p.source_identity = id.text_at({"sessionContext", "sourceIdentity"});
    if (p.source_identity.empty()) {
        p.source_identity = id.text_at({"sourceIdentity"});
    }
    p.invoked_by = id.text_at({"invokedBy"});
    p.on_behalf_of = id.text_at({"onBehalfOf", "userId"});
    p.identity_store_arn = id.text_at({"onBehalfOf", "identityStoreArn"});
    p.credential_id = id.text_at({"credentialId"});
    p.identity_provider = id.text_at({"identityProvider"});
    return p;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lower = [](char c) {
                   return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
               };
               return lower(x) == lower(y);
           });
}

std::string after(std::string_view s, std::string_view marker)
{
    const std::size_t at = s.find(marker);
    return at == std::string_view::npos ? std::string{} : std::string(s.substr(at + marker.size()));
}

std::string last_component(std::string_view s)
{
    const std::size_t slash = s.rfind('/');
    return std::string(slash == std::string_view::npos ? s : s.substr(slash + 1));
}

// The CloudTrail record inside a candidate object, parsed into holder when it is a string.
At record_of(const At& object, FlatRecord& holder)
{
    if (const At inner = object.member("CloudTrailEvent"); inner.exists()) {
        if (!inner.is(Kind::string)) {
            return {};
        }
        const Json parsed = Json::parse(inner.record->string(inner.id), nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
            return {};
        }
        holder = FlatRecord::of(parsed);
        return {&holder, holder.root()};
    }
    if (const At detail = object.member("detail"); detail.is(Kind::object)) {
        if (detail.member("eventName").is(Kind::string)) {
            return detail;
        }
    }
    return object.member("eventName").is(Kind::string) ? object : At{};
}

// An EventBridge event that is not an API call via CloudTrail (an ECS state change, a
// scheduled event): a documented shape, counted as a record of another kind.
bool is_eventbridge_event(const At& object)
{
    return object.member("detail-type").exists() && object.member("source").exists()
           && object.member("detail").exists();
}

bool is_digest(const At& object)
{
    // CloudTrail log file integrity validation: digest file structure.
    return object.member("digestStartTime").exists()
           && (object.member("digestEndTime").exists() || object.member("logFiles").exists()
               || object.member("digestS3Object").exists());
}

NotARecord not_a_record(const At& value)
{
    if (value.is(Kind::object)) {
        std::string keys;
        std::size_t n = 0;
        for (const std::string_view k : value.record->keys(value.id)) {
            if (n++ == 4) {
                keys += ", ...";
                break;
            }
            keys += keys.empty() ? "" : ", ";
            keys += k;
        }
        return {keys.empty() ? "an empty object" : "an object with keys " + keys};
    }
    if (value.is(Kind::array)) {
        return {"an array"};
    }
    return {std::string("a ") + value.record->type_name(value.id)};
}

// The ECS task ARN's account and region ("arn:aws:ecs:REGION:ACCOUNT:task/..."), when it is one.
std::string arn_part(std::string_view arn, std::size_t index)
{
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) {
        start = arn.find(':', start);
        if (start == std::string_view::npos) {
            return {};
        }
        ++start;
    }
    const std::size_t end = arn.find(':', start);
    return end == std::string_view::npos ? std::string{}
                                         : std::string(arn.substr(start, end - start));
}

ExecEvent exec_event_of(const At& record)
{
    ExecEvent ev;
    ev.session_id = record.text_at({"responseElements", "session", "sessionId"});
    ev.event_id = record.text_at({"eventID"});
    ev.event_time = record.text_at({"eventTime"});
    ev.region = record.text_at({"awsRegion"});
    ev.account = record.text_at({"recipientAccountId"});
    ev.source_ip = record.text_at({"sourceIPAddress"});
    ev.user_agent = record.text_at({"userAgent"});
    ev.cluster = record.text_at({"requestParameters", "cluster"});
    ev.container = record.text_at({"responseElements", "containerName"});
    if (ev.container.empty()) {
        ev.container = record.text_at({"requestParameters", "container"});
    }
    ev.task = record.text_at({"requestParameters", "task"});
    ev.task_arn = record.text_at({"responseElements", "taskArn"});
    ev.command = record.text_at({"requestParameters", "command"});
    ev.principal = principal_of(record);
    if (ev.account.empty()) {
        ev.account = arn_account(!ev.task_arn.empty() ? ev.task_arn : ev.task);
    }
    return ev;
}

DeniedExec denied_of(const At& record, ExecEvent ev)
{
    DeniedExec d;
    d.event_id = std::move(ev.event_id);
    d.event_time = std::move(ev.event_time);
    d.region = std::move(ev.region);
    d.account = std::move(ev.account);
    d.source_ip = std::move(ev.source_ip);
    d.user_agent = std::move(ev.user_agent);
    d.cluster = std::move(ev.cluster);
    d.container = std::move(ev.container);
    d.task = !ev.task_arn.empty() ? std::move(ev.task_arn) : std::move(ev.task);
    d.command = std::move(ev.command);
    d.principal = std::move(ev.principal);
    d.error_code = record.text_at({"errorCode"});
    d.error_message = record.text_at({"errorMessage"});
    if (d.error_code.empty() && d.error_message.empty()) {
        d.error_message = "the response names no session";
    }
    return d;
}

RunTaskEvent run_task_of(const At& record, std::string_view claim_var)
{
    RunTaskEvent ev;
    ev.event_id = record.text_at({"eventID"});
    ev.event_time = record.text_at({"eventTime"});
    ev.principal = principal_of(record);
    if (const At tasks = record.path({"responseElements", "tasks"}); tasks.is(Kind::array)) {
        tasks.each([&](const At& t) {
            std::string arn = t.text_at({"taskArn"});
            if (!arn.empty()) {
                ev.task_arns.push_back(std::move(arn));
            }
        });
    }
    const At overrides = record.path({"requestParameters", "overrides", "containerOverrides"});
    if (overrides.is(Kind::array)) {
        overrides.each([&](const At& o) {
            const At env = o.member("environment");
            if (!env.is(Kind::array)) {
                return;
            }
            env.each([&](const At& e) {
                if (e.text_at({"name"}) == claim_var) {
                    ev.claim_overrides.emplace_back(o.text_at({"name"}), e.text_at({"value"}));
                }
            });
        });
    }
    return ev;
}

TrailRecord classify(const At& object, std::string_view claim_var)
{
    if (is_digest(object)) {
        return DigestFile{};
    }
    FlatRecord holder;
    const At found = record_of(object, holder);
    const At* record = found.exists() ? &found : nullptr;
    if (record == nullptr) {
        if (is_eventbridge_event(object)) {
            return {};
        }
        return not_a_record(object);
    }
    const std::string source = record->text_at({"eventSource"});
    if (!source.empty() && source != k_ecs_source) {
        return {};
    }
    const std::string name = record->text_at({"eventName"});
    if (name == "ExecuteCommand") {
        ExecEvent ev = exec_event_of(*record);
        if (ev.session_id.empty() || record->member("errorCode").exists()) {
            return denied_of(*record, std::move(ev));
        }
        return ev;
    }
    if (name == "RunTask") {
        RunTaskEvent ev = run_task_of(*record, claim_var);
        if (ev.task_arns.empty()) {
            return {};
        }
        return ev;
    }
    return {};
}

// ---- CloudTrail Lake -----------------------------------------------------------------------

// The members this reader looks up, spelled as CloudTrail spells them: the Lake's notation
// spells userIdentity's in lower case (principalid, sessioncontext, onbehalfof).
using namespace std::string_view_literals;
constexpr std::string_view k_record_keys[] = {"type"sv,
                                              "principalId"sv,
                                              "arn"sv,
                                              "accountId"sv,
                                              "accessKeyId"sv,
                                              "userName"sv,
                                              "sessionContext"sv,
                                              "sessionIssuer"sv,
                                              "attributes"sv,
                                              "creationDate"sv,
                                              "mfaAuthenticated"sv,
                                              "sourceIdentity"sv,
                                              "webIdFederationData"sv,
                                              "federatedProvider"sv,
                                              "invokedBy"sv,
                                              "identityProvider"sv,
                                              "credentialId"sv,
                                              "onBehalfOf"sv,
                                              "userId"sv,
                                              "identityStoreArn"sv,
                                              "cluster"sv,
                                              "task"sv,
                                              "container"sv,
                                              "command"sv,
                                              "containerName"sv,
                                              "taskArn"sv,
                                              "session"sv,
                                              "sessionId"sv,
                                              "overrides"sv,
                                              "containerOverrides"sv,
                                              "environment"sv,
                                              "name"sv,
                                              "value"sv,
                                              "tasks"sv};

std::string canonical_key(const std::string& key)
{
    for (const std::string_view k : k_record_keys) {
        if (iequals(k, key)) {
            return std::string(k);
        }
    }
    return key;
}

// The Lake's notation for structured columns: {key=value, key={...}, key=[a, b], key=null}.
// Values are text up to the next ", " or closing bracket at their level.
class LakeNotation {
public:
    explicit LakeNotation(std::string_view text)
        : m_s(text)
    {}

    std::optional<Json> parse()
    {
        auto v = value();
        skip_spaces();
        if (!v || m_at != m_s.size()) {
            return std::nullopt;
        }
        return v;
    }

private:
    static constexpr std::size_t k_max_depth = 32;

    void skip_spaces()
    {
        while (m_at < m_s.size() && m_s[m_at] == ' ') {
            ++m_at;
        }
    }

    bool eat(char c)
    {
        skip_spaces();
        if (m_at < m_s.size() && m_s[m_at] == c) {
            ++m_at;
            return true;
        }
        return false;
    }

    std::optional<Json> value()
    {
        skip_spaces();
        if (m_at < m_s.size() && (m_s[m_at] == '{' || m_s[m_at] == '[')) {
            if (++m_depth > k_max_depth) {
                return std::nullopt;
            }
            auto v = m_s[m_at] == '{' ? map() : list();
            --m_depth;
            return v;
        }
        return scalar();
    }

    std::optional<Json> map()
    {
        ++m_at; // '{'
        Json out = Json::object();
        if (eat('}')) {
            return out;
        }
        for (;;) {
            skip_spaces();
            const std::size_t eq = m_s.find('=', m_at);
            if (eq == std::string_view::npos) {
                return std::nullopt;
            }
            const std::string key(m_s.substr(m_at, eq - m_at));
            if (key.empty() || key.find_first_of(",{}[]") != std::string::npos) {
                return std::nullopt;
            }
            m_at = eq + 1;
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            out[canonical_key(key)] = std::move(*v);
            if (eat('}')) {
                return out;
            }
            if (!eat(',')) {
                return std::nullopt;
            }
        }
    }

    std::optional<Json> list()
    {
        ++m_at; // '['
        Json out = Json::array();
        if (eat(']')) {
            return out;
        }
        for (;;) {
            auto v = value();
            if (!v) {
                return std::nullopt;
            }
            out.push_back(std::move(*v));
            if (eat(']')) {
                return out;
            }
            if (!eat(',')) {
                return std::nullopt;
            }
        }
    }

    std::optional<Json> scalar()
    {
        const std::size_t start = m_at;
        while (m_at < m_s.size()) {
            const char c = m_s[m_at];
            if (c == '}' || c == ']'
                || (c == ',' && m_at + 1 < m_s.size() && m_s[m_at + 1] == ' ')) {
                break;
            }
            ++m_at;
        }
        const std::string_view text = m_s.substr(start, m_at - start);
        if (text == "null") {
            return Json(nullptr);
        }
        return Json(std::string(text));
    }

    std::string_view m_s;
    std::size_t m_at = 0;
    std::size_t m_depth = 0;
};

} // namespace

std::optional<Json> lake_row_record(const Json& row)
{
    if (!row.is_array()) {
        return std::nullopt;
    }
    Json record = Json::object();
    for (const Json& cell : row) {
        if (!cell.is_object() || cell.size() != 1) {
            return std::nullopt;
        }
        const auto& [key, value] = *cell.get_ref<const Json::object_t&>().begin();
        if (!value.is_string()) {
            record[key] = value;
            continue;
        }
        const std::string& text = value.get_ref<const std::string&>();
        if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
            Json parsed = Json::parse(text, nullptr, false);
            if (!parsed.is_discarded()) {
                record[key] = std::move(parsed);
                continue;
            }
            if (auto notation = LakeNotation(text).parse()) {
                record[key] = std::move(*notation);
                continue;
            }
        }
        record[key] = value;
    }
    return record;
}

TrailRecord classify_trail_record(const FlatRecord& object, std::string_view claim_var)
{
    try {
        return classify(At{&object, object.root()}, claim_var);
    } catch (const std::exception&) {
        // nlohmann errors (or memory) on a malformed record: the record is not one of ours.
        return NotARecord{"a malformed record"};
    }
}

TrailRecord classify_trail_record(const Json& object, std::string_view claim_var)
{
    if (object.is_array()) {
        return NotARecord{"an array"};
    }
    if (!object.is_object()) {
        return NotARecord{std::string("a ") + object.type_name()};
    }
    return classify_trail_record(FlatRecord::of(object), claim_var);
}

std::vector<NameMatch> principal_names(const Principal& principal,
                                       const IdentityDirectory* directory)
{
    std::vector<NameMatch> names;
    const auto add = [&](std::string name, std::string_view rule) {
        if (name.empty()) {
            return;
        }
        if (std::none_of(
                names.begin(), names.end(), [&](const NameMatch& m) { return m.name == name; })) {
            names.push_back({std::move(name), std::string(rule)});
        }
    };
    const std::string& arn = principal.arn;
    const std::string& type = principal.type;
    add(arn, "ARN");
    const bool untyped = type.empty();
    if (type == "AssumedRole" || untyped) {
        if (const std::string role_session = after(arn, k_assumed_role); !role_session.empty()) {
            if (role_session.find('/') != std::string::npos) {
                add(last_component(role_session), "role session name");
            }
            add(role_session, "role/session");
        }
        add(principal.source_identity, "source identity");
    }
    if (type == "IAMUser" || untyped) {
        if (const std::string user = after(arn, k_iam_user); !user.empty()) {
            add(last_component(user), "IAM user name");
        }
        add(principal.user_name, "IAM user name");
    }
    if (type == "FederatedUser" || untyped) {
        if (const std::string fed = after(arn, k_federated_user); !fed.empty()) {
            add(last_component(fed), "federated user name");
        }
    }
    if (type == "AssumedRole" || type == "FederatedUser" || untyped) {
        if (const std::size_t colon = principal.principal_id.find(':');
            colon != std::string::npos) {
            add(principal.principal_id.substr(colon + 1), "principalId session part");
        }
    }
    if (type == "IdentityCenterUser") {
        add(principal.on_behalf_of, "Identity Center user id");
    }
    if (directory != nullptr) {
        if (const auto found = directory->find(principal)) {
            const std::string via = " (" + found->how + ")";
            add(found->user->user_name, "Identity Center user name" + via);
            for (const auto& email : found->user->emails) {
                add(email, "Identity Center e-mail" + via);
            }
        }
    }
    return names;
}

std::optional<NameMatch>
match_claim(std::string_view claim, const Principal& principal, const IdentityDirectory* directory)
{
    if (claim.empty()) {
        return std::nullopt;
    }
    for (auto& n : principal_names(principal, directory)) {
        if (iequals(n.name, claim)) {
            return std::move(n);
        }
    }
    return std::nullopt;
}

std::string principal_display(const Principal& principal)
{
    const std::string& arn = principal.arn;
    const std::string& type = principal.type;
    if (const std::string rs = after(arn, k_assumed_role); !rs.empty()) {
        return "assumed-role/" + rs;
    }
    if (const std::string user = after(arn, k_iam_user); !user.empty()) {
        return "user/" + last_component(user);
    }
    if (const std::string fed = after(arn, k_federated_user); !fed.empty()) {
        return "federated-user/" + fed;
    }
    if (arn.size() >= 5 && arn.substr(arn.size() - 5) == ":root") {
        return "root";
    }
    if (type == "IdentityCenterUser" && !principal.on_behalf_of.empty()) {
        return "identity-center/" + principal.on_behalf_of;
    }
    if (type == "AWSService" && !principal.invoked_by.empty()) {
        return "service/" + principal.invoked_by;
    }
    if (type == "AWSAccount" && !principal.account.empty()) {
        return "account/" + principal.account;
    }
    if (type == "Unknown" && !principal.user_name.empty()) {
        return "unknown/" + principal.user_name;
    }
    if (!arn.empty()) {
        return arn;
    }
    if (!principal.principal_id.empty()) {
        return principal.principal_id;
    }
    if (!principal.invoked_by.empty()) {
        return "service/" + principal.invoked_by;
    }
    return type.empty() ? "-" : type;
}

std::string_view task_id_of(std::string_view task)
{
    const std::size_t slash = task.rfind('/');
    return slash == std::string_view::npos ? task : task.substr(slash + 1);
}

bool Scope::contains(std::string_view account,
                     std::string_view region,
                     std::string_view cluster,
                     std::string_view start) const
{
    const auto allowed = [](const std::vector<std::string>& list, std::string_view value) {
        return list.empty() || value.empty()
               || std::find(list.begin(), list.end(), value) != list.end();
    };
    if (!allowed(accounts, account) || !allowed(regions, region)) {
        return false;
    }
    if (!clusters.empty() && !cluster.empty()
        && std::none_of(clusters.begin(), clusters.end(), [&](const std::string& c) {
               return cluster_name(c) == cluster_name(cluster);
           })) {
        return false;
    }
    if (const auto t = parse_utc_time(start)) {
        if ((since_ms && *t < *since_ms) || (until_ms && *t >= *until_ms)) {
            return false;
        }
    }
    return true;
}

std::string arn_region(std::string_view arn)
{
    return arn.starts_with("arn:") ? arn_part(arn, 3) : std::string{};
}

std::string arn_account(std::string_view arn)
{
    return arn.starts_with("arn:") ? arn_part(arn, 4) : std::string{};
}

std::string_view cluster_name(std::string_view cluster)
{
    constexpr std::string_view k_marker = ":cluster/";
    const std::size_t at = cluster.find(k_marker);
    return at == std::string_view::npos ? cluster : cluster.substr(at + k_marker.size());
}

void TrailIndex::add(ExecEvent event)
{
    if (!event.event_id.empty() && !m_event_ids.emplace(event.event_id, true).second) {
        return;
    }
    if (m_execs.contains(event.session_id)) {
        ++m_conflicts;
        return;
    }
    const std::string key = event.session_id;
    m_execs.emplace(key, std::move(event));
}

void TrailIndex::add(RunTaskEvent event)
{
    if (!event.event_id.empty() && !m_event_ids.emplace(event.event_id, true).second) {
        return;
    }
    const std::size_t index = m_runs.size();
    for (const auto& arn : event.task_arns) {
        m_run_by_task[std::string(task_id_of(arn))] = index;
    }
    m_runs.push_back(std::move(event));
}

const ExecEvent* TrailIndex::find_exec(std::string_view session_id) const
{
    const auto it = m_execs.find(session_id);
    return it == m_execs.end() ? nullptr : &it->second;
}

const RunTaskEvent* TrailIndex::find_run_task(std::string_view task) const
{
    if (task.empty()) {
        return nullptr;
    }
    const auto it = m_run_by_task.find(task_id_of(task));
    return it == m_run_by_task.end() ? nullptr : &m_runs[it->second];
}

void TrailIndex::add(DeniedExec event)
{
    if (!event.event_id.empty() && !m_event_ids.emplace(event.event_id, true).second) {
        return;
    }
    if (!m_scope.contains(event.account, event.region, event.cluster, event.event_time)) {
        ++m_denied_out_of_scope;
        return;
    }
    const std::string who =
        !event.principal.arn.empty() ? event.principal.arn : principal_display(event.principal);
    std::string key;
    const std::string* parts[] = {&event.account,
                                  &event.region,
                                  &who,
                                  &event.error_code,
                                  &event.cluster,
                                  &event.task,
                                  &event.container};
    for (const std::string* part : parts) {
        key += *part;
        key += '\n';
    }
    const auto [it, fresh] = m_denied_by_key.emplace(key, m_denied.size());
    if (fresh) {
        m_denied.push_back({event, event.event_time, 0});
    }
    DeniedGroup& g = m_denied[it->second];
    ++g.count;
    if (event.event_time > g.last_time) {
        g.last_time = event.event_time;
    }
    if (event.event_time < g.call.event_time) {
        g.call = std::move(event);
    }
}

namespace {

// The members of a record that classify() reads (and the names it only tests for), kept when a
// trail file is streamed; the rest of a record is parsed, not built (its top-level names stay,
// for not_a_record). Keep in step with classify and the functions it calls.
constexpr auto k_issuer_members = std::to_array<RecordMember>(
    {RecordMember{"type"}, RecordMember{"arn"}, RecordMember{"userName"}});
constexpr auto k_session_context_members = std::to_array<RecordMember>(
    {RecordMember{"sessionIssuer", k_issuer_members}, RecordMember{"sourceIdentity"}});
constexpr auto k_on_behalf_of_members =
    std::to_array<RecordMember>({RecordMember{"userId"}, RecordMember{"identityStoreArn"}});
constexpr auto k_identity_members =
    std::to_array<RecordMember>({RecordMember{"type"},
                                 RecordMember{"arn"},
                                 RecordMember{"principalId"},
                                 RecordMember{"accountId"},
                                 RecordMember{"userName"},
                                 RecordMember{"sessionContext", k_session_context_members},
                                 RecordMember{"sourceIdentity"},
                                 RecordMember{"invokedBy"},
                                 RecordMember{"onBehalfOf", k_on_behalf_of_members},
                                 RecordMember{"credentialId"},
                                 RecordMember{"identityProvider"}});
constexpr auto k_overrides_members =
    std::to_array<RecordMember>({RecordMember{"containerOverrides"}});
constexpr auto k_request_members =
    std::to_array<RecordMember>({RecordMember{"cluster"},
                                 RecordMember{"container"},
                                 RecordMember{"task"},
                                 RecordMember{"command"},
                                 RecordMember{"overrides", k_overrides_members}});
constexpr auto k_session_members = std::to_array<RecordMember>({RecordMember{"sessionId"}});
constexpr auto k_task_members = std::to_array<RecordMember>({RecordMember{"taskArn"}});
constexpr auto k_response_members =
    std::to_array<RecordMember>({RecordMember{"session", k_session_members},
                                 RecordMember{"containerName"},
                                 RecordMember{"taskArn"},
                                 RecordMember{"tasks", k_task_members}});
constexpr auto k_record_members =
    std::to_array<RecordMember>({RecordMember{"CloudTrailEvent"},
                                 RecordMember{"detail", {}, true},
                                 RecordMember{"eventSource"},
                                 RecordMember{"eventName"},
                                 RecordMember{"eventID"},
                                 RecordMember{"eventTime"},
                                 RecordMember{"awsRegion"},
                                 RecordMember{"recipientAccountId"},
                                 RecordMember{"sourceIPAddress"},
                                 RecordMember{"userAgent"},
                                 RecordMember{"errorCode"},
                                 RecordMember{"errorMessage"},
                                 RecordMember{"userIdentity", k_identity_members},
                                 RecordMember{"requestParameters", k_request_members},
                                 RecordMember{"responseElements", k_response_members}});

} // namespace

std::span<const RecordMember> trail_record_members()
{
    return k_record_members;
}

util::Status
read_trail_input(Input& in, std::string_view claim_var, TrailIndex& index, PageSet* pages)
{
    std::size_t unrecognised = 0;
    std::string first_unrecognised;
    std::string lake_problem;
    std::size_t documents = 0;
    Page page;
    const auto not_a_record = [&](std::string what) {
        if (unrecognised++ == 0) {
            first_unrecognised = std::move(what);
        }
    };
    const auto event_time = [&](const std::string& time) {
        if (const auto ms = parse_utc_time(time)) {
            page.saw_time(*ms);
        }
    };
    const auto take = [&](const auto& object) {
        TrailRecord rec = classify_trail_record(object, claim_var);
        if (auto* bad = std::get_if<NotARecord>(&rec)) {
            not_a_record(std::move(bad->what));
            return;
        }
        if (std::holds_alternative<DigestFile>(rec)) {
            index.count_digest();
            return;
        }
        index.count_records(1, 0);
        if (auto* exec = std::get_if<ExecEvent>(&rec)) {
            event_time(exec->event_time);
            exec->origin = in.name();
            index.add(std::move(*exec));
        } else if (auto* run = std::get_if<RunTaskEvent>(&rec)) {
            event_time(run->event_time);
            run->origin = in.name();
            index.add(std::move(*run));
        } else if (auto* denied = std::get_if<DeniedExec>(&rec)) {
            event_time(denied->event_time);
            denied->origin = in.name();
            index.add(std::move(*denied));
        }
    };
    RecordStreamer streamer({"Records", "Events", "QueryResultRows"}, true, [&](Json& value) {
        if (value.is_array()) {
            if (auto record = lake_row_record(value)) {
                take(*record);
            } else {
                not_a_record("an array that is not a CloudTrail Lake result row");
            }
            return;
        }
        take(value);
    });
    streamer.deliver_arrays(true);
    streamer.keep_only(k_record_members);
    streamer.deliver_flat([&](const FlatRecord& record) { take(record); });
    streamer.on_document([&](const RecordStreamer::Document& doc) {
        ++documents;
        if (doc.root_scalar) {
            not_a_record("a JSON scalar");
        }
        const auto token = doc.strings.find("NextToken");
        const bool has_token = token != doc.strings.end() && !token->second.empty();
        const std::string input =
            in.name() + (documents > 1 ? " (document " + std::to_string(documents) + ")" : "");
        if (doc.stream_key == "QueryResultRows") {
            const auto status = doc.strings.find("QueryStatus");
            if (status != doc.strings.end() && status->second != "FINISHED"
                && lake_problem.empty()) {
                lake_problem = "the CloudTrail Lake query is " + status->second
                               + ", not FINISHED: its results are incomplete";
            }
        }
        if (pages != nullptr
            && (doc.stream_key == "Events" || doc.stream_key == "QueryResultRows")) {
            page.input = input;
            page.role = "CloudTrail";
            page.shape = doc.stream_key == "Events" ? "lookup-events" : "get-query-results";
            page.order = doc.stream_key == "Events" ? PageOrder::newest_first : PageOrder::none;
            page.has_token = has_token;
            pages->add(page);
        }
        page = Page{};
    });
    auto st = parse_json_stream(in, streamer);
    index.count_records(0, streamer.skipped_records());
    for (std::size_t i = 0; i < streamer.stray_scalars(); ++i) {
        not_a_record("a JSON scalar where a record belongs");
    }
    if (!st) {
        return st;
    }
    if (!lake_problem.empty()) {
        return util::make_error("read", in.name(), lake_problem);
    }
    if (unrecognised > 0) {
        return util::make_error(
            "read",
            in.name(),
            std::to_string(unrecognised) + " JSON value" + (unrecognised == 1 ? " is" : "s are")
                + " not CloudTrail (the first: " + first_unrecognised
                + "); not counted. CloudTrail inputs are S3 trail files, lookup-events, "
                  "get-query-results or EventBridge output");
    }
    return {};
}

} // namespace execmark::audit
