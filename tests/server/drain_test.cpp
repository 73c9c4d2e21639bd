// Drain for rolling deploys: announcement to open streams, 503 for new handshakes,
// publish still delivered, 1001 at the end of the window, wait_drained(), admin API.
#include <algorithm>

#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;

class Drain : public ServerTest {
 protected:
  // An open stream, past welcome and caught_up.
  std::unique_ptr<WsClient> open(const std::string& user) {
    auto [client, res] = WsClient::connect(port_, {"/v1/stream", bearer(user)});
    EXPECT_TRUE(client) << res.status << " " << res.body;
    if (!client) return nullptr;
    welcome_ = client->read_json();
    EXPECT_EQ(welcome_["type"], "welcome");
    EXPECT_EQ(client->read_json()["type"], "caught_up");
    return std::move(client);
  }
  HttpResult post(const std::string& target, const std::string& body, const Headers& h = admin()) {
    return http_request(port_, "POST", target, h, body);
  }
  nlohmann::json welcome_;
};

TEST_F(Drain, WelcomeAdvertisesDrain) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  const auto& features = welcome_["features"];
  ASSERT_TRUE(features.is_array());
  EXPECT_NE(std::find(features.begin(), features.end(), "drain"), features.end()) << features.dump();
  EXPECT_FALSE(server_->draining());
}

TEST_F(Drain, AnnouncesRefusesNewStreamsAndKeepsDelivering) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  ASSERT_TRUE(await_connections(1));
  EXPECT_EQ(server_->drain(60s), 60s);
  EXPECT_TRUE(server_->draining());
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "drain"}, {"reconnect_within_ms", 60000}}));

  // New stream handshakes are refused, with a Retry-After.
  auto [refused, res] = WsClient::connect(port_, {"/v1/stream", bearer("u2")});
  EXPECT_FALSE(refused);
  EXPECT_EQ(res.status, 503U);
  EXPECT_EQ(res.body, R"({"error":"draining"})");
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  EXPECT_EQ(res.header("Retry-After"), "5");  // capped: the window is longer

  // Admin HTTP still works; publish still reaches the open stream.
  const auto r = post("/v1/users/u1/notifications", R"({"topic":"t","data":{"x":1}})");
  ASSERT_EQ(r.status, 201U) << r.body;
  const auto n = c->read_json();
  EXPECT_EQ(n["type"], "notification");
  EXPECT_EQ(n["id"], r.json()["id"]);
  const auto id = server_->publish("u1", "t", "{}");
  EXPECT_EQ(c->read_json()["id"], id);
  EXPECT_EQ(server_->connection_count(), 1U);
  EXPECT_FALSE(server_->wait_drained_for(0ms));
}

TEST_F(Drain, WindowEndClosesWith1001AndEndsTheWait) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  ASSERT_TRUE(await_connections(1));
  const auto t0 = std::chrono::steady_clock::now();
  server_->drain(300ms);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "drain"}, {"reconnect_within_ms", 300}}));
  const auto close = c->read_until_close();
  EXPECT_EQ(close.code, 1001);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  EXPECT_TRUE(server_->wait_drained_for(kTestTimeout));
  EXPECT_TRUE(await_connections(0));
}

TEST_F(Drain, WaitDrainedReturnsOnceTheLastStreamLeft) {
  start();
  auto a = open("u1");
  auto b = open("u2");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(await_connections(2));
  EXPECT_FALSE(server_->wait_drained_for(0ms));  // not draining
  const auto t0 = std::chrono::steady_clock::now();
  server_->drain(10min);
  EXPECT_EQ(a->read_json()["type"], "drain");
  EXPECT_EQ(b->read_json()["type"], "drain");
  a->close();
  EXPECT_TRUE(await_connections(1));
  EXPECT_FALSE(server_->wait_drained_for(0ms));  // b is still there
  b->close();
  EXPECT_TRUE(server_->wait_drained_for(kTestTimeout));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, kTestTimeout);  // long before the window
  server_->wait_drained();                                         // returns at once now
}

TEST_F(Drain, WithoutStreamsIsDrainedAtOnce) {
  start();
  server_->drain(10min);
  EXPECT_TRUE(server_->wait_drained_for(0ms));
}

TEST_F(Drain, StopWakesTheWaiter) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  ASSERT_TRUE(await_connections(1));
  server_->drain(10min);
  EXPECT_EQ(c->read_json()["type"], "drain");
  EXPECT_FALSE(server_->wait_drained_for(0ms));
  std::thread stopper([this] { server_->stop(); });
  EXPECT_TRUE(server_->wait_drained_for(kTestTimeout));
  EXPECT_EQ(c->read_until_close().code, 1001);
  stopper.join();
}

