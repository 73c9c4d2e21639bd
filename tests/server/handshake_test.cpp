// Refusals of the /v1/stream handshake: plain HTTP answers with a JSON error body.
#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

class Handshake : public ServerTest {
 protected:
  void SetUp() override { start(); }
  HttpResult refused(const WsClient::Options& o) {
    auto [client, res] = WsClient::connect(port_, o);
    EXPECT_FALSE(client) << "upgrade unexpectedly accepted";
    EXPECT_EQ(res.header("Content-Type"), "application/json");
    return res;
  }
};

TEST_F(Handshake, TokenInQueryIs400) {
  const auto token = server_->issue_token("u1", std::chrono::hours(1));
  for (const char* q : {"?token=", "?access_token=", "?x=1&jwt="}) {
    const auto r = refused({"/v1/stream" + std::string(q) + token, bearer("u1")});
    EXPECT_EQ(r.status, 400U) << q;
    EXPECT_EQ(r.body, R"({"error":"bad_request"})");
  }
}

TEST_F(Handshake, BadTokenIs401InvalidToken) {
  for (const char* auth : {"Bearer nonsense", "Bearer a.b.c", "Basic dTpw", "Bearer"}) {
    const auto r = refused({"/v1/stream", {{"Authorization", auth}}});
    EXPECT_EQ(r.status, 401U) << auth;
    EXPECT_EQ(r.body, R"({"error":"invalid_token"})") << auth;
  }
}

TEST_F(Handshake, ExpiredTokenIs401TokenExpired) {
  const auto r = refused({"/v1/stream", bearer("u1", std::chrono::seconds(-60))});
  EXPECT_EQ(r.status, 401U);
  EXPECT_EQ(r.body, R"({"error":"token_expired"})");
}

TEST_F(Handshake, MissingSubprotocolIs400) {
  WsClient::Options o{"/v1/stream", bearer("u1"), ""};
  auto r = refused(o);
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, R"({"error":"bad_request"})");
  o.subprotocols = "herald.v2, chat";
  EXPECT_EQ(refused(o).status, 400U);
}

TEST_F(Handshake, MalformedLastSeenIdIs400) {
  for (const char* v : {"abc", "-1", "1.5", "99999999999999999999"}) {
    auto h = bearer("u1");
    h.emplace_back("Herald-Last-Seen-Id", v);
    EXPECT_EQ(refused({"/v1/stream", h}).status, 400U) << v;
  }
}

TEST_F(Handshake, UnknownPathIs404AndPlainGetIs400) {
  const auto r = refused({"/v1/elsewhere", bearer("u1")});
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, R"({"error":"not_found"})");
  const auto plain = http_request(port_, "GET", "/v1/stream", bearer("u1"));
  EXPECT_EQ(plain.status, 400U);
  EXPECT_EQ(plain.json()["error"], "bad_request");
}

TEST_F(Handshake, SubprotocolIsEchoed) {
  auto [client, res] = WsClient::connect(port_, {"/v1/stream", bearer("u1"), "chat, herald.v1"});
  ASSERT_TRUE(client) << res.status << " " << res.body;
  EXPECT_EQ(res.status, 101U);
  EXPECT_EQ(client->selected_subprotocol(), "herald.v1");
}

}  // namespace
}  // namespace herald::server::testing
