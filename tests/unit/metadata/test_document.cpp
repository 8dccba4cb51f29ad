// SPDX-License-Identifier: MIT
#include "fixtures.hpp"

#include <agent/metadata/document.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace execmark::metadata;
using execmark::test::metadata_fixture;

namespace {

bool has_note(const Notes& notes, std::string_view needle)
{
    return std::any_of(notes.begin(), notes.end(), [&](const std::string& n) {
        return n.find(needle) != std::string::npos;
    });
}

TaskMetadata parse_pair(const std::string& fixture, std::string_view source)
{
    Notes notes;
    auto c = parse_container_document(metadata_fixture(fixture + "-container.json"), notes);
    REQUIRE(c);
    auto t = parse_task_document(metadata_fixture(fixture + "-task.json"), notes);
    REQUIRE(t);
    return assemble_metadata(*c, &*t, source, std::move(notes));
}

} // namespace

TEST_CASE("Fargate v4: cluster is an ARN, long task ARN, our container is not first")
{
    const TaskMetadata m = parse_pair("fargate", "v4");
    CHECK(m.source == "v4");
    CHECK(m.task_arn
          == "arn:aws:ecs:eu-west-1:314159265358:task/checkout-prod/"
             "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05");
    CHECK(m.task_id == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05");
    CHECK(m.cluster == "arn:aws:ecs:eu-west-1:314159265358:cluster/checkout-prod");
    CHECK(m.cluster_name == "checkout-prod");
    CHECK(m.cluster_arn == m.cluster);
    CHECK(m.container_name == "api");
    CHECK(m.container_id == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05-3141592653");
    CHECK(m.container_arn
          == "arn:aws:ecs:eu-west-1:314159265358:container/checkout-prod/"
             "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05/2b7e4d19-8c3a-4f60-a5d2-91e7c0b4f836");
    CHECK(m.image == "314159265358.dkr.ecr.eu-west-1.amazonaws.com/checkout-api:2024.11.3");
    CHECK(m.family == "checkout-api");
    CHECK(m.revision == "17");
    CHECK(m.launch_type == "FARGATE");
    CHECK(m.availability_zone == "eu-west-1b");
    CHECK(m.region == "eu-west-1");
    CHECK(m.account == "314159265358");
    CHECK(m.partition == "aws");
    CHECK(m.log_driver == "awslogs");
    CHECK(m.log_group == "/ecs/checkout-api");
    CHECK(m.log_stream == "app/api/7c0f5e2a91d34b6f8a2e4c1d9b3f6a05");
    CHECK(m.log_region == "eu-west-1");
    CHECK(m.service_name.empty());
    CHECK(m.complete);
    CHECK(m.notes.empty());
}

TEST_CASE("EC2 v4 in GovCloud: short cluster name, pause-free sibling listed first")
{
    const TaskMetadata m = parse_pair("ec2", "v4");
    CHECK(m.cluster == "batch-workers");
    CHECK(m.cluster_name == "batch-workers");
    CHECK(m.cluster_arn == "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:cluster/batch-workers");
    CHECK(m.container_name == "worker");
    CHECK(m.container_id == "e4b81f07c2d95a3e6f180b7d4c29e5a13f6b8d0c7e2a4f9b1d3c5e7a9f0b2d4c");
    CHECK(m.launch_type == "EC2");
    CHECK(m.service_name == "reportgen-svc");
    CHECK(m.partition == "aws-us-gov");
    CHECK(m.region == "us-gov-west-1");
    CHECK(m.account == "271828182845");
    CHECK(m.task_id == "0d6c3a9f5e2b47d18c4f7a0e3b6d9c21");
    CHECK(m.revision == "41");
    CHECK(m.complete);
    CHECK(m.notes.empty());
}

TEST_CASE("v3 in China: old task ARN, no v4-only fields, pause container ignored")
{
    const TaskMetadata m = parse_pair("v3", "v3");
    CHECK(m.source == "v3");
    CHECK(m.task_arn
          == "arn:aws-cn:ecs:cn-north-1:161803398874:task/3f9d2c71-5b8e-4a06-9c1d-e27f4b8a6d53");
    CHECK(m.task_id == "3f9d2c71-5b8e-4a06-9c1d-e27f4b8a6d53");
    CHECK(m.cluster == "default");
    CHECK(m.cluster_arn == "arn:aws-cn:ecs:cn-north-1:161803398874:cluster/default");
    CHECK(m.partition == "aws-cn");
    CHECK(m.container_name == "nginx-proxy");
    CHECK(m.launch_type.empty());
    CHECK(m.container_arn.empty());
    CHECK(m.log_driver.empty());
    CHECK(m.availability_zone == "cn-north-1a");
    CHECK(m.complete);
}

TEST_CASE("fields of the wrong type are ignored with a note, never a crash")
{
    const TaskMetadata m = parse_pair("wrong-types", "v4");
    // TaskARN 42 in the task document: the container's label stands in.
    CHECK(
        m.task_arn
        == "arn:aws:ecs:ap-southeast-2:577215664901:task/staging/41d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1");
    CHECK(m.region == "ap-southeast-2");
    // Name 7 in the container document: the matching task entry (by DockerId) gives it.
    CHECK(m.container_name == "web");
    CHECK(m.container_id == "41d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1-1618033988");
    CHECK(m.cluster_name == "staging");
    CHECK(m.revision.empty()); // 12 (number) both in the task document and in the label
    CHECK(m.availability_zone.empty());
    CHECK(m.launch_type.empty());
    CHECK(m.container_arn.empty());
    CHECK(m.log_group.empty());
    CHECK(m.log_stream == "web/web/41d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1");
    CHECK(m.image == "577215664901.dkr.ecr.ap-southeast-2.amazonaws.com/web:staging");
    CHECK(m.complete);
    CHECK(has_note(m.notes, "task document TaskARN: expected a string, got number"));
    CHECK(has_note(m.notes, "task document Revision: expected a string, got number"));
    CHECK(has_note(m.notes, "task document AvailabilityZone: expected a string, got object"));
    CHECK(has_note(m.notes, "task document LaunchType: expected a string, got boolean"));
    CHECK(has_note(m.notes, "container document Name: expected a string, got number"));
    CHECK(has_note(m.notes, "container document ContainerARN: expected a string, got object"));
    CHECK(has_note(m.notes, "container document LogOptions.awslogs-group: expected a string"));
    CHECK(has_note(m.notes, "task-definition-version: expected a string, got number"));
    CHECK(has_note(m.notes, "task document Containers[0]: expected an object, got string"));
    CHECK(has_note(m.notes, "task document Containers[1]: expected an object, got number"));
    CHECK(has_note(m.notes, "task document Containers[2].DockerId: expected a string"));
    CHECK(has_note(m.notes, "task document Containers[3].Labels: expected an object, got string"));
    // Image null is "absent", not a wrong type.
    CHECK_FALSE(has_note(m.notes, "container document Image"));
}

TEST_CASE("JSON keys: exact casing wins, other casing is accepted with a note")
{
    Notes notes;
    auto c = parse_container_document(
        R"({"DockerID": "abc", "name": "app", "Name": "exact", "containerArn": "x"})", notes);
    REQUIRE(c);
    CHECK(c->docker_id == "abc");
    CHECK(c->name == "exact");
    CHECK(c->container_arn == "x");
    CHECK(has_note(notes, "container document DockerId: found as \"DockerID\""));
    CHECK(has_note(notes, "container document ContainerARN: found as \"containerArn\""));
    CHECK_FALSE(has_note(notes, "container document Name"));

    Notes task_notes;
    auto t = parse_task_document(
        R"({"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/1", "CLUSTER": "c"})",
        task_notes);
    REQUIRE(t);
    CHECK(t->task_arn == "arn:aws:ecs:us-east-1:123456789012:task/c/1");
    CHECK(t->cluster == "c");
    CHECK(task_notes.size() == 2);
}

TEST_CASE("Docker label keys are matched exactly (they are lower-case by definition)")
{
    Notes notes;
    auto c = parse_container_document(
        R"({"Labels": {"COM.AMAZONAWS.ECS.TASK-ARN": "arn:aws:ecs:us-east-1:123456789012:task/1"}})",
        notes);
    REQUIRE(c);
    CHECK(c->label_task_arn.empty());
}

TEST_CASE("bodies that are not a JSON object are errors")
{
    Notes notes;
    const std::string full = metadata_fixture("fargate-task.json");
    const auto truncated = parse_task_document(full.substr(0, full.size() / 2), notes);
    REQUIRE_FALSE(truncated);
    CHECK(truncated.error().message.rfind("parse task metadata: invalid JSON at byte", 0) == 0);

    const auto empty = parse_container_document("", notes);
    REQUIRE_FALSE(empty);
    CHECK(empty.error().message == "parse container metadata: empty body");

    const auto array = parse_container_document("[1, 2]", notes);
    REQUIRE_FALSE(array);
    CHECK(array.error().message == "parse container metadata: expected a JSON object, got array");

    const auto str = parse_task_document(R"("unable to generate metadata for v4 task")", notes);
    REQUIRE_FALSE(str);
    CHECK(str.error().message == "parse task metadata: expected a JSON object, got string");

    CHECK_FALSE(parse_container_document("<html>502 Bad Gateway</html>", notes));
    CHECK_FALSE(parse_container_document("{\"Name\": \"a\"} trailing", notes));
    CHECK_FALSE(parse_container_document("{\"Name\": \"\xff\xfe\"}", notes)); // invalid UTF-8
    CHECK(notes.empty());
}

TEST_CASE("deeply nested bodies are refused before parsing")
{
    Notes notes;
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    const auto r = parse_task_document(deep, notes);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "parse task metadata: nested deeper than 32 levels");

    // Brackets inside strings do not count, escaped quotes do not end a string.
    const std::string in_string = R"({"Name": "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})";
    const auto ok = parse_container_document(in_string, notes);
    REQUIRE(ok);
    CHECK(ok->name == "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");

    std::string nested = R"({"Labels": )";
    for (int i = 0; i < 30; ++i) {
        nested += R"({"a": )";
    }
    nested += "1" + std::string(30, '}') + "}";
    CHECK(parse_container_document(nested, notes)); // 31 levels: fine
}