TEST_F(Drain, SecondCallNeitherExtendsNorShortens) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  ASSERT_TRUE(await_connections(1));
  server_->drain(400ms);
  EXPECT_LE(server_->drain(10min), 400ms);
  EXPECT_LE(server_->drain(0ms), 400ms);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "drain"}, {"reconnect_within_ms", 400}}));
  EXPECT_EQ(c->read_until_close().code, 1001);  // after 400 ms, not 10 min
}

TEST_F(Drain, ZeroWindowClosesAtOnceWithoutAnnouncement) {
  start();
  auto c = open("u1");
  ASSERT_TRUE(c);
  ASSERT_TRUE(await_connections(1));
  server_->drain(0ms);
  EXPECT_EQ(c->read_until_close().code, 1001);
  EXPECT_TRUE(server_->wait_drained_for(kTestTimeout));
}

TEST_F(Drain, AuthFrameClientGetsWelcomeThenDrain) {
  start();
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});  // upgraded before the drain
  ASSERT_TRUE(c) << res.status;
  server_->drain(60s);
  c->send_text(R"({"type":"auth","token":")" + server_->issue_token("u1", 1h) + "\"}");
  EXPECT_EQ(c->read_json()["type"], "welcome");
  const auto d = c->read_json();
  EXPECT_EQ(d["type"], "drain");
  EXPECT_GT(d["reconnect_within_ms"].get<std::int64_t>(), 0);
  EXPECT_LE(d["reconnect_within_ms"].get<std::int64_t>(), 60000);
  EXPECT_EQ(c->read_json()["type"], "caught_up");
}

TEST_F(Drain, BoundsAreChecked) {
  auto o = default_options();
  o.drain_window = 10min + 1ms;
  EXPECT_THROW(Server{o}, std::invalid_argument);
  o.drain_window = -1ms;
  EXPECT_THROW(Server{o}, std::invalid_argument);
  start();
  EXPECT_THROW(server_->drain(-1ms), std::invalid_argument);
  EXPECT_THROW(server_->drain(10min + 1ms), std::invalid_argument);
  EXPECT_FALSE(server_->draining());
}

TEST_F(Drain, AdminEndpoint) {
  auto o = default_options();
  o.drain_window = 4321ms;
  start(o);
  EXPECT_EQ(post("/v1/admin/drain", "", {}).status, 401U);
  EXPECT_EQ(http_request(port_, "GET", "/v1/admin/drain", admin()).status, 405U);
  for (const char* bad : {R"({"window_ms":-1})", R"({"window_ms":600001})", R"({"window_ms":"1"})",
                          R"({"window_ms":1.5})", "[]", "nope"}) {
    const auto r = post("/v1/admin/drain", bad);
    EXPECT_EQ(r.status, 400U) << bad;
    EXPECT_EQ(r.json()["error"], "bad_request") << bad;
  }
  EXPECT_FALSE(server_->draining());
  const auto r = post("/v1/admin/drain", "");
  ASSERT_EQ(r.status, 202U) << r.body;
  EXPECT_EQ(r.json(), nlohmann::json({{"draining", true}, {"window_ms", 4321}}));
  EXPECT_TRUE(server_->draining());
  // A second call reports the window in effect (what is left of it).
  const auto again = post("/v1/admin/drain", R"({"window_ms":600000})");
  ASSERT_EQ(again.status, 202U);
  EXPECT_LE(again.json()["window_ms"].get<std::int64_t>(), 4321);
  EXPECT_EQ(http_request(port_, "GET", "/healthz").status, 200U);
}

TEST_F(Drain, AdminEndpointWithWindow) {
  start();
  const auto r = http_request(port_, "POST", "/v1/admin/drain", admin(), R"({"window_ms":1234})");
  ASSERT_EQ(r.status, 202U) << r.body;
  EXPECT_EQ(r.json(), nlohmann::json({{"draining", true}, {"window_ms", 1234}}));
  auto [refused, res] = WsClient::connect(port_, {"/v1/stream", bearer("u1")});
  EXPECT_FALSE(refused);
  EXPECT_EQ(res.status, 503U);
  const auto retry_after = res.header("Retry-After");  // ceil(remaining s), at least 1
  EXPECT_TRUE(retry_after == "2" || retry_after == "1") << retry_after;
}

}  // namespace
}  // namespace herald::server::testing
