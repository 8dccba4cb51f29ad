// SPDX-License-Identifier: MIT
#include <agent/session/origin.hpp>
#include <agent/session/owner.hpp>
#include <agent/util/io.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>

#include <memory>

namespace execmark::session {

namespace {

// The state file is small JSON; anything larger is not what we are looking for.
constexpr std::size_t k_max_state_file = 1024 * 1024;
// Instance directories scanned under the root (there is one in a container).
constexpr int k_max_instance_dirs = 16;
constexpr int k_max_json_depth = 8;
constexpr std::size_t k_max_owner_bytes = 512;

std::optional<std::string> find_key(const nlohmann::json& node, int depth)
{
    if (depth > k_max_json_depth || !node.is_object()) {
        return std::nullopt;
    }
    if (const auto it = node.find("SessionOwner"); it != node.end() && it->is_string()) {
        const auto& v = it->get_ref<const std::string&>();
        if (!v.empty() && v.size() <= k_max_owner_bytes) {
            return v;
        }
    }
    for (const auto& [key, child] : node.items()) {
        if (auto found = find_key(child, depth + 1)) {
            return found;
        }
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> find_session_owner(const std::string& sid, const std::string& root)
{
    if (!is_valid_session_id(sid)) {
        return std::nullopt;
    }

    struct DirCloser {
        void operator()(DIR* d) const { closedir(d); }
    };

    const std::unique_ptr<DIR, DirCloser> dir(opendir(root.c_str()));
    if (!dir) {
        return std::nullopt;
    }
    int scanned = 0;
    while (const dirent* entry = readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (name == "." || name == ".." || ++scanned > k_max_instance_dirs) {
            continue;
        }
        const auto text =
            util::read_file(root + "/" + name + "/document/state/current/" + sid, k_max_state_file);
        if (!text) {
            continue;
        }
        // parse without exceptions: a corrupt file is just not a source.
        const auto doc = nlohmann::json::parse(*text, nullptr, false);
        if (doc.is_discarded()) {
            continue;
        }
        if (auto owner = find_key(doc, 0)) {
            return owner;
        }
    }
    return std::nullopt;
}

} // namespace execmark::session
