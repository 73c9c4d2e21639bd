// Chaos: the real herald-server process is SIGKILLed and restarted on the same SQLite
// database and port, again and again, while a publisher posts over HTTP and a client
// (through the FaultProxy, which follows the server if it has to change port) streams.
// Nothing acknowledged may be lost, nothing may be handed over twice.
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "chaos/chaos_fixture.hpp"
#include "chaos/http_post.hpp"
#include "chaos/server_process.hpp"
#include "herald/testing/fault_proxy.hpp"
#include "support/recorder.hpp"
#include "support/stream_checker.hpp"

#ifndef HERALD_SERVER_BINARY
#error "HERALD_SERVER_BINARY must name the herald-server executable"
#endif

namespace herald::test {

using testkit::FaultProxy;
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ServerKill = ChaosTest;

TEST_F(ServerKill, SigkillAndRestartLoopLosesAndDuplicatesNothing) {
  ServerProcessOptions so;
  so.binary = HERALD_SERVER_BINARY;
  so.db_path = (dir_ / "herald.db").string();
  so.jwt_secret_file = (dir_ / "jwt-secret").string();
  so.admin_key_file = (dir_ / "admin-key").string();
  so.log_file = (dir_ / "server.log").string();
  std::ofstream(so.jwt_secret_file) << kJwtSecret << '\n';
  std::ofstream(so.admin_key_file) << kAdminKey << '\n';

  auto server = ServerProcess::spawn(so);
  ASSERT_TRUE(server) << "herald-server did not start; see " << so.log_file;
  so.port = server->port();  // restarts take the same port (SO_REUSEADDR)
  std::atomic<std::uint16_t> server_port{server->port()};
  FaultProxy proxy(server->port());

  Client client(client_options(proxy.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));

  // The publisher counts only ids the server acknowledged; a failed post is retried.
  std::mutex m;
  std::vector<std::uint64_t> acked;
  std::atomic<int> failed_posts{0};
  std::jthread publisher([&](std::stop_token st) {
    for (int k = 0; k < 20'000 && !st.stop_requested(); ++k) {
      const auto id = admin_publish(server_port, kAdminKey, "alice", "kill", R"({"k":)" + std::to_string(k) + "}");
      if (id) {
        std::lock_guard l(m);
        acked.push_back(*id);
      } else {
        ++failed_posts;
      }
      std::this_thread::sleep_for(id ? 500us : 2ms);  // pacing, and a pause while it is down
    }
  });
  auto acked_count = [&] {
    std::lock_guard l(m);
    return acked.size();
  };

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> uptime_ms(0, 60);
  const int kills = scaled(100, 5);
  const auto deadline = Clock::now() + 120s;
  int done = 0;
  int port_changes = 0;
  for (; done < kills && Clock::now() < deadline; ++done) {
    // Every other round, let the client catch up first, so kills also hit a connected,
    // streaming client and the test proves progress under the kills, not only at the end.
    if (done % 2 == 0) {
      const auto want = acked_count();
      ASSERT_TRUE(rec.wait_ids(want, 30s)) << "round " << done;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{uptime_ms(rng)});  // kill at a random moment
    server->kill();
    server = ServerProcess::spawn(so);
    if (!server) {  // the port was taken meanwhile: move, and let the proxy follow
      auto moved = so;
      moved.port = 0;
      server = ServerProcess::spawn(moved);
      ASSERT_TRUE(server) << "herald-server did not restart; see " << so.log_file;
      so.port = server->port();
      ++port_changes;
    }
    server_port = server->port();
    proxy.set_upstream(server->port());
  }
  publisher.request_stop();
  publisher.join();
  std::vector<std::uint64_t> published;
  {
    std::lock_guard l(m);
    published = acked;
  }
  ASSERT_FALSE(published.empty());
  // Wait until the last acknowledged id arrived (ids committed but never acknowledged,
  // because the kill came between commit and reply, may arrive too).
  EXPECT_TRUE(rec.wait(
      [&](const Recording& o) { return !o.notifications.empty() && o.notifications.back().id >= published.back(); },
      60s));
  client.stop();
  const auto ids = rec.ids();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(ids, published, /*allow_unacknowledged=*/true));
  EXPECT_LE(ids.size() - std::min(ids.size(), published.size()), static_cast<std::size_t>(done))
      << "at most one unacknowledged commit per kill";
  EXPECT_GE(client.metrics().reconnects, 1u);
  RecordProperty("kills", done);
  RecordProperty("published", static_cast<int>(published.size()));
  RecordProperty("failed_posts", failed_posts.load());
  RecordProperty("port_changes", port_changes);
  std::cout << "kills=" << done << " published=" << published.size() << " delivered=" << ids.size()
            << " failed_posts=" << failed_posts << " port_changes=" << port_changes
            << " reconnects=" << client.metrics().reconnects << '\n';
}

}  // namespace
}  // namespace herald::test
