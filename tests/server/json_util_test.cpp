// I/O-free helpers: bounded JSON, ids, query strings, subprotocols, resume planning.
#include <gtest/gtest.h>

#include <string>

#include "frames.hpp"
#include "json_util.hpp"
#include "stream_request.hpp"

namespace herald::server::detail {
namespace {

TEST(BoundedJson, AcceptsDepthUpToTheLimit) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_NO_THROW(parse_bounded_json(ok));
  const std::string deep = std::string(65, '[') + std::string(65, ']');
  EXPECT_THROW(parse_bounded_json(deep), JsonError);
}

TEST(BoundedJson, HugeNestingIsRefusedWithoutCrashing) {
  const std::string deep(1'000'000, '[');
  EXPECT_THROW(parse_bounded_json(deep), JsonError);
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += R"({"a":)";
    return s;
  }();
  EXPECT_THROW(parse_bounded_json(objects), JsonError);
}

TEST(BoundedJson, InvalidJsonMessageDoesNotQuoteInput) {
  try {
    parse_bounded_json("{\"secret-value\": ");
    FAIL();
  } catch (const JsonError& e) {
    EXPECT_EQ(std::string(e.what()).find("secret-value"), std::string::npos);
  }
}

TEST(UserIds, Validation) {
  EXPECT_TRUE(is_valid_user_id("u1"));
  EXPECT_TRUE(is_valid_user_id("alice.smith_2@example-corp"));
  EXPECT_TRUE(is_valid_user_id(std::string(128, 'a')));
  EXPECT_FALSE(is_valid_user_id(""));
  EXPECT_FALSE(is_valid_user_id(std::string(129, 'a')));
  EXPECT_FALSE(is_valid_user_id("a b"));
  EXPECT_FALSE(is_valid_user_id("a/b"));
  EXPECT_FALSE(is_valid_user_id("é"));
}

TEST(StreamRequest, CredentialsInQuery) {
  EXPECT_FALSE(query_carries_credentials("/v1/stream"));
  EXPECT_FALSE(query_carries_credentials("/v1/stream?x=1&tokens=2"));
  EXPECT_TRUE(query_carries_credentials("/v1/stream?token=abc"));
  EXPECT_TRUE(query_carries_credentials("/v1/stream?x=1&access_token=abc"));
  EXPECT_TRUE(query_carries_credentials("/v1/stream?JWT=abc"));
  EXPECT_TRUE(query_carries_credentials("/v1/stream?tok%65n=abc"));
  EXPECT_TRUE(query_carries_credentials("/v1/stream?token"));
}

TEST(StreamRequest, Subprotocols) {
  EXPECT_TRUE(offers_subprotocol("herald.v1", "herald.v1"));
  EXPECT_TRUE(offers_subprotocol("chat, herald.v1 ,x", "herald.v1"));
  EXPECT_FALSE(offers_subprotocol("herald.v2", "herald.v1"));
  EXPECT_FALSE(offers_subprotocol("", "herald.v1"));
  EXPECT_FALSE(offers_subprotocol("herald.v1x", "herald.v1"));
}

TEST(StreamRequest, LastSeenId) {
  EXPECT_EQ(parse_last_seen_id("0"), 0U);
  EXPECT_EQ(parse_last_seen_id("42"), 42U);
  EXPECT_FALSE(parse_last_seen_id(""));
  EXPECT_FALSE(parse_last_seen_id("-1"));
  EXPECT_FALSE(parse_last_seen_id("12a"));
  EXPECT_FALSE(parse_last_seen_id("99999999999999999999999"));
  EXPECT_FALSE(parse_last_seen_id("9007199254740992"));  // 2^53
}

TEST(StreamRequest, PercentDecode) {
  EXPECT_EQ(percent_decode("a%40b"), "a@b");
  EXPECT_FALSE(percent_decode("a%4"));
  EXPECT_FALSE(percent_decode("a%zz"));
}

TEST(Frames, CreatedAtIsRfc3339UtcWithMillis) {
  EXPECT_EQ(format_rfc3339_millis(1795773600123), "2026-11-27T10:00:00.123Z");
  EXPECT_EQ(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
}

TEST(Frames, ResumePlan) {
  UserStreamState s{57, 0};
  auto fresh = plan_resume(std::nullopt, s, std::nullopt);
  EXPECT_EQ(fresh.status, ResumeStatus::fresh);
  EXPECT_FALSE(fresh.replay);
  EXPECT_EQ(fresh.replay_after, 57U);

  auto ok = plan_resume(40, s, 41);
  EXPECT_EQ(ok.status, ResumeStatus::ok);
  EXPECT_EQ(ok.from_id, 41U);
  EXPECT_EQ(ok.head_id, 57U);

  auto up_to_date = plan_resume(57, s, std::nullopt);
  EXPECT_EQ(up_to_date.status, ResumeStatus::ok);
  EXPECT_FALSE(up_to_date.from_id);

  UserStreamState pruned{57, 45};
  auto gap = plan_resume(40, pruned, 46);
  EXPECT_EQ(gap.status, ResumeStatus::gap);
  EXPECT_EQ(gap.from_id, 46U);
  EXPECT_EQ(plan_resume(45, pruned, 46).status, ResumeStatus::ok);
}

TEST(Frames, NotificationFrame) {
  StoredNotification n{42, "u1", 1795773600123, "comment", R"({"a":1})"};
  const auto j = nlohmann::json::parse(encode_notification(n));
  EXPECT_EQ(j["type"], "notification");
  EXPECT_EQ(j["id"], 42);
  EXPECT_EQ(j["created_at"], "2026-11-27T10:00:00.123Z");
  EXPECT_EQ(j["topic"], "comment");
  EXPECT_EQ(j["data"], nlohmann::json({{"a", 1}}));
}

}  // namespace
}  // namespace herald::server::detail
