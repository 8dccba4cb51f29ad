// SPDX-License-Identifier: MIT
#include <agent/metadata/arn.hpp>
#include <agent/metadata/document.hpp>
#include <agent/util/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace execmark::metadata {

namespace {

using Json = nlohmann::json;

// A longer string field is ignored: no legitimate ARN, name or image reference comes near it.
constexpr std::size_t k_max_field_bytes = 2048;

// Real documents nest 4 levels deep; a megabyte of '[' would otherwise build a million nested
// JSON values in PID 1's memory before failing.
constexpr int k_max_nesting = 32;

// True when body nests arrays/objects deeper than k_max_nesting (brackets inside strings do not
// count). Runs before the parser, in one pass.
bool nests_too_deep(std::string_view body)
{
    int depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : body) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > k_max_nesting) {
                return true;
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return false;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x))
                      == std::tolower(static_cast<unsigned char>(y));
           });
}

// Where a field sits, for notes: "container document DockerId".
struct Place {
    std::string_view document;
    std::string prefix; // "" or "Containers[2]."
};

std::string where(const Place& place, std::string_view key)
{
    std::string s(place.document);
    s.push_back(' ');
    s.append(place.prefix);
    s.append(key);
    return s;
}

// The value under key: the exact spelling, else (when fold_case) a key differing only in letter
// case, with a note. Null when absent.
const Json* find_key(
    const Json& obj, std::string_view key, const Place& place, Notes& notes, bool fold_case = true)
{
    const auto it = obj.find(std::string(key));
    if (it != obj.end()) {
        return &*it;
    }
    if (!fold_case) {
        return nullptr;
    }
    for (const auto& [k, v] : obj.items()) {
        if (iequals(k, key)) {
            // k equals key but for case, so it is safe to quote.
            add_note(notes, where(place, key) + ": found as \"" + k + "\"");
            return &v;
        }
    }
    return nullptr;
}

bool has_control_bytes(std::string_view s)
{
    return std::any_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
}

// A string field; absent or null gives "", anything else that is not a usable string gives ""
// and a note.
std::string get_string(
    const Json& obj, std::string_view key, const Place& place, Notes& notes, bool fold_case = true)
{
    const Json* v = find_key(obj, key, place, notes, fold_case);
    if (v == nullptr || v->is_null()) {
        return {};
    }
    if (!v->is_string()) {
        add_note(notes,
                 where(place, key) + ": expected a string, got " + std::string(v->type_name()));
        return {};
    }
    const auto& s = v->get_ref<const std::string&>();
    if (s.size() > k_max_field_bytes) {
        add_note(notes,
                 where(place, key) + ": longer than " + std::to_string(k_max_field_bytes)
                     + " bytes, ignored");
        return {};
    }
    if (has_control_bytes(s)) {
        add_note(notes, where(place, key) + ": contains control characters, ignored");
        return {};
    }
    return s;
}

// An object-valued field; null when absent or not an object (with a note for the latter).
const Json* get_object(const Json& obj, std::string_view key, const Place& place, Notes& notes)
{
    const Json* v = find_key(obj, key, place, notes);
    if (v == nullptr || v->is_null()) {
        return nullptr;
    }
    if (!v->is_object()) {
        add_note(notes,
                 where(place, key) + ": expected an object, got " + std::string(v->type_name()));
        return nullptr;
    }
    return v;
}

util::Result<Json> parse_object(std::string_view body, std::string_view document)
{
    const std::string object = std::string(document);
    if (body.empty()) {
        return util::make_error("parse", object, "empty body");
    }
    if (nests_too_deep(body)) {
        return util::make_error(
            "parse", object, "nested deeper than " + std::to_string(k_max_nesting) + " levels");
    }
    Json doc;
    try {
        doc = Json::parse(body);
    } catch (const Json::parse_error& e) {
        return util::make_error("parse", object, "invalid JSON at byte " + std::to_string(e.byte));
    } catch (const Json::exception& e) {
        return util::make_error(
            "parse", object, "invalid JSON (error " + std::to_string(e.id) + ")");
    }
    if (!doc.is_object()) {
        return util::make_error(
            "parse", object, std::string("expected a JSON object, got ") + doc.type_name());
    }
    return doc;
}

