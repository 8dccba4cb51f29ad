// SPDX-License-Identifier: MIT
#pragma once

#include <agent/util/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace execmark::metadata {

// Parsing never throws and never fails on a field: a field that is absent stays empty, a field
// of the wrong type is ignored and leaves a note. Only a body that is not a JSON object fails.
// Notes name the field ("Containers[1].Name: expected a string, got number"), never its value.
using Notes = std::vector<std::string>;

// Notes kept per document pair; a hostile document cannot grow memory through them.
inline constexpr std::size_t k_max_notes = 32;

// Appends a note unless k_max_notes are already held (the last slot says how many were dropped).
void add_note(Notes& notes, std::string note);

// One container object: the container document (${URI}) or an element of the task document's
// Containers. JSON keys are matched exactly as the agent spells them (DockerId, ImageID,
// ContainerARN); a key spelled with other letter case is accepted with a note, as Go clients do.
struct ContainerDocument {
    std::string docker_id;     // "DockerId": 64 hex on EC2, "<32 hex>-<10 digits>" on Fargate
    std::string name;          // "Name": the container name in the task definition
    std::string docker_name;   // "DockerName"
    std::string image;         // "Image"
    std::string container_arn; // "ContainerARN" (v4 only)
    std::string type;          // "Type": NORMAL, CNI_PAUSE, ...
    std::string log_driver;    // "LogDriver" (v4 only)
    std::string log_group;     // LogOptions["awslogs-group"]
    std::string log_stream;    // LogOptions["awslogs-stream"]: already the final stream name
    std::string log_region;    // LogOptions["awslogs-region"]
    // Docker labels the agent sets ("com.amazonaws.ecs.*"): a fallback when /task is missing.
    std::string label_task_arn;
    std::string label_cluster;
    std::string label_family;
    std::string label_revision;
};

// The task document (${URI}/task).
struct TaskDocument {
    std::string cluster;           // "Cluster": a short name on EC2, an ARN on Fargate
    std::string task_arn;          // "TaskARN"
    std::string family;            // "Family"
    std::string revision;          // "Revision" (a string in the agent's schema)
    std::string availability_zone; // "AvailabilityZone" (absent on Fargate before PV 1.4.0)
    std::string launch_type;       // "LaunchType" (v4 only): "EC2", "FARGATE", ...
    std::string service_name;      // "ServiceName" (newer agents, tasks in a service)
    std::vector<ContainerDocument> containers;
};

// Parses the container document. Error only when body is not a JSON object.
util::Result<ContainerDocument> parse_container_document(std::string_view body, Notes& notes);

// Parses the task document. Error only when body is not a JSON object.
util::Result<TaskDocument> parse_task_document(std::string_view body, Notes& notes);

// What execmark knows about its task and container. Strings are empty when unknown.
struct TaskMetadata {
    std::string source; // "v4" or "v3": which endpoint answered
    std::string task_arn;
    std::string task_id;
    std::string cluster;      // as the endpoint gave it (short name or ARN)
    std::string cluster_name; // short name
    std::string cluster_arn;  // given, or built from the task ARN's partition/region/account
    std::string container_name;
    std::string container_id; // DockerId
    std::string container_arn;
    std::string image;
    std::string family;
    std::string revision;
    std::string launch_type;
    std::string availability_zone;
    std::string service_name;
    std::string region; // from the task ARN
    std::string account;
    std::string partition; // "aws", "aws-cn", "aws-us-gov", ...
    std::string log_driver;
    std::string log_group;
    std::string log_stream;
    std::string log_region;
    // True when the task ARN parsed, the cluster, container name and id are known, and our
    // container was found in the task document.
    bool complete = false;
    Notes notes;
};

// Identifies our container in the task document. The container document is, by definition of
// the endpoint, our container; its entry in Containers (order is not stable) is the one with the
// same non-empty DockerId, else — only when our DockerId is unknown — the single entry with the
// same Name. Returns the index, or -1.
int find_own_container(const ContainerDocument& self, const TaskDocument& task);

// Combines the container document with the task document (null when /task could not be read:
// the labels then stand in and the result is not complete). Identity fields come from the
// container document first; disagreements are noted.
TaskMetadata assemble_metadata(const ContainerDocument& self,
                               const TaskDocument* task,
                               std::string_view source,
                               Notes notes);

// The stable, documented field list of TaskMetadata in output order (docs/configuration.md),
// as (key, value) pairs viewing into meta; used by both the text and the JSON rendering.
std::vector<std::pair<std::string_view, std::string_view>>
metadata_fields(const TaskMetadata& meta);

// The JSON object of `execmark metadata --json`: every field of metadata_fields (null when
// empty), then "complete" and "notes".
std::string metadata_to_json(const TaskMetadata& meta);

} // namespace execmark::metadata
