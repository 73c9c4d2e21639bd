// In-band token refresh: {"type":"reauth","token":...} on a live stream. The features
// advertised, reauth_ok with the new expiry, the expiry moved (4001 at the new exp +
// leeway, not the old), every kind of bad token refused with error + 4003, revocation
// checks following the new token, the option switched off (ignored), and a stream that
// is not disturbed by reauths (every notification once, in order).
#include <atomic>
#include <jwt/jwt.hpp>
#include <thread>
#include <vector>

#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;
using SystemClock = std::chrono::system_clock;

struct IssuedToken {
  std::string token;
  std::int64_t expires_at = 0;  // unix seconds, as POST /v1/tokens reports it
};

SystemClock::time_point at_unix_s(std::int64_t s) { return SystemClock::time_point(std::chrono::seconds(s)); }

class Reauth : public ServerTest {
 protected:
  // leeway 1 s: short tokens expire soon after their exp second.
  static ServerOptions short_leeway() {
    auto o = default_options();
    o.leeway = 1s;
    return o;
  }
  IssuedToken issue(const std::string& user, std::int64_t ttl_s) {
    const auto r =
        http_request(port_, "POST", "/v1/tokens", admin(), nlohmann::json{{"user_id", user}, {"ttl_s", ttl_s}}.dump());
    EXPECT_EQ(r.status, 200U) << r.body;
    return {r.json()["token"].get<std::string>(), r.json()["expires_at"].get<std::int64_t>()};
  }
  // A stream opened with `token`, past welcome (returned in *welcome) and caught_up
  // (unless a cursor asks for a replay).
  std::unique_ptr<WsClient> open(const std::string& token, nlohmann::json* welcome = nullptr,
                                 std::optional<std::uint64_t> cursor = std::nullopt) {
    Headers h{{"Authorization", "Bearer " + token}};
    if (cursor) h.emplace_back("Herald-Last-Seen-Id", std::to_string(*cursor));
    auto [client, res] = WsClient::connect(port_, {"/v1/stream", h});
    EXPECT_TRUE(client) << res.status << " " << res.body;
    if (!client) return nullptr;
    const auto w = client->read_json();
    EXPECT_EQ(w["type"], "welcome");
    if (welcome != nullptr) *welcome = w;
    if (!cursor) {
      EXPECT_EQ(client->read_json()["type"], "caught_up");
    }
    return std::move(client);
  }
  static void send_reauth(WsClient& c, const std::string& token) {
    c.send_text(nlohmann::json{{"type", "reauth"}, {"token", token}}.dump());
  }
  // The stream answers `frame` with error `code` and closes 4003.
  void expect_refused(const std::string& frame, const std::string& code, int line = __builtin_LINE()) {
    SCOPED_TRACE("called from line " + std::to_string(line));
    auto c = open(server_->issue_token("u1", 1h));
    ASSERT_TRUE(c);
    c->send_text(frame);
    const auto e = c->read_json();
    EXPECT_EQ(e["type"], "error");
    EXPECT_EQ(e["code"], code);
    EXPECT_TRUE(e["message"].is_string());
    const auto close = c->read_until_close();
    EXPECT_EQ(close.code, 4003);
    EXPECT_EQ(close.reason, code);
  }
  static std::string signed_token(const std::string& secret, const std::string& sub, std::int64_t iat_s,
                                  std::int64_t ttl_s, std::optional<std::int64_t> iat_ms = std::nullopt) {
    using namespace jwt::params;
    jwt::jwt_object obj{algorithm("HS256"), jwt::params::secret(secret)};
    obj.add_claim("sub", sub).add_claim("iat", iat_s).add_claim("exp", iat_s + ttl_s);
    if (iat_ms) obj.add_claim("iat_ms", *iat_ms);
    return obj.signature();
  }
  static std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(SystemClock::now().time_since_epoch()).count();
  }
};

TEST_F(Reauth, FeaturesAdvertised) {
  start();
  nlohmann::json w;
  ASSERT_TRUE(open(server_->issue_token("u1", 1h), &w));
  EXPECT_EQ(w["features"], nlohmann::json({"reauth", "drain"}));
  server_->stop();

  auto o = default_options();
  o.reauth = false;
  start(o);
  ASSERT_TRUE(open(server_->issue_token("u1", 1h), &w));
  EXPECT_EQ(w["features"], nlohmann::json({"drain"}));
}

