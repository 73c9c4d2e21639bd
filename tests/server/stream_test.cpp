// The WebSocket stream: welcome, replay after the cursor, caught_up, live, gaps,
// auth-frame fallback, client protocol errors, shutdown and restart.
#include <sys/resource.h>
#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "server_fixture.hpp"

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;

class Stream : public ServerTest {
 protected:
  std::unique_ptr<WsClient> open(const std::string& user, std::optional<std::uint64_t> cursor = std::nullopt) {
    auto h = bearer(user);
    if (cursor) h.emplace_back("Herald-Last-Seen-Id", std::to_string(*cursor));
    auto [client, res] = WsClient::connect(port_, {"/v1/stream", h});
    EXPECT_TRUE(client) << res.status << " " << res.body;
    return std::move(client);
  }
  std::uint64_t publish(const std::string& user, int i = 0) {
    return server_->publish(user, "comment", R"({"i":)" + std::to_string(i) + "}");
  }
};

std::chrono::microseconds cpu_time_of_this_thread() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return std::chrono::seconds{u.ru_utime.tv_sec + u.ru_stime.tv_sec} +
         std::chrono::microseconds{u.ru_utime.tv_usec + u.ru_stime.tv_usec};
}

// What await_connections() relies on: woken by the count's change, it neither spins
// (a busy wait burns its whole 300 ms on the CPU) nor misses the change.
TEST_F(Stream, WaitingForAConnectionCountSleepsUntilItChanges) {
  start();
  const auto cpu0 = cpu_time_of_this_thread();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(server_->wait_connection_count(1, 300ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 300ms);
  EXPECT_LT(cpu_time_of_this_thread() - cpu0, 30ms) << "the wait spun";
  std::unique_ptr<WsClient> c;
  std::thread opener([&] { c = open("u1"); });
  EXPECT_TRUE(server_->wait_connection_count(1, kTestTimeout));
  opener.join();
  c->close();
  EXPECT_TRUE(server_->wait_connection_count(0, kTestTimeout));
}

TEST_F(Stream, WelcomeThenCaughtUpThenLive) {
  start();
  const auto before = publish("u1");
  auto c = open("u1");
  const auto w = c->read_json();
  EXPECT_EQ(w["type"], "welcome");
  EXPECT_TRUE(std::regex_match(w["session_id"].get<std::string>(), std::regex("s-[0-9a-f]{16,}")));
  EXPECT_EQ(w["user_id"], "u1");
  EXPECT_EQ(w["protocol"], 1);
  EXPECT_EQ(w["heartbeat_s"], 25);
  EXPECT_TRUE(w["token_expires_at"].is_number_integer());
  EXPECT_TRUE(w["features"].is_array());
  EXPECT_EQ(w["resume"]["status"], "fresh");
  EXPECT_TRUE(w["resume"]["from_id"].is_null());
  EXPECT_EQ(w["resume"]["head_id"], before);
  EXPECT_TRUE(std::regex_match(w["resume"]["epoch"].get<std::string>(), std::regex("e-[0-9a-f]{32}")));
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "caught_up"}, {"head_id", before}}));
  EXPECT_TRUE(await_connections(1));

  const auto id = server_->publish("u1", "comment", R"({"text":"hello"})");
  publish("u2");  // someone else's: not delivered
  const auto n = c->read_json();
  EXPECT_EQ(n["type"], "notification");
  EXPECT_EQ(n["id"], id);
  EXPECT_EQ(n["topic"], "comment");
  EXPECT_EQ(n["data"], nlohmann::json({{"text", "hello"}}));
  EXPECT_TRUE(
      std::regex_match(n["created_at"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  const auto next = publish("u1");
  EXPECT_EQ(c->read_json()["id"], next);
  c->close();
  EXPECT_TRUE(await_connections(0));
}

TEST_F(Stream, ReplaysAfterCursorThenCaughtUpThenLive) {
  start();
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(publish("u1", i));
  auto c = open("u1", ids[1]);
  const auto w = c->read_json();
  EXPECT_EQ(w["resume"]["status"], "ok");
  EXPECT_EQ(w["resume"]["from_id"], ids[2]);
  EXPECT_EQ(w["resume"]["head_id"], ids[4]);
  for (int i = 2; i < 5; ++i) {
    const auto n = c->read_json();
    EXPECT_EQ(n["id"], ids[static_cast<std::size_t>(i)]);
    EXPECT_EQ(n["data"]["i"], i);
  }
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "caught_up"}, {"head_id", ids[4]}}));
  const auto live = publish("u1");
  EXPECT_EQ(c->read_json()["id"], live);
}