TEST_CASE("our container missing from the task document: values kept, not complete")
{
    Notes notes;
    auto c = parse_container_document(metadata_fixture("fargate-container.json"), notes);
    REQUIRE(c);
    auto t = parse_task_document(metadata_fixture("ec2-task.json"), notes); // another task
    REQUIRE(t);
    const TaskMetadata m = assemble_metadata(*c, &*t, "v4", std::move(notes));
    CHECK(m.container_name == "api");
    CHECK(m.container_id == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05-3141592653");
    CHECK_FALSE(m.complete);
    CHECK(has_note(m.notes, "task document: no container with our DockerId"));
    CHECK(has_note(m.notes, "task ARN: the container and task documents disagree"));
}

TEST_CASE("find_own_container: by DockerId, else by a unique Name, never by position")
{
    TaskDocument t;
    t.containers.resize(3);
    t.containers[0].docker_id = "aaa";
    t.containers[0].name = "~internal~ecs~pause";
    t.containers[1].docker_id = "bbb";
    t.containers[1].name = "app";
    t.containers[2].docker_id = "ccc";
    t.containers[2].name = "sidecar";

    ContainerDocument self;
    self.docker_id = "ccc";
    self.name = "app"; // the DockerId decides
    CHECK(find_own_container(self, t) == 2);

    self.docker_id = "zzz";
    CHECK(find_own_container(self, t) == -1); // an unknown DockerId is never matched by name

    self.docker_id.clear();
    CHECK(find_own_container(self, t) == 1);

    t.containers[2].name = "app";
    CHECK(find_own_container(self, t) == -1); // ambiguous

    self.name.clear();
    CHECK(find_own_container(self, t) == -1);
}

TEST_CASE("without the task document the labels stand in, not complete")
{
    Notes notes;
    auto c = parse_container_document(metadata_fixture("ec2-container.json"), notes);
    REQUIRE(c);
    const TaskMetadata m = assemble_metadata(*c, nullptr, "v4", {});
    CHECK(m.task_arn
          == "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:task/batch-workers/"
             "0d6c3a9f5e2b47d18c4f7a0e3b6d9c21");
    CHECK(m.cluster == "batch-workers");
    CHECK(m.family == "reportgen");
    CHECK(m.revision == "41");
    CHECK(m.region == "us-gov-west-1");
    CHECK(m.launch_type.empty());
    CHECK_FALSE(m.complete);
}

TEST_CASE("cluster missing everywhere: taken from a long task ARN")
{
    Notes notes;
    auto c = parse_container_document(R"({"DockerId": "d1", "Name": "app"})", notes);
    auto t = parse_task_document(
        R"({"TaskARN": "arn:aws:ecs:us-east-2:123456789012:task/blue/0123abcd",
            "Containers": [{"DockerId": "d1", "Name": "app"}]})",
        notes);
    REQUIRE(c);
    REQUIRE(t);
    const TaskMetadata m = assemble_metadata(*c, &*t, "v4", std::move(notes));
    CHECK(m.cluster == "blue");
    CHECK(m.cluster_arn == "arn:aws:ecs:us-east-2:123456789012:cluster/blue");
    CHECK(m.complete);
}