TEST_F(Reauth, ReauthOkCarriesTheNewExpiry) {
  start();
  auto c = open(server_->issue_token("u1", 1h));
  ASSERT_TRUE(c);
  const auto next = issue("u1", 7200);
  send_reauth(*c, next.token);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "reauth_ok"}, {"expires_at", next.expires_at}}));
  // A token with an earlier exp is accepted too: the stream now runs on it.
  const auto shorter = issue("u1", 600);
  send_reauth(*c, shorter.token);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "reauth_ok"}, {"expires_at", shorter.expires_at}}));
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(c->read_json()["id"], id);
  EXPECT_EQ(server_->connection_count(), 1U);
}

// The stream outlives its first token's exp + leeway and is closed 4001 at the new
// token's exp + leeway. No sleeps: a second stream whose token expires a second after
// the first one's is the clock (its 4001 says the old deadline has passed).
TEST_F(Reauth, MovesTheExpiry) {
  start(short_leeway());
  const auto first = issue("u1", 1);
  const auto witness_token = issue("u1", 2);
  auto c = open(first.token);
  auto witness = open(witness_token.token);
  ASSERT_TRUE(c && witness);

  const auto next = issue("u1", 4);
  send_reauth(*c, next.token);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "reauth_ok"}, {"expires_at", next.expires_at}}));

  EXPECT_EQ(witness->read_until_close().code, 4001);
  const auto old_deadline = at_unix_s(first.expires_at) + 1s;
  ASSERT_GT(SystemClock::now(), old_deadline);  // the witness expired after the first token
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(c->read_json()["id"], id);  // still streaming

  const auto close = c->read_until_close();
  const auto closed_at = SystemClock::now();
  EXPECT_EQ(close.code, 4001);
  EXPECT_EQ(close.reason, "token expired");
  const auto new_deadline = at_unix_s(next.expires_at) + 1s;
  EXPECT_GE(closed_at, new_deadline - 100ms);  // timer granularity and clock reads
  EXPECT_LT(closed_at, new_deadline + 3s);
}

TEST_F(Reauth, AnotherUsersTokenIsForbidden) {
  start();
  expect_refused(R"({"type":"reauth","token":")" + server_->issue_token("u2", 1h) + "\"}", "forbidden");
}

TEST_F(Reauth, ExpiredTokenIsRefused) {
  start();
  expect_refused(R"({"type":"reauth","token":")" + server_->issue_token("u1", -60s) + "\"}", "token_expired");
}

TEST_F(Reauth, InvalidTokensAreRefused) {
  start();
  const auto forged = signed_token("another-secret", "u1", now_s(), 3600);
  const auto good = server_->issue_token("u1", 1h);
  std::string tampered = good;  // one signature character changed (a full 6-bit one)
  char& sig_char = tampered[tampered.size() - 10];
  sig_char = sig_char == 'A' ? 'B' : 'A';
  for (const std::string& frame :
       {std::string(R"({"type":"reauth","token":"nope"})"), std::string(R"({"type":"reauth","token":"a.b.c"})"),
        std::string(R"({"type":"reauth","token":""})"), std::string(R"({"type":"reauth"})"),
        std::string(R"({"type":"reauth","token":42})"), std::string(R"({"type":"reauth","token":null})"),
        std::string(R"({"type":"reauth","token":["x"]})"), R"({"type":"reauth","token":")" + forged + "\"}",
        R"({"type":"reauth","token":")" + tampered + "\"}",
        R"({"type":"reauth","token":")" + std::string(9000, 'a') + "\"}"}) {
    SCOPED_TRACE(frame.substr(0, 60));
    expect_refused(frame, "invalid_token");
  }
}

TEST_F(Reauth, TokenIssuedBeforeARevokeIsRefused) {
  start();
  const auto old_token = server_->issue_token("u1", 1h);
  server_->revoke("u1");
  auto c = open(server_->issue_token("u1", 1h));  // issued after the revoke: valid
  ASSERT_TRUE(c);
  send_reauth(*c, old_token);
  const auto e = c->read_json();
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["code"], "token_revoked");
  EXPECT_EQ(c->read_until_close().code, 4003);
}

