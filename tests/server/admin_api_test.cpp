// Admin HTTP API and health endpoint, over real HTTP.
#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

class AdminApi : public ServerTest {
 protected:
  void SetUp() override { start(); }
  HttpResult post(const std::string& target, const std::string& body, const Headers& h = admin()) {
    return http_request(port_, "POST", target, h, body);
  }
};

TEST_F(AdminApi, Healthz) {
  const auto r = http_request(port_, "GET", "/healthz");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.json(), nlohmann::json({{"status", "ok"}}));
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(AdminApi, PublishReturns201WithIncreasingIds) {
  const auto a = post("/v1/users/u1/notifications", R"({"topic":"comment","data":{"text":"hi"}})");
  ASSERT_EQ(a.status, 201U) << a.body;
  const auto b = post("/v1/users/u1/notifications", R"({"topic":"comment"})");
  ASSERT_EQ(b.status, 201U) << b.body;
  EXPECT_GT(b.json()["id"].get<std::uint64_t>(), a.json()["id"].get<std::uint64_t>());
  // Percent-encoded user ids are decoded before validation.
  EXPECT_EQ(post("/v1/users/a%40b.c/notifications", R"({"topic":"t"})").status, 201U);
}

TEST_F(AdminApi, TokensAreIssued) {
  const auto r = post("/v1/tokens", R"({"user_id":"u1","ttl_s":120})");
  ASSERT_EQ(r.status, 200U) << r.body;
  const auto j = r.json();
  EXPECT_TRUE(j["token"].is_string());
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(static_cast<double>(j["expires_at"].get<std::int64_t>()), static_cast<double>(now + 120), 5.0);
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  // The token opens a stream.
  auto [client, res] =
      WsClient::connect(port_, {"/v1/stream", {{"Authorization", "Bearer " + j["token"].get<std::string>()}}});
  ASSERT_TRUE(client) << res.status;
  EXPECT_EQ(client->read_json()["user_id"], "u1");
}

TEST_F(AdminApi, BadAdminKeyIs401) {
  for (const Headers& h : {Headers{}, Headers{{"Authorization", "Bearer wrong"}},
                           Headers{{"Authorization", std::string("Basic ") + kAdminKey}},
                           Headers{{"Authorization", std::string("Bearer ") + kAdminKey + "x"}}}) {
    const auto r = post("/v1/users/u1/notifications", R"({"topic":"t"})", h);
    EXPECT_EQ(r.status, 401U);
    EXPECT_EQ(r.json(), nlohmann::json({{"error", "unauthorized"}}));
    EXPECT_EQ(post("/v1/tokens", R"({"user_id":"u1"})", h).status, 401U);
  }
}

TEST_F(AdminApi, BadBodiesAre400) {
  for (const char* body : {"", "not json", "[1]", R"({"data":{}})", R"({"topic":""})", R"({"topic":5})",
                           R"({"topic":"t","data":[1]})", R"({"topic":"t","data":"x"})", R"({"topic":"has space"})"}) {
    const auto r = post("/v1/users/u1/notifications", body);
    EXPECT_EQ(r.status, 400U) << body;
    EXPECT_EQ(r.json()["error"], "bad_request") << body;
  }
  for (const char* body : {R"({})", R"({"user_id":""})", R"({"user_id":"a b"})", R"({"user_id":"u","ttl_s":"x"})",
                           R"({"user_id":"u","ttl_s":0})"}) {
    EXPECT_EQ(post("/v1/tokens", body).status, 400U) << body;
  }
}

TEST_F(AdminApi, DeepNestingIs400NotACrash) {
  const std::string deep = R"({"topic":"t","data":{"x":)" + std::string(200000, '[') + std::string(200000, ']') + "}}";
  // Over 64 KiB: refused by size first; a smaller deep document by the depth bound.
  EXPECT_EQ(post("/v1/users/u1/notifications", deep).status, 413U);
  const std::string deep_small =
      R"({"topic":"t","data":{"x":)" + std::string(10000, '[') + std::string(10000, ']') + "}}";
  const auto r = post("/v1/users/u1/notifications", deep_small);
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.json()["error"], "bad_request");
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200U);  // still alive
}

TEST_F(AdminApi, BadUserIdIs400) {
  EXPECT_EQ(post("/v1/users/a%20b/notifications", R"({"topic":"t"})").status, 400U);
  EXPECT_EQ(post("/v1/users/" + std::string(129, 'a') + "/notifications", R"({"topic":"t"})").status, 400U);
  EXPECT_EQ(post("/v1/users/a%zz/notifications", R"({"topic":"t"})").status, 400U);
}

TEST_F(AdminApi, UnknownPathAndMethod) {
  const auto r = http_request(port_, "GET", "/nope");
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.json(), nlohmann::json({{"error", "not_found"}}));
  EXPECT_EQ(http_request(port_, "GET", "/v1/tokens", admin()).status, 405U);
}

TEST_F(AdminApi, DirectPublishValidates) {
  EXPECT_THROW(server_->publish("bad user", "t", "{}"), std::invalid_argument);
  EXPECT_THROW(server_->publish("u1", "", "{}"), std::invalid_argument);
  EXPECT_THROW(server_->publish("u1", "t", "[1]"), std::invalid_argument);
  EXPECT_THROW(server_->publish("u1", "t", std::string(100, '[')), std::invalid_argument);
  EXPECT_GT(server_->publish("u1", "t", ""), 0U);
}

TEST(ServerOptionsTest, BadOptionsNameTheField) {
  ServerOptions o;
  o.admin_key = "k";
  try {
    Server s(o);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("jwt_secret"), std::string::npos);
  }
  o.jwt_secret = "s";
  o.retention = 0;
  EXPECT_THROW(Server{o}, std::invalid_argument);
}

}  // namespace
}  // namespace herald::server::testing
