// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace execmark::metadata {

// The six colon-separated fields of an ARN:
// arn:<partition>:<service>:<region>:<account>:<resource>. Colons after the fifth belong to the
// resource.
struct Arn {
    std::string partition;
    std::string service;
    std::string region;
    std::string account;
    std::string resource;
};

// Splits an ARN. Requires the literal "arn" and a non-empty partition, service and resource;
// region and account may be empty (global services). Nullopt otherwise.
std::optional<Arn> parse_arn(std::string_view text);

// An ECS task ARN in either format:
//   short (before the 2021 opt-in):  arn:<p>:ecs:<region>:<account>:task/<task-id>
//   long:                            arn:<p>:ecs:<region>:<account>:task/<cluster>/<task-id>
struct TaskArn {
    std::string partition;
    std::string region;
    std::string account;
    std::string cluster; // empty in the short format
    std::string task_id; // 32 hex (new ids) or a 36-char UUID (old ids): not validated further
    bool long_format = false;
};

// Parses a task ARN: service "ecs", a region, a 12-digit account, resource "task/..." with one
// or two non-empty segments after "task/". Nullopt for anything else.
std::optional<TaskArn> parse_task_arn(std::string_view text);

// The short name of a cluster given as a short name or an ARN (".../cluster/<name>").
std::string cluster_short_name(std::string_view cluster);

// The cluster's ARN: cluster itself when it is an ARN, otherwise built from the task ARN's
// partition, region and account. Empty when cluster is empty or the task ARN gives no prefix.
std::string cluster_arn_for(std::string_view cluster, const std::optional<TaskArn>& task);

} // namespace execmark::metadata