// Revocation checks follow the stream's current token: after a reauth with a token
// issued (per its iat_ms) after a revoke, that revoke leaves the stream alone, while a
// stream still on the old token is closed.
TEST_F(Reauth, RevocationChecksFollowTheNewToken) {
  start();
  const auto old_token = server_->issue_token("u1", 1h);
  auto c = open(old_token);
  auto stays_on_old = open(old_token);
  ASSERT_TRUE(c && stays_on_old);
  const auto iat_s = now_s() + 2;  // "issued" 2 s from now: after the revoke below
  send_reauth(*c, signed_token(kSecret, "u1", iat_s, 3600, iat_s * 1000));
  EXPECT_EQ(c->read_json()["type"], "reauth_ok");

  server_->revoke("u1");
  EXPECT_EQ(stays_on_old->read_json()["code"], "token_revoked");
  EXPECT_EQ(stays_on_old->read_until_close().code, 4003);
  const auto id = server_->publish("u1", "t", "{}");  // fanned out after the revoke notice
  EXPECT_EQ(c->read_json()["id"], id);
}

// ServerOptions::reauth false: a server without in-band refresh. A reauth is ignored
// like any unknown client message: no answer, and the expiry does not move.
TEST_F(Reauth, DisabledIgnoresReauth) {
  auto o = short_leeway();
  o.reauth = false;
  start(o);
  const auto first = issue("u1", 1);
  auto c = open(first.token);
  ASSERT_TRUE(c);
  send_reauth(*c, issue("u1", 3600).token);
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(c->read_json()["id"], id);  // the next frame: no reauth_ok, no error
  const auto close = c->read_until_close();
  EXPECT_EQ(close.code, 4001);
  EXPECT_LT(SystemClock::now(), at_unix_s(first.expires_at) + 1s + 3s);  // the old deadline
}

// Before welcome (browser fallback, no Authorization header) only an auth frame is
// accepted: a reauth there is "not an auth frame", 4401.
TEST_F(Reauth, BeforeWelcomeIs4401) {
  start();
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
  ASSERT_TRUE(c) << res.status;
  send_reauth(*c, server_->issue_token("u1", 1h));
  EXPECT_EQ(c->read_until_close().code, 4401);
}

// Reauths during the replay and during live fan-out: every notification arrives once,
// in order, and every reauth gets its reauth_ok.
TEST_F(Reauth, StreamIsNotDisturbed) {
  start();
  constexpr int kLive = 300;
  std::vector<std::uint64_t> expected;
  expected.reserve(600 + kLive);
  for (int i = 0; i < 600; ++i) expected.push_back(server_->publish("u1", "t", "{}"));  // > 2 replay pages
  auto c = open(server_->issue_token("u1", 1h), nullptr, 0);
  ASSERT_TRUE(c);
  send_reauth(*c, server_->issue_token("u1", 2h));
  int reauths_sent = 1;

  std::vector<std::uint64_t> live(kLive);
  std::thread publisher([&] {
    for (int i = 0; i < kLive; ++i) live[static_cast<std::size_t>(i)] = server_->publish("u1", "t", "{}");
  });
  std::vector<std::uint64_t> got;
  int reauth_oks = 0;
  int caught_up = 0;
  const auto total = expected.size() + kLive;
  while (got.size() < total || reauth_oks < reauths_sent) {
    nlohmann::json f;
    try {
      f = c->read_json();
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what() << " after " << got.size() << " notifications";
      break;
    }
    const auto type = f["type"].get<std::string>();
    if (type == "notification") {
      got.push_back(f["id"].get<std::uint64_t>());
      if (got.size() % 100 == 0) {
        send_reauth(*c, server_->issue_token("u1", 2h));
        ++reauths_sent;
      }
    } else if (type == "reauth_ok") {
      ++reauth_oks;
    } else if (type == "caught_up") {
      ++caught_up;
    } else {
      ADD_FAILURE() << "unexpected frame " << f.dump();
    }
  }
  publisher.join();
  expected.insert(expected.end(), live.begin(), live.end());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(reauth_oks, reauths_sent);
  EXPECT_EQ(caught_up, 1);
  const auto sentinel = server_->publish("u1", "t", "{}");  // nothing else pending
  EXPECT_EQ(c->read_json()["id"], sentinel);
}

// A client sending reauths back to back costs the server one token check each, at the
// client's own pace; the stream keeps working.
TEST_F(Reauth, BackToBackReauths) {
  start();
  auto c = open(server_->issue_token("u1", 1h));
  ASSERT_TRUE(c);
  const auto next = issue("u1", 7200);
  constexpr int kCount = 1000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kCount; ++i) send_reauth(*c, next.token);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(c->read_json()["type"], "reauth_ok") << i;
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, 10s);
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(c->read_json()["id"], id);
}

}  // namespace
}  // namespace herald::server::testing
