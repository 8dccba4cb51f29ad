// SPDX-License-Identifier: MIT
#include <agent/audit/formats.hpp>

#include <array>

namespace execmark::audit {

namespace {

constexpr std::string_view k_script_header = "Script started on ";
constexpr std::string_view k_bom = "\xEF\xBB\xBF";

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view skip_space(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size() && is_json_space(s[i])) {
        ++i;
    }
    return s.substr(i);
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Whether an object text begins with one of the CloudWatch Logs response keys.
bool first_key_is_cloudwatch(std::string_view after_brace)
{
    constexpr std::array<std::string_view, 5> k_keys = {"\"events\"",
                                                        "\"nextForwardToken\"",
                                                        "\"nextBackwardToken\"",
                                                        "\"searchedLogStreams\"",
                                                        "\"nextToken\""};
    const std::string_view rest = skip_space(after_brace);
    for (const auto key : k_keys) {
        if (rest.substr(0, key.size()) == key) {
            return true;
        }
    }
    return false;
}

} // namespace

std::string_view format_name(LogFormat format)
{
    switch (format) {
    case LogFormat::transcript:
        return "transcript";
    case LogFormat::plain_text:
        return "text";
    case LogFormat::cloudwatch_json:
        return "cloudwatch-json";
    case LogFormat::cloudwatch_export:
        return "cloudwatch-export";
    }
    return "text";
}

std::size_t export_timestamp_prefix(std::string_view line)
{
    // YYYY-MM-DDTHH:MM:SS
    constexpr std::string_view k_shape = "dddd-dd-ddTdd:dd:dd";
    if (line.size() < k_shape.size() + 2) {
        return 0;
    }
    for (std::size_t i = 0; i < k_shape.size(); ++i) {
        if (k_shape[i] == 'd' ? !is_digit(line[i]) : line[i] != k_shape[i]) {
            return 0;
        }
    }
    std::size_t i = k_shape.size();
    if (line[i] == '.') {
        ++i;
        const std::size_t digits_start = i;
        while (i < line.size() && is_digit(line[i]) && i - digits_start < 9) {
            ++i;
        }
        if (i == digits_start) {
            return 0;
        }
    }
    if (i >= line.size() || line[i] != 'Z') {
        return 0;
    }
    ++i;
    if (i >= line.size() || line[i] != ' ') {
        return 0;
    }
    return i + 1;
}

LogFormat detect_log_format(std::string_view head)
{
    if (head.substr(0, k_bom.size()) == k_bom) {
        head.remove_prefix(k_bom.size());
    }
    const std::string_view trimmed = skip_space(head);
    if (!trimmed.empty() && trimmed.front() == '[') {
        return LogFormat::cloudwatch_json;
    }
    if (!trimmed.empty() && trimmed.front() == '{' && first_key_is_cloudwatch(trimmed.substr(1))) {
        return LogFormat::cloudwatch_json;
    }
    if (head.substr(0, k_script_header.size()) == k_script_header) {
        return LogFormat::transcript;
    }
    if (export_timestamp_prefix(head) != 0) {
        return LogFormat::cloudwatch_export;
    }
    return LogFormat::plain_text;
}

bool is_exec_session_id(std::string_view name)
{
    return name.size() > k_exec_session_prefix.size()
           && name.substr(0, k_exec_session_prefix.size()) == k_exec_session_prefix;
}

std::string base_name_without_gz(std::string_view path)
{
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    const std::size_t slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    if (ends_with(name, ".gz")) {
        name.remove_suffix(3);
    }
    return std::string(name);
}

std::string session_id_from_path(std::string_view path, LogFormat format)
{
    if (path == "-" || path.empty()) {
        return {};
    }
    if (format == LogFormat::cloudwatch_export) {
        const std::size_t slash = path.rfind('/');
        if (slash == std::string_view::npos) {
            return {};
        }
        return base_name_without_gz(path.substr(0, slash));
    }
    std::string name = base_name_without_gz(path);
    for (const std::string_view ext : {".log", ".txt", ".json"}) {
        if (ends_with(name, ext)) {
            name.resize(name.size() - ext.size());
            break;
        }
    }
    return name;
}

} // namespace execmark::audit