TEST_CASE("a task ARN that does not parse leaves region and account empty, with a note")
{
    Notes notes;
    auto c = parse_container_document(R"({"DockerId": "d1", "Name": "app"})", notes);
    auto t = parse_task_document(
        R"({"TaskARN": "t1", "Cluster": "default",
            "Containers": [{"DockerId": "d1", "Name": "app"}]})",
        notes);
    REQUIRE(c);
    REQUIRE(t);
    const TaskMetadata m = assemble_metadata(*c, &*t, "v4", std::move(notes));
    CHECK(m.task_arn == "t1");
    CHECK(m.region.empty());
    CHECK(m.cluster_arn.empty());
    CHECK_FALSE(m.complete);
    CHECK(has_note(m.notes, "task ARN: not an ECS task ARN"));
}

TEST_CASE("string values with control characters or huge sizes are ignored")
{
    Notes notes;
    const std::string huge(5000, 'a');
    auto c = parse_container_document(
        R"({"Name": "app\u001b[31m", "Image": ")" + huge + R"(", "DockerId": "ok"})", notes);
    REQUIRE(c);
    CHECK(c->name.empty());
    CHECK(c->image.empty());
    CHECK(c->docker_id == "ok");
    CHECK(has_note(notes, "container document Name: contains control characters"));
    CHECK(has_note(notes, "container document Image: longer than"));
}

TEST_CASE("Containers of the wrong type is noted, and notes are capped")
{
    Notes notes;
    auto t = parse_task_document(R"({"Containers": {"a": 1}})", notes);
    REQUIRE(t);
    CHECK(t->containers.empty());
    CHECK(has_note(notes, "task document Containers: expected an array, got object"));

    std::string many = R"({"Containers": [)";
    for (int i = 0; i < 200; ++i) {
        many += (i == 0 ? "" : ",");
        many += "1";
    }
    many += "]}";
    Notes capped;
    REQUIRE(parse_task_document(many, capped));
    CHECK(capped.size() == k_max_notes);
    CHECK(capped.back() == "further notes dropped");
}

TEST_CASE("metadata_to_json: every documented field, null when unknown, stable order")
{
    const TaskMetadata m = parse_pair("v3", "v3");
    const auto j = nlohmann::ordered_json::parse(metadata_to_json(m));
    std::vector<std::string> keys;
    for (const auto& [k, v] : j.items()) {
        keys.push_back(k);
    }
    const std::vector<std::string> expected = {"source",         "task_arn",
                                               "task_id",        "cluster",
                                               "cluster_name",   "cluster_arn",
                                               "container_name", "container_id",
                                               "container_arn",  "image",
                                               "family",         "revision",
                                               "launch_type",    "availability_zone",
                                               "service_name",   "region",
                                               "account",        "partition",
                                               "log_driver",     "log_group",
                                               "log_stream",     "log_region",
                                               "complete",       "notes"};
    CHECK(keys == expected);
    CHECK(j["launch_type"].is_null());
    CHECK(j["partition"] == "aws-cn");
    CHECK(j["complete"] == true);
    CHECK(j["notes"].is_array());
}
