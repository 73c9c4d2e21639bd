// Token revocation: live streams closed with 4003, old tokens refused with 403
// token_revoked, tokens issued afterwards accepted (also within the same second), and
// the revocation survives a restart on the same database file.
#include <unistd.h>

#include <filesystem>
#include <jwt/jwt.hpp>
#include <random>

#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;

class Revoke : public ServerTest {
 protected:
  std::pair<std::unique_ptr<WsClient>, HttpResult> connect(const std::string& token) {
    return WsClient::connect(port_, {"/v1/stream", {{"Authorization", "Bearer " + token}}});
  }
  // An open stream, past welcome and caught_up.
  std::unique_ptr<WsClient> open(const std::string& token) {
    auto [client, res] = connect(token);
    EXPECT_TRUE(client) << res.status << " " << res.body;
    if (!client) return nullptr;
    EXPECT_EQ(client->read_json()["type"], "welcome");
    EXPECT_EQ(client->read_json()["type"], "caught_up");
    return std::move(client);
  }
  void expect_revoked(const std::string& token, int line = __builtin_LINE()) {
    SCOPED_TRACE("called from line " + std::to_string(line));
    auto [client, res] = connect(token);
    EXPECT_FALSE(client);
    EXPECT_EQ(res.status, 403U);
    EXPECT_EQ(res.body, R"({"error":"token_revoked"})");
    EXPECT_EQ(res.header("Content-Type"), "application/json");
  }
  // A token signed like an external issuer would: no iat_ms claim.
  static std::string external_token(const std::string& sub, std::int64_t iat) {
    using namespace jwt::params;
    jwt::jwt_object obj{algorithm("HS256"), secret(kSecret)};
    obj.add_claim("sub", sub).add_claim("iat", iat).add_claim("exp", iat + 3600);
    return obj.signature();
  }
};

TEST_F(Revoke, ClosesLiveStreamsWith4003AndRefusesOldTokens) {
  start();
  const auto old_token = server_->issue_token("u1", 1h);
  auto a = open(old_token);
  auto other = open(server_->issue_token("u2", 1h));
  ASSERT_TRUE(a && other);
  ASSERT_TRUE(await_connections(2));

  server_->revoke("u1");
  const auto e = a->read_json();
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["code"], "token_revoked");
  const auto close = a->read_until_close();
  EXPECT_EQ(close.code, 4003);
  EXPECT_EQ(close.reason, "token_revoked");
  EXPECT_TRUE(await_connections(1));

  expect_revoked(old_token);
  // Issued right after the revoke (usually within the same second): valid.
  auto fresh = open(server_->issue_token("u1", 1h));
  ASSERT_TRUE(fresh);
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(fresh->read_json()["id"], id);
  // Other users are not affected.
  const auto id2 = server_->publish("u2", "t", "{}");
  EXPECT_EQ(other->read_json()["id"], id2);
}

// The server closes (here: revoke) while a client frame is half read, and the rest of
// the frame then fails the connection (not UTF-8). Beast 1.81 then parks both the
// server's close (holding the write lock, waiting for the read lock) and its read
// (holding the read lock, waiting for the write lock to send 1007): nothing wakes
// them: the session stayed forever (and stop() waited 5 s for it). The close grace
// ends it now.
TEST_F(Revoke, AClientFrameFailingUnderTheServersCloseDoesNotLeaveTheSessionBehind) {
  start();
  auto client = open(server_->issue_token("alice", 1h));
  ASSERT_TRUE(client);
  ASSERT_TRUE(await_connections(1));
  // The header of a masked 10-byte text frame (mask key 0: the payload goes as is).
  client->send_raw(std::string("\x81\x8a\x00\x00\x00\x00", 6));
  server_->revoke("alice");
  EXPECT_EQ(client->read_raw_until_close_frame(), 4003);
  client->send_raw(std::string(10, '\xff'));
  // The client neither answers the close nor goes: only the server can end it. Drained
  // means no WebSocket session is left, of any phase (the live count dropped at 4003).
  server_->drain(std::chrono::minutes(1));
  EXPECT_TRUE(server_->wait_drained_for(kTestTimeout)) << "the session stayed after its close wedged";
}