TEST_F(Stream, CursorAtHeadIsOkWithNothingToReplay) {
  start();
  const auto id = publish("u1");
  auto c = open("u1", id);
  const auto w = c->read_json();
  EXPECT_EQ(w["resume"]["status"], "ok");
  EXPECT_TRUE(w["resume"]["from_id"].is_null());
  EXPECT_EQ(c->read_json()["type"], "caught_up");
}

TEST_F(Stream, GapWhenRetentionExceeded) {
  auto o = default_options();
  o.retention = 3;
  start(o);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(publish("u1", i));
  auto c = open("u1", ids[0]);
  const auto w = c->read_json();
  EXPECT_EQ(w["resume"]["status"], "gap");
  EXPECT_EQ(w["resume"]["from_id"], ids[3]);
  EXPECT_EQ(w["resume"]["head_id"], ids[5]);
  for (std::size_t i = 3; i < 6; ++i) EXPECT_EQ(c->read_json()["id"], ids[i]);
  EXPECT_EQ(c->read_json()["type"], "caught_up");
  // A cursor at the last pruned id is not a gap.
  auto d = open("u1", ids[2]);
  EXPECT_EQ(d->read_json()["resume"]["status"], "ok");
}

// Publishing while a long replay runs: every id exactly once, in order.
TEST_F(Stream, PublishDuringReplayIsDeliveredExactlyOnceInOrder) {
  start();
  std::vector<std::uint64_t> expected;
  for (int i = 0; i < 700; ++i) expected.push_back(publish("u1", i));
  auto c = open("u1", 0);
  std::atomic<bool> go{false};
  std::vector<std::uint64_t> more;
  std::thread publisher([&] {
    while (!go.load()) std::this_thread::yield();
    for (int i = 0; i < 300; ++i) more.push_back(publish("u1", i));
  });
  EXPECT_EQ(c->read_json()["type"], "welcome");
  go = true;
  std::vector<std::uint64_t> got;
  int caught_up = 0;
  for (int i = 0; i < 2000 && (got.size() < 1000 || caught_up == 0); ++i) {
    const auto m = c->read_json();
    if (m["type"] == "caught_up") {
      ++caught_up;
    } else {
      ASSERT_EQ(m["type"], "notification");
      got.push_back(m["id"].get<std::uint64_t>());
    }
  }
  publisher.join();
  expected.insert(expected.end(), more.begin(), more.end());
  EXPECT_EQ(caught_up, 1);
  EXPECT_EQ(got, expected);
  // Nothing else is pending: the next frame is the next live notification.
  const auto sentinel = publish("u1");
  EXPECT_EQ(c->read_json()["id"], sentinel);
}

TEST_F(Stream, AuthFrameFallback) {
  start();
  const auto id = publish("u1");
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {{"Herald-Last-Seen-Id", "0"}}});
  ASSERT_TRUE(c) << res.status;
  EXPECT_EQ(c->selected_subprotocol(), "herald.v1");
  c->send_text(R"({"type":"auth","token":")" + server_->issue_token("u1", 1h) + "\"}");
  const auto w = c->read_json();
  EXPECT_EQ(w["type"], "welcome");
  EXPECT_EQ(w["resume"]["status"], "ok");
  EXPECT_EQ(c->read_json()["id"], id);
}

TEST_F(Stream, NoAuthFrameInTimeCloses4401) {
  auto o = default_options();
  o.auth_frame_timeout = 200ms;
  start(o);
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->read_until_close().code, 4401);
}

TEST_F(Stream, BadTokenInAuthFrameGetsErrorThenClose) {
  start();
  {
    auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
    ASSERT_TRUE(c);
    c->send_text(R"({"type":"auth","token":"nope"})");
    const auto e = c->read_json();
    EXPECT_EQ(e["type"], "error");
    EXPECT_EQ(e["code"], "invalid_token");
    EXPECT_EQ(c->read_until_close().code, 4003);
  }
  auto [c, res] = WsClient::connect(port_, {"/v1/stream", {}});
  ASSERT_TRUE(c);
  c->send_text(R"({"type":"auth","token":")" + server_->issue_token("u1", -60s) + "\"}");
  EXPECT_EQ(c->read_json()["code"], "token_expired");
  EXPECT_EQ(c->read_until_close().code, 4001);
}