ContainerDocument parse_container_object(const Json& obj, const Place& place, Notes& notes)
{
    ContainerDocument c;
    c.docker_id = get_string(obj, "DockerId", place, notes);
    c.name = get_string(obj, "Name", place, notes);
    c.docker_name = get_string(obj, "DockerName", place, notes);
    c.image = get_string(obj, "Image", place, notes);
    c.container_arn = get_string(obj, "ContainerARN", place, notes);
    c.type = get_string(obj, "Type", place, notes);
    c.log_driver = get_string(obj, "LogDriver", place, notes);
    if (const Json* opts = get_object(obj, "LogOptions", place, notes)) {
        const Place in{place.document, place.prefix + "LogOptions."};
        c.log_group = get_string(*opts, "awslogs-group", in, notes, false);
        c.log_stream = get_string(*opts, "awslogs-stream", in, notes, false);
        c.log_region = get_string(*opts, "awslogs-region", in, notes, false);
    }
    if (const Json* labels = get_object(obj, "Labels", place, notes)) {
        const Place in{place.document, place.prefix + "Labels."};
        c.label_task_arn = get_string(*labels, "com.amazonaws.ecs.task-arn", in, notes, false);
        c.label_cluster = get_string(*labels, "com.amazonaws.ecs.cluster", in, notes, false);
        c.label_family =
            get_string(*labels, "com.amazonaws.ecs.task-definition-family", in, notes, false);
        c.label_revision =
            get_string(*labels, "com.amazonaws.ecs.task-definition-version", in, notes, false);
    }
    return c;
}

// First non-empty of the values.
const std::string& first_of(const std::string& a, const std::string& b)
{
    return a.empty() ? b : a;
}

const std::string& first_of(const std::string& a, const std::string& b, const std::string& c)
{
    return first_of(first_of(a, b), c);
}

// Notes when two non-empty sources of one fact disagree (the first wins).
void check_same(Notes& notes, std::string_view what, const std::string& a, const std::string& b)
{
    if (!a.empty() && !b.empty() && a != b) {
        add_note(notes, std::string(what) + ": the container and task documents disagree");
    }
}

} // namespace

void add_note(Notes& notes, std::string note)
{
    if (notes.size() + 1 < k_max_notes) {
        notes.push_back(std::move(note));
    } else if (notes.size() + 1 == k_max_notes) {
        notes.emplace_back("further notes dropped");
    }
}

util::Result<ContainerDocument> parse_container_document(std::string_view body, Notes& notes)
{
    auto doc = parse_object(body, "container metadata");
    if (!doc) {
        return doc.error();
    }
    return parse_container_object(*doc, Place{"container document", ""}, notes);
}

util::Result<TaskDocument> parse_task_document(std::string_view body, Notes& notes)
{
    auto doc = parse_object(body, "task metadata");
    if (!doc) {
        return doc.error();
    }
    const Json& obj = *doc;
    const Place top{"task document", ""};
    TaskDocument t;
    t.cluster = get_string(obj, "Cluster", top, notes);
    t.task_arn = get_string(obj, "TaskARN", top, notes);
    t.family = get_string(obj, "Family", top, notes);
    t.revision = get_string(obj, "Revision", top, notes);
    t.availability_zone = get_string(obj, "AvailabilityZone", top, notes);
    t.launch_type = get_string(obj, "LaunchType", top, notes);
    t.service_name = get_string(obj, "ServiceName", top, notes);
    const Json* containers = find_key(obj, "Containers", top, notes);
    if (containers != nullptr && !containers->is_null()) {
        if (!containers->is_array()) {
            add_note(notes,
                     where(top, "Containers") + ": expected an array, got "
                         + std::string(containers->type_name()));
        } else {
            std::size_t i = 0;
            for (const Json& element : *containers) {
                const Place place{"task document", "Containers[" + std::to_string(i) + "]."};
                if (element.is_object()) {
                    t.containers.push_back(parse_container_object(element, place, notes));
                } else {
                    add_note(notes,
                             "task document Containers[" + std::to_string(i)
                                 + "]: expected an object, got "
                                 + std::string(element.type_name()));
                }
                ++i;
            }
        }
    }
    return t;
}

int find_own_container(const ContainerDocument& self, const TaskDocument& task)
{
    const auto& cs = task.containers;
    if (!self.docker_id.empty()) {
        const auto it = std::find_if(cs.begin(), cs.end(), [&](const ContainerDocument& c) {
            return c.docker_id == self.docker_id;
        });
        return it == cs.end() ? -1 : static_cast<int>(it - cs.begin());
    }
    if (self.name.empty()) {
        return -1;
    }
    int found = -1;
    for (std::size_t i = 0; i < cs.size(); ++i) {
        if (cs[i].name == self.name) {
            if (found >= 0) {
                return -1; // ambiguous: two containers by that name
            }
            found = static_cast<int>(i);
        }
    }
    return found;
}

