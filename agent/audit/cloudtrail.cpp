// SPDX-License-Identifier: MIT
#include <agent/audit/cloudtrail.hpp>

#include <algorithm>

namespace execmark::audit {

namespace {

constexpr std::string_view k_ecs_source = "ecs.amazonaws.com";
constexpr std::string_view k_assumed_role = ":assumed-role/";
constexpr std::string_view k_iam_user = ":user/";
constexpr std::string_view k_federated_user = ":federated-user/";

const Json* member(const Json& object, std::string_view key)
{
    return json_member(object, key);
}

const Json* path(const Json& object, std::initializer_list<std::string_view> keys)
{
    const Json* at = &object;
    for (const auto key : keys) {
        at = member(*at, key);
        if (at == nullptr) {
            return nullptr;
        }
    }
    return at;
}

std::string text(const Json* value)
{
    if (value == nullptr) {
        return {};
    }
    if (value->is_string()) {
        return value->get<std::string>();
    }
    if (value->is_number_integer() || value->is_boolean()) {
        return value->dump();
    }
    return {};
}

std::string text_at(const Json& object, std::initializer_list<std::string_view> keys)
{
    return text(path(object, keys));
}

Principal principal_of(const Json& record)
{
    Principal p;
    const Json* id = member(record, "userIdentity");
    if (id == nullptr) {
        return p;
    }
    p.type = text_at(*id, {"type"});
    p.arn = text_at(*id, {"arn"});
    p.principal_id = text_at(*id, {"principalId"});
    p.account = text_at(*id, {"accountId"});
    p.user_name = text_at(*id, {"userName"});
    p.issuer_arn = text_at(*id, {"sessionContext", "sessionIssuer", "arn"});
    p.issuer_name = text_at(*id, {"sessionContext", "sessionIssuer", "userName"});
    p.on_behalf_of = text_at(*id, {"onBehalfOf", "userId"});
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
const Json* record_of(const Json& object, Json& holder)
{
    if (const Json* inner = member(object, "CloudTrailEvent")) {
        if (!inner->is_string()) {
            return nullptr;
        }
        holder = Json::parse(inner->get_ref<const std::string&>(), nullptr, false);
        return holder.is_discarded() || !holder.is_object() ? nullptr : &holder;
    }
    if (const Json* detail = member(object, "detail"); detail != nullptr && detail->is_object()) {
        if (member(*detail, "eventName") != nullptr) {
            return detail;
        }
    }
    return member(object, "eventName") != nullptr ? &object : nullptr;
}

TrailRecord classify(const Json& object, std::string_view claim_var)
{
    Json holder;
    const Json* record = record_of(object, holder);
    if (record == nullptr) {
        return {};
    }
    const std::string source = text_at(*record, {"eventSource"});
    if (!source.empty() && source != k_ecs_source) {
        return {};
    }
    const std::string name = text_at(*record, {"eventName"});
    if (name == "ExecuteCommand") {
        ExecEvent ev;
        ev.session_id = text_at(*record, {"responseElements", "session", "sessionId"});
        if (ev.session_id.empty()) {
            return {};
        }
        ev.event_id = text_at(*record, {"eventID"});
        ev.event_time = text_at(*record, {"eventTime"});
        ev.region = text_at(*record, {"awsRegion"});
        ev.source_ip = text_at(*record, {"sourceIPAddress"});
        ev.user_agent = text_at(*record, {"userAgent"});
        ev.cluster = text_at(*record, {"requestParameters", "cluster"});
        ev.container = text_at(*record, {"responseElements", "containerName"});
        if (ev.container.empty()) {
            ev.container = text_at(*record, {"requestParameters", "container"});
        }
        ev.task = text_at(*record, {"requestParameters", "task"});
        ev.task_arn = text_at(*record, {"responseElements", "taskArn"});
        ev.command = text_at(*record, {"requestParameters", "command"});
        ev.principal = principal_of(*record);
        return ev;
    }
    if (name == "RunTask") {
        RunTaskEvent ev;
        ev.event_id = text_at(*record, {"eventID"});
        ev.event_time = text_at(*record, {"eventTime"});
        ev.principal = principal_of(*record);
        if (const Json* tasks = path(*record, {"responseElements", "tasks"});
            tasks != nullptr && tasks->is_array()) {
            for (const Json& t : *tasks) {
                const std::string arn = text_at(t, {"taskArn"});
                if (!arn.empty()) {
                    ev.task_arns.push_back(arn);
                }
            }
        }
        const Json* overrides =
            path(*record, {"requestParameters", "overrides", "containerOverrides"});
        if (overrides != nullptr && overrides->is_array()) {
            for (const Json& o : *overrides) {
                const Json* env = member(o, "environment");
                if (env == nullptr || !env->is_array()) {
                    continue;
                }
                for (const Json& e : *env) {
                    if (text_at(e, {"name"}) == claim_var) {
                        ev.claim_overrides.emplace_back(text_at(o, {"name"}),
                                                        text_at(e, {"value"}));
                    }
                }
            }
        }
        if (ev.task_arns.empty()) {
            return {};
        }
        return ev;
    }
    return {};
}

} // namespace

TrailRecord classify_trail_record(const Json& object, std::string_view claim_var)
{
    try {
        return classify(object, claim_var);
    } catch (const std::exception&) {
        // nlohmann type errors on a malformed record: the record is not one of ours.
        return {};
    }
}

std::vector<std::string> principal_names(const Principal& principal)
{
    std::vector<std::string> names;
    const auto add = [&](std::string name) {
        if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) {
            names.push_back(std::move(name));
        }
    };
    const std::string& arn = principal.arn;
    add(arn);
    if (const std::string role_session = after(arn, k_assumed_role); !role_session.empty()) {
        add(role_session);
        if (role_session.find('/') != std::string::npos) {
            add(last_component(role_session));
        }
    }
    if (const std::string user = after(arn, k_iam_user); !user.empty()) {
        add(last_component(user));
    }
    if (const std::string fed = after(arn, k_federated_user); !fed.empty()) {
        add(last_component(fed));
    }
    add(principal.user_name);
    if (const std::size_t colon = principal.principal_id.find(':'); colon != std::string::npos) {
        add(principal.principal_id.substr(colon + 1));
    }
    return names;
}

bool claim_matches(std::string_view claim, const Principal& principal)
{
    const auto names = principal_names(principal);
    return std::any_of(
        names.begin(), names.end(), [&](const std::string& n) { return iequals(n, claim); });
}

std::string principal_display(const Principal& principal)
{
    const std::string& arn = principal.arn;
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
    if (!arn.empty()) {
        return arn;
    }
    if (!principal.principal_id.empty()) {
        return principal.principal_id;
    }
    return principal.type;
}

std::string_view task_id_of(std::string_view task)
{
    const std::size_t slash = task.rfind('/');
    return slash == std::string_view::npos ? task : task.substr(slash + 1);
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

util::Status read_trail_input(Input& in, std::string_view claim_var, TrailIndex& index)
{
    RecordStreamer streamer({"Records", "Events"}, true, [&](Json& object) {
        index.count_records(1, 0);
        TrailRecord rec = classify_trail_record(object, claim_var);
        if (auto* exec = std::get_if<ExecEvent>(&rec)) {
            exec->origin = in.name();
            index.add(std::move(*exec));
        } else if (auto* run = std::get_if<RunTaskEvent>(&rec)) {
            run->origin = in.name();
            index.add(std::move(*run));
        }
    });
    auto st = parse_json_stream(in, streamer);
    index.count_records(0, streamer.skipped_records());
    return st;
}

} // namespace execmark::audit