TEST_F(Revoke, AdminEndpoint) {
  start();
  const auto old_token = server_->issue_token("u1", 1h);
  EXPECT_EQ(http_request(port_, "POST", "/v1/users/u1/revoke", {}).status, 401U);
  EXPECT_EQ(http_request(port_, "GET", "/v1/users/u1/revoke", admin()).status, 405U);
  EXPECT_EQ(http_request(port_, "POST", "/v1/users/bad%20id/revoke", admin()).status, 400U);
  EXPECT_EQ(http_request(port_, "POST", "/v1/users/a/b/revoke", admin()).status, 404U);
  const auto before =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto r = http_request(port_, "POST", "/v1/users/u1/revoke", admin());
  ASSERT_EQ(r.status, 200U) << r.body;
  const auto j = r.json();
  EXPECT_GE(j["revoked_before"].get<std::int64_t>(), before);
  EXPECT_LE(j["revoked_before"].get<std::int64_t>(), before + 5);
  EXPECT_EQ(j["revoked_before_ms"].get<std::int64_t>() / 1000, j["revoked_before"].get<std::int64_t>());
  expect_revoked(old_token);
  // A token from POST /v1/tokens after the revoke works.
  const auto t = http_request(port_, "POST", "/v1/tokens", admin(), R"({"user_id":"u1"})");
  ASSERT_EQ(t.status, 200U);
  EXPECT_TRUE(open(t.json()["token"].get<std::string>()));
}

// Tokens without iat_ms (other issuers) are compared by their iat second, on the safe
// side: issued in the revoke's second or before -> revoked; a later second -> valid.
TEST_F(Revoke, TokensWithoutIatMsAreComparedBySecond) {
  start();
  const std::int64_t at_s = server_->revoke("u1") / 1000;
  expect_revoked(external_token("u1", at_s));
  expect_revoked(external_token("u1", at_s - 1));
  EXPECT_TRUE(open(external_token("u1", at_s + 1)));
  {
    using namespace jwt::params;  // no iat at all: cannot prove it is newer
    jwt::jwt_object obj{algorithm("HS256"), secret(kSecret)};
    obj.add_claim("sub", "u1").add_claim("exp", at_s + 3600);
    expect_revoked(obj.signature());
  }
  // Never revoked users are not affected by any of this.
  EXPECT_TRUE(open(external_token("u2", at_s - 10)));
}

TEST_F(Revoke, AuthFrameWithRevokedTokenGetsErrorThen4003) {
  start();
  const auto old_token = server_->issue_token("u1", 1h);
  server_->revoke("u1");
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
  ASSERT_TRUE(c) << res.status;
  c->send_text(R"({"type":"auth","token":")" + old_token + "\"}");
  const auto e = c->read_json();
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["code"], "token_revoked");
  EXPECT_EQ(c->read_until_close().code, 4003);
}

TEST_F(Revoke, RepeatedRevokeAndBadUserId) {
  start();
  const auto first = server_->revoke("u1");
  const auto mid = server_->issue_token("u1", 1h);
  const auto second = server_->revoke("u1");
  EXPECT_GE(second, first);
  expect_revoked(mid);
  EXPECT_THROW(server_->revoke("bad id"), std::invalid_argument);
  EXPECT_THROW(server_->revoke(""), std::invalid_argument);
}

TEST_F(Revoke, SurvivesRestartOnTheSameFile) {
  std::random_device rd;
  const auto path = std::filesystem::temp_directory_path() /
                    ("herald-revoke-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db");
  auto o = default_options();
  o.db_path = path.string();
  start(o);
  const auto old_token = server_->issue_token("u1", 1h);
  server_->revoke("u1");
  server_->stop();
  server_ = std::make_unique<Server>(o);
  port_ = server_->start();
  expect_revoked(old_token);
  EXPECT_TRUE(open(server_->issue_token("u1", 1h)));
  server_->stop();
  server_.reset();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
}

}  // namespace
}  // namespace herald::server::testing
