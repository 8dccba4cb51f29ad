// SPDX-License-Identifier: MIT
#include <agent/metadata/arn.hpp>

#include <algorithm>
#include <array>

namespace execmark::metadata {

namespace {

// AWS account ids are exactly 12 decimal digits.
constexpr std::size_t k_account_digits = 12;

bool is_digits(std::string_view s)
{
    return !s.empty()
           && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Partition and region names: lower-case letters, digits and '-' ("aws-us-gov", "cn-north-1").
bool is_aws_token(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

} // namespace

std::optional<Arn> parse_arn(std::string_view text)
{
    std::array<std::string_view, 6> fields{};
    std::size_t start = 0;
    for (std::size_t i = 0; i < fields.size() - 1; ++i) {
        const auto colon = text.find(':', start);
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        fields[i] = text.substr(start, colon - start);
        start = colon + 1;
    }
    fields[5] = text.substr(start);
    if (fields[0] != "arn" || fields[1].empty() || fields[2].empty() || fields[5].empty()) {
        return std::nullopt;
    }
    return Arn{std::string(fields[1]),
               std::string(fields[2]),
               std::string(fields[3]),
               std::string(fields[4]),
               std::string(fields[5])};
}

std::optional<TaskArn> parse_task_arn(std::string_view text)
{
    auto arn = parse_arn(text);
    if (!arn || arn->service != "ecs" || !is_aws_token(arn->partition) || !is_aws_token(arn->region)
        || arn->account.size() != k_account_digits || !is_digits(arn->account)) {
        return std::nullopt;
    }
    constexpr std::string_view k_prefix = "task/";
    const std::string_view resource = arn->resource;
    if (!resource.starts_with(k_prefix)) {
        return std::nullopt;
    }
    const std::string_view rest = resource.substr(k_prefix.size());
    TaskArn task;
    task.partition = std::move(arn->partition);
    task.region = std::move(arn->region);
    task.account = std::move(arn->account);
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) {
        task.task_id = std::string(rest);
    } else {
        task.cluster = std::string(rest.substr(0, slash));
        task.task_id = std::string(rest.substr(slash + 1));
        task.long_format = true;
        if (task.cluster.empty() || task.task_id.find('/') != std::string::npos) {
            return std::nullopt;
        }
    }
    if (task.task_id.empty() || task.task_id.find(':') != std::string::npos) {
        return std::nullopt;
    }
    return task;
}

std::string cluster_short_name(std::string_view cluster)
{
    const auto slash = cluster.rfind('/');
    return std::string(slash == std::string_view::npos ? cluster : cluster.substr(slash + 1));
}

std::string cluster_arn_for(std::string_view cluster, const std::optional<TaskArn>& task)
{
    if (cluster.starts_with("arn:")) {
        return std::string(cluster);
    }
    const std::string name = cluster_short_name(cluster);
    if (name.empty() || !task) {
        return {};
    }
    return "arn:" + task->partition + ":ecs:" + task->region + ":" + task->account + ":cluster/"
           + name;
}

} // namespace execmark::metadata