TaskMetadata assemble_metadata(const ContainerDocument& self,
                               const TaskDocument* task,
                               std::string_view source,
                               Notes notes)
{
    static const std::string k_none;
    const ContainerDocument* own = nullptr;
    if (task != nullptr) {
        const int index = find_own_container(self, *task);
        if (index >= 0) {
            own = &task->containers[static_cast<std::size_t>(index)];
            check_same(notes, "container name", self.name, own->name);
        } else {
            add_note(notes,
                     self.docker_id.empty() ? "task document: no single container named like ours"
                                            : "task document: no container with our DockerId");
        }
        check_same(notes, "task ARN", self.label_task_arn, task->task_arn);
    }
    const ContainerDocument empty_container;
    const ContainerDocument& other = own != nullptr ? *own : empty_container;

    TaskMetadata m;
    m.source = std::string(source);
    m.container_name = first_of(self.name, other.name);
    m.container_id = first_of(self.docker_id, other.docker_id);
    m.container_arn = first_of(self.container_arn, other.container_arn);
    m.image = first_of(self.image, other.image);
    m.log_driver = first_of(self.log_driver, other.log_driver);
    m.log_group = first_of(self.log_group, other.log_group);
    m.log_stream = first_of(self.log_stream, other.log_stream);
    m.log_region = first_of(self.log_region, other.log_region);

    const std::string& t_arn = task != nullptr ? task->task_arn : k_none;
    const std::string& t_cluster = task != nullptr ? task->cluster : k_none;
    const std::string& t_family = task != nullptr ? task->family : k_none;
    const std::string& t_revision = task != nullptr ? task->revision : k_none;
    m.task_arn = first_of(t_arn, self.label_task_arn, other.label_task_arn);
    m.family = first_of(t_family, self.label_family, other.label_family);
    m.revision = first_of(t_revision, self.label_revision, other.label_revision);
    if (task != nullptr) {
        m.availability_zone = task->availability_zone;
        m.launch_type = task->launch_type;
        m.service_name = task->service_name;
    }

    const auto arn = parse_task_arn(m.task_arn);
    if (arn) {
        m.task_id = arn->task_id;
        m.region = arn->region;
        m.account = arn->account;
        m.partition = arn->partition;
    } else if (!m.task_arn.empty()) {
        add_note(notes, "task ARN: not an ECS task ARN; region and account unknown");
    }
    // The cluster: the task document's, else the label's, else the long task ARN's segment.
    m.cluster = first_of(t_cluster, self.label_cluster, other.label_cluster);
    if (m.cluster.empty() && arn) {
        m.cluster = arn->cluster;
    }
    m.cluster_name = cluster_short_name(m.cluster);
    m.cluster_arn = cluster_arn_for(m.cluster, arn);
    if (arn && arn->long_format && !m.cluster_name.empty() && arn->cluster != m.cluster_name) {
        add_note(notes, "cluster: differs from the cluster in the task ARN");
    }

    m.complete = task != nullptr && own != nullptr && arn.has_value() && !m.cluster_name.empty()
                 && !m.container_name.empty() && !m.container_id.empty();
    m.notes = std::move(notes);
    return m;
}

std::vector<std::pair<std::string_view, std::string_view>> metadata_fields(const TaskMetadata& m)
{
    return {
        {"source", m.source},
        {"task_arn", m.task_arn},
        {"task_id", m.task_id},
        {"cluster", m.cluster},
        {"cluster_name", m.cluster_name},
        {"cluster_arn", m.cluster_arn},
        {"container_name", m.container_name},
        {"container_id", m.container_id},
        {"container_arn", m.container_arn},
        {"image", m.image},
        {"family", m.family},
        {"revision", m.revision},
        {"launch_type", m.launch_type},
        {"availability_zone", m.availability_zone},
        {"service_name", m.service_name},
        {"region", m.region},
        {"account", m.account},
        {"partition", m.partition},
        {"log_driver", m.log_driver},
        {"log_group", m.log_group},
        {"log_stream", m.log_stream},
        {"log_region", m.log_region},
    };
}

std::string metadata_to_json(const TaskMetadata& meta)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata_fields(meta)) {
        if (value.empty()) {
            out[std::string(key)] = nullptr;
        } else {
            out[std::string(key)] = std::string(value);
        }
    }
    out["complete"] = meta.complete;
    out["notes"] = meta.notes;
    // Values passed get_string's checks (valid UTF-8 from the parser), so dump cannot throw;
    // "replace" keeps that true even if a caller filled the struct by hand.
    return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

} // namespace execmark::metadata
