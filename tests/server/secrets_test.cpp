// Secrets are never logged: with the default logger capturing everything at trace
// level, every code path that handles a token or the admin key runs (handshakes with a
// header or an auth frame, refused tokens, in-band reauth good and bad, the admin API
// with the right and a wrong key, token issuance); no log line may then contain a
// token, a token's signature, the JWT secret or the admin key. Error frames, close
// reasons and HTTP bodies seen by the client may not contain a token either (except
// the body of POST /v1/tokens, whose job is to carry one).
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include <jwt/jwt.hpp>

#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;

// Installs a default logger that records every message ("level|message") and restores
// the previous logger and its level when destroyed. Install it before the server starts
// and destroy it after the server stopped: spdlog's default logger is not meant to be
// swapped while other threads log.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()), previous_level_(previous_->level()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l|%v");
    auto logger = std::make_shared<spdlog::logger>("capture", std::move(sink));
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(std::move(logger));
  }
  ~CapturedLog() { restore(); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  void restore() {
    if (!previous_) return;
    spdlog::set_default_logger(previous_);
    previous_->set_level(previous_level_);
    previous_.reset();
  }
  // Call after restore().
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(stream_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
  spdlog::level::level_enum previous_level_;
};

class Secrets : public ServerTest {
 protected:
  // Everything the client was shown that must not carry a token.
  std::vector<std::string> seen_;
  // Tokens (and their signatures) that must appear nowhere.
  std::vector<std::string> tokens_;

  std::string remember(std::string token) {
    tokens_.push_back(token);
    const auto dot = token.rfind('.');
    if (dot != std::string::npos) tokens_.push_back(token.substr(dot + 1));
    return token;
  }
  HttpResult http(const std::string& method, const std::string& target, const Headers& h,
                  const std::string& body = {}) {
    auto r = http_request(port_, method, target, h, body);
    seen_.push_back(r.body);
    return r;
  }
  // A stream with a header token: welcome and caught_up, or the refusal's body.
  std::unique_ptr<WsClient> connect(const std::string& target, const std::string& token) {
    auto [c, res] = WsClient::connect(port_, {target, {{"Authorization", "Bearer " + token}}});
    seen_.push_back(res.body);
    if (c) {
      seen_.push_back(c->read_json().dump());
      seen_.push_back(c->read_json().dump());
    }
    return std::move(c);
  }
  // Sends `frame`, records what comes back until the close, returns the close code.
  std::uint16_t send_until_close(WsClient& c, const std::string& frame) {
    c.send_text(frame);
    for (;;) {
      try {
        seen_.push_back(c.read_json(5s).dump());
      } catch (const std::exception&) {
        break;  // closed (or timed out: the close code below says which)
      }
    }
    const auto close = c.read_until_close(1s);
    seen_.push_back(close.reason);
    return close.code;
  }
  static std::string frame(const std::string& type, const std::string& token) {
    return nlohmann::json{{"type", type}, {"token", token}}.dump();
  }
};

TEST_F(Secrets, NeverInLogsFramesCloseReasonsOrBodies) {
  CapturedLog log;
  start();
  const std::string wrong_key = "wrong-admin-key-0123456789";
  const Headers wrong{{"Authorization", "Bearer " + wrong_key}};

  // Tokens of every kind, issued directly and through the admin API (whose 200 body
  // carries the token: not recorded in seen_).
  const auto revoked = remember(server_->issue_token("u1", 1h));
  EXPECT_EQ(http("POST", "/v1/users/u1/revoke", wrong).status, 401U);
  EXPECT_EQ(http("POST", "/v1/users/u1/revoke", admin()).status, 200U);
  auto issued = http_request(port_, "POST", "/v1/tokens", admin(), R"({"user_id":"u1","ttl_s":600})");
  ASSERT_EQ(issued.status, 200U);
  const auto api_token = remember(issued.json()["token"].get<std::string>());
  EXPECT_EQ(http("POST", "/v1/tokens", wrong, R"({"user_id":"u1"})").status, 401U);
  const auto good = remember(server_->issue_token("u1", 1h));
  const auto good2 = remember(server_->issue_token("u1", 2h));
  const auto expired = remember(server_->issue_token("u1", -1h));
  const auto other_user = remember(server_->issue_token("u2", 1h));
  const auto forged = remember([] {
    using namespace jwt::params;
    jwt::jwt_object obj{algorithm("HS256"), secret("not-the-server-secret")};
    obj.add_claim("sub", "u1").add_claim("exp", std::int64_t{4102444800});
    return obj.signature();
  }());
  const auto garbage = remember("garbage-token-value-0123456789");

  // Handshakes with a header token: accepted, and refused for each reason.
  auto stream = connect("/v1/stream", api_token);
  ASSERT_TRUE(stream);
  for (const auto& t : {expired, forged, revoked, garbage}) EXPECT_FALSE(connect("/v1/stream", t));
  EXPECT_FALSE(connect("/v1/stream?token=" + good, good));  // credential in the URL

  // Auth frames: accepted, and refused for each reason.
  for (const auto& t : {good, expired, forged, revoked, garbage}) {
    auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
    ASSERT_TRUE(c) << res.status;
    if (t == good) {
      c->send_text(frame("auth", t));
      seen_.push_back(c->read_json().dump());  // welcome
      seen_.push_back(c->read_json().dump());  // caught_up
      c->send_text(frame("reauth", good2));
      const auto answer = c->read_json();
      seen_.push_back(answer.dump());
      EXPECT_EQ(answer["type"], "reauth_ok");
      c->close();
    } else {
      EXPECT_NE(send_until_close(*c, frame("auth", t)), 0);
    }
  }

  // In-band reauth: accepted, and refused for each reason.
  stream->send_text(frame("reauth", good2));
  const auto ok = stream->read_json();
  seen_.push_back(ok.dump());
  EXPECT_EQ(ok["type"], "reauth_ok");
  for (const auto& t : {expired, forged, revoked, other_user, garbage}) {
    auto c = connect("/v1/stream", good);
    ASSERT_TRUE(c);
    EXPECT_EQ(send_until_close(*c, frame("reauth", t)), 4003);
  }

  // The rest of the admin API, with the right key and a wrong one.
  EXPECT_EQ(http("POST", "/v1/users/u1/notifications", admin(), R"({"topic":"t"})").status, 201U);
  seen_.push_back(stream->read_json().dump());
  EXPECT_EQ(http("POST", "/v1/users/u1/notifications", wrong, R"({"topic":"t"})").status, 401U);
  EXPECT_EQ(http("POST", "/v1/admin/drain", wrong, R"({"window_ms":0})").status, 401U);
  EXPECT_EQ(http("POST", "/v1/admin/drain", admin(), R"({"window_ms":0})").status, 202U);
  EXPECT_EQ(stream->read_until_close().code, 1001);
  server_->stop();
  log.restore();

  std::vector<std::string> secrets = tokens_;
  secrets.push_back(kSecret);
  secrets.push_back(kAdminKey);
  secrets.push_back(wrong_key);
  const auto lines = log.lines();
  for (const auto& line : lines) {
    for (const auto& secret : secrets) EXPECT_EQ(line.find(secret), std::string::npos) << line;
  }
  for (const auto& text : seen_) {
    for (const auto& secret : secrets) EXPECT_EQ(text.find(secret), std::string::npos) << text;
  }
  // The capture worked at every level, including trace, and saw the paths above.
  const auto count = [&](std::string_view needle) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  EXPECT_GT(count("trace|"), 0);
  EXPECT_GT(count("debug|"), 0);
  EXPECT_GT(count("reauth refused"), 4);
  EXPECT_GE(count("auth frame refused"), 3);  // a revoked one is logged as "token revoked"
  EXPECT_GT(count("stream handshake refused"), 4);
  EXPECT_GT(count("admin request refused"), 3);
}

}  // namespace
}  // namespace herald::server::testing