TEST_F(Stream, ClientProtocolErrors) {
  start();
  {
    auto c = open("u1");
    c->read_json();
    c->send_binary("\x01\x02");
    EXPECT_EQ(c->read_until_close().code, 4004);
  }
  {
    auto c = open("u1");
    c->read_json();
    c->send_text("not json");
    EXPECT_EQ(c->read_until_close().code, 4004);
  }
  {
    auto c = open("u1");
    c->read_json();
    // Only the header of a 70 KiB text frame: the server judges the length there, and
    // its 1009 may cut the connection before a whole frame could be written (EPIPE).
    std::string header("\x81\xff", 2);  // FIN + text; masked, 64-bit length
    const std::uint64_t length = 70 * 1024;
    for (int shift = 56; shift >= 0; shift -= 8) header += static_cast<char>((length >> shift) & 0xff);
    header += std::string(4, '\0');  // masking key
    c->send_raw(header);
    EXPECT_EQ(c->read_raw_until_close_frame(), 1009);
  }
  {
    auto c = open("u1");
    c->read_json();
    c->read_json();                                     // caught_up
    c->send_text(R"({"type":"something_new","x":1})");  // ignored
    const auto id = publish("u1");
    EXPECT_EQ(c->read_json()["id"], id);
  }
}

TEST_F(Stream, StopClosesWith1001) {
  start();
  auto c = open("u1");
  c->read_json();
  server_->stop();
  EXPECT_EQ(c->read_until_close().code, 1001);
  EXPECT_EQ(server_->connection_count(), 0U);
}

TEST_F(Stream, SlowConsumerIsDropped) {
  auto o = default_options();
  o.max_queued_frames = 50;
  start(o);
  auto c = open("u1");  // never reads while the server publishes
  ASSERT_TRUE(await_connections(1));
  const std::string big = R"({"pad":")" + std::string(60 * 1024, 'x') + "\"}";
  for (int i = 0; i < 5000 && server_->connection_count() > 0; ++i) server_->publish("u1", "t", big);
  EXPECT_EQ(server_->connection_count(), 0U);
  const auto code = c->read_until_close(30s).code;
  if (code != 0) {
    EXPECT_EQ(code, 4008);  // 0: cut before the close frame got through
  }
}

// A client that answers no ping (it stopped reading: dead, or half-open TCP) is cut
// once it has been silent for 2 x heartbeat + 5 s; an idle client that answers its
// pings is not (frontends.NginxTlsProxy.HeartbeatKeepsAnIdleConnectionAlive...).
TEST_F(Stream, AClientSilentForTwiceTheHeartbeatPlusFiveSecondsIsCut) {
  auto o = default_options();
  o.heartbeat = 1s;
  start(o);
  auto c = open("u1");
  c->read_json();  // welcome
  c->read_json();  // caught_up; from here the client reads nothing, so pongs nothing
  const auto opened = std::chrono::steady_clock::now();
  ASSERT_TRUE(await_connections(0));
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 6s) << "cut before the silence limit (7 s)";
}

TEST_F(Stream, RestartOnSameFileReplaysEverything) {
  std::random_device rd;
  const auto path = std::filesystem::temp_directory_path() /
                    ("herald-restart-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db");
  auto o = default_options();
  o.db_path = path.string();
  start(o);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(publish("u1", i));
  server_->stop();
  o.port = port_;  // the same port again (SO_REUSEADDR)
  server_ = std::make_unique<Server>(o);
  ASSERT_EQ(server_->start(), o.port);
  auto c = open("u1", 0);
  EXPECT_EQ(c->read_json()["resume"]["head_id"], ids[2]);
  for (auto id : ids) EXPECT_EQ(c->read_json()["id"], id);
  EXPECT_GT(publish("u1"), ids[2]);
  c.reset();
  server_->stop();
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix, ec);
}

}  // namespace
}  // namespace herald::server::testing
