// SPDX-License-Identifier: MIT
#include <agent/metadata/arn.hpp>

#include <catch2/catch.hpp>

using namespace execmark::metadata;

TEST_CASE("parse_arn splits six fields and keeps colons in the resource")
{
    const auto arn = parse_arn("arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*");
    REQUIRE(arn);
    CHECK(arn->partition == "aws");
    CHECK(arn->service == "logs");
    CHECK(arn->region == "us-east-1");
    CHECK(arn->account == "123456789012");
    CHECK(arn->resource == "log-group:/ecs/app:*");

    const auto global = parse_arn("arn:aws:iam::123456789012:role/x");
    REQUIRE(global);
    CHECK(global->region.empty());

    CHECK_FALSE(parse_arn(""));
    CHECK_FALSE(parse_arn("default"));
    CHECK_FALSE(parse_arn("arn:aws:ecs:us-east-1:123456789012"));  // five fields
    CHECK_FALSE(parse_arn("arn:aws:ecs:us-east-1:123456789012:")); // empty resource
    CHECK_FALSE(parse_arn("urn:aws:ecs:us-east-1:123456789012:task/x"));
    CHECK_FALSE(parse_arn("arn::ecs:us-east-1:123456789012:task/x"));
}

TEST_CASE("parse_task_arn: long format with cluster, commercial partition")
{
    const auto t = parse_task_arn(
        "arn:aws:ecs:eu-west-1:314159265358:task/checkout-prod/7c0f5e2a91d34b6f8a2e4c1d9b3f6a05");
    REQUIRE(t);
    CHECK(t->partition == "aws");
    CHECK(t->region == "eu-west-1");
    CHECK(t->account == "314159265358");
    CHECK(t->cluster == "checkout-prod");
    CHECK(t->task_id == "7c0f5e2a91d34b6f8a2e4c1d9b3f6a05");
    CHECK(t->long_format);
}

TEST_CASE("parse_task_arn: short (old) format without cluster, UUID id")
{
    const auto t =
        parse_task_arn("arn:aws-cn:ecs:cn-north-1:161803398874:task/3f9d2c71-5b8e-4a06-9c1d-"
                       "e27f4b8a6d53");
    REQUIRE(t);
    CHECK(t->partition == "aws-cn");
    CHECK(t->region == "cn-north-1");
    CHECK(t->account == "161803398874");
    CHECK(t->cluster.empty());
    CHECK(t->task_id == "3f9d2c71-5b8e-4a06-9c1d-e27f4b8a6d53");
    CHECK_FALSE(t->long_format);
}

TEST_CASE("parse_task_arn: GovCloud and other partitions")
{
    const auto gov = parse_task_arn(
        "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:task/batch-workers/0d6c3a9f5e2b47d1");
    REQUIRE(gov);
    CHECK(gov->partition == "aws-us-gov");
    CHECK(gov->region == "us-gov-west-1");
    CHECK(gov->cluster == "batch-workers");

    const auto gov_short =
        parse_task_arn("arn:aws-us-gov:ecs:us-gov-east-1:271828182845:task/0d6c3a9f5e2b47d1");
    REQUIRE(gov_short);
    CHECK(gov_short->region == "us-gov-east-1");
    CHECK_FALSE(gov_short->long_format);

    const auto cn_long =
        parse_task_arn("arn:aws-cn:ecs:cn-northwest-1:161803398874:task/default/abc123");
    REQUIRE(cn_long);
    CHECK(cn_long->partition == "aws-cn");
    CHECK(cn_long->cluster == "default");
}

TEST_CASE("parse_task_arn rejects what is not an ECS task ARN")
{
    const char* bad[] = {
        "",
        "t1",
        "default/158d1c8083dd49d6b527399fd6414f5c",            // no arn: prefix
        "arn:aws:ecs:us-west-2:111122223333:container/abc",    // not a task
        "arn:aws:ec2:us-west-2:111122223333:task/abc",         // wrong service
        "arn:aws:ecs:us-west-2:11112222333:task/abc",          // 11-digit account
        "arn:aws:ecs:us-west-2:1111222233334:task/abc",        // 13-digit account
        "arn:aws:ecs:us-west-2:ExampleAWSAccountNo1:task/abc", // placeholder account
        "arn:aws:ecs::111122223333:task/abc",                  // no region
        "arn:aws:ecs:US-WEST-2:111122223333:task/abc",         // not a region token
        "arn:aws:ecs:us-west-2:111122223333:task/",            // empty id
        "arn:aws:ecs:us-west-2:111122223333:task//abc",        // empty cluster
        "arn:aws:ecs:us-west-2:111122223333:task/c/",          // empty id after cluster
        "arn:aws:ecs:us-west-2:111122223333:task/a/b/c",       // too many segments
        "arn:aws:ecs:us-west-2:111122223333:task/a:b",         // colon in the id
        "arn:aws:ecs:us-west-2:111122223333:tasks/abc",
    };
    for (const char* text : bad) {
        INFO(text);
        CHECK_FALSE(parse_task_arn(text));
    }
}

TEST_CASE("cluster_short_name takes the part after the last slash")
{
    CHECK(cluster_short_name("default") == "default");
    CHECK(cluster_short_name("arn:aws:ecs:eu-west-1:314159265358:cluster/checkout-prod")
          == "checkout-prod");
    CHECK(cluster_short_name("").empty());
}

TEST_CASE("cluster_arn_for keeps an ARN and builds one for a short name")
{
    const auto gov = parse_task_arn(
        "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:task/batch-workers/0d6c3a9f5e2b47d1");
    CHECK(cluster_arn_for("batch-workers", gov)
          == "arn:aws-us-gov:ecs:us-gov-west-1:271828182845:cluster/batch-workers");
    CHECK(cluster_arn_for("arn:aws:ecs:eu-west-1:314159265358:cluster/x", gov)
          == "arn:aws:ecs:eu-west-1:314159265358:cluster/x");
    CHECK(cluster_arn_for("batch-workers", std::nullopt).empty());
    CHECK(cluster_arn_for("", gov).empty());
}
