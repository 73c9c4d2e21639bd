// haproxy from Debian's packages as the load balancer of two reference servers on one
// SQLite file, health-checked on /healthz. A rolling restart — take A out of rotation
// (haproxy's runtime API: state drain) and drain it, so its clients move to B; restart
// A; the same for B — moves every client with nothing lost.
//
// The reference server's fan-out is process-local: a publish on A reaches only streams
// on A; a stream on B sees it only when it next resumes from the database. A stream on B
// that is sent a later id live has skipped the earlier one for good (issue #14 brings
// cross-instance fan-out). So this test publishes only where every stream of the user
// is or is about to be: on the instance that is up and not draining, while the other one
// has no streams or is draining (whose moving clients catch up from the database on
// their new connection before they switch to it).
#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <set>
#include <thread>

#include "frontends/frontend_fixture.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kClients = 4;
constexpr auto kDrainWindow = 2000ms;

// Two in-process servers on one SQLite file (each its own connection; SQLite locks the
// file for writers, BEGIN IMMEDIATE): ids stay unique and increasing across both, and a
// third instance replays all of them in order. What the rolling restart below relies on.
using SharedSqliteFile = FrontendTest;

TEST_F(SharedSqliteFile, TwoServersHandOutUniqueIncreasingIds) {
  server::Server a(base_server_options(db_file()));
  server::Server b(base_server_options(db_file()));
  constexpr int kEach = 150;
  std::array<std::vector<std::uint64_t>, 2> ids;
  {
    std::jthread ta([&] {
      for (int i = 0; i < kEach; ++i) ids[0].push_back(a.publish("u1", "t", R"({"from":"a"})"));
    });
    std::jthread tb([&] {
      for (int i = 0; i < kEach; ++i) ids[1].push_back(b.publish("u1", "t", R"({"from":"b"})"));
    });
  }
  for (const auto& v : ids) {
    EXPECT_TRUE(std::adjacent_find(v.begin(), v.end(), std::greater_equal<>()) == v.end()) << "ids not increasing";
  }
  std::set<std::uint64_t> all(ids[0].begin(), ids[0].end());
  all.insert(ids[1].begin(), ids[1].end());
  ASSERT_EQ(all.size(), 2u * kEach) << "an id was handed out twice";

  start_server(base_server_options(db_file()));  // a third instance replays the whole history
  Recorder rec;
  Client client(client_options(stream_url(), "u1"));
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(all.size()));
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {all.begin(), all.end()}));
  client.stop();
}

class HaproxyBalancer : public FrontendTest {
 protected:
  void SetUp() override {
    FrontendTest::SetUp();
    const auto binary = haproxy_binary();
    if (!binary) GTEST_SKIP() << "haproxy is not installed (scripts/deps.sh installs it)";
    binary_ = *binary;
    for (auto& s : servers_) s.port = start(s);
    HaproxyOptions o;
    o.backends = {{"a", servers_[0].port}, {"b", servers_[1].port}};
    o.tunnel_timeout = 30s;  // above the servers' 25 s heartbeat
    haproxy_ = start_haproxy(binary_, o);
    for (const char* name : {"a", "b"}) {
      ASSERT_TRUE(wait_status(name, "UP")) << name << " never came up in haproxy:\n" << haproxy_->log();
    }
  }
  void TearDown() override {
    haproxy_.reset();
    for (auto& s : servers_) s.server.reset();
    FrontendTest::TearDown();
  }

  struct Instance {
    std::uint16_t port = 0;  // kept across restarts: haproxy's config names it
    std::unique_ptr<server::Server> server;
  };

  std::uint16_t start(Instance& s) {
    auto o = base_server_options(db_file());
    o.port = s.port;
    s.server = std::make_unique<server::Server>(std::move(o));
    return s.server->start();
  }
  bool wait_status(const std::string& name, const std::string& status) {
    return eventually([&] { return haproxy_server_status(*haproxy_, name) == status; }, 10s);
  }

  /// Rolling restart of one instance: out of haproxy's rotation, drained (its clients
  /// move to `other`, on which `publish_during_move` runs meanwhile), stopped, started
  /// again on its port, back in rotation once its health check passes.
  void roll(std::size_t which, const std::function<void(server::Server&)>& publish_during_move) {
    const std::string name = which == 0 ? "a" : "b";
    Instance& self = servers_[which];
    Instance& other = servers_[1 - which];
    const auto on_both = self.server->connection_count() + other.server->connection_count();
    haproxy_command(*haproxy_, "set server herald/" + name + " state drain");
    ASSERT_TRUE(wait_status(name, "DRAIN")) << haproxy_->log();
    self.server->drain(kDrainWindow);
    publish_during_move(*other.server);
    ASSERT_TRUE(self.server->wait_drained_for(10s));
    EXPECT_EQ(self.server->connection_count(), 0u);
    EXPECT_TRUE(other.server->wait_connection_count(on_both, 10s))
        << "not every client moved to " << (which ? "a" : "b");
    self.server->stop();
    self.server.reset();
    start(self);
    haproxy_command(*haproxy_, "set server herald/" + name + " state ready");
    ASSERT_TRUE(wait_status(name, "UP")) << haproxy_->log();
  }

  std::array<Instance, 2> servers_;
  std::unique_ptr<RunningDaemon> haproxy_;
};

TEST_F(HaproxyBalancer, RollingRestartMovesEveryClientAndLosesNothing) {
  const std::string url = "ws://127.0.0.1:" + std::to_string(haproxy_->port()) + "/v1/stream";
  std::array<std::vector<std::uint64_t>, kClients> published;
  const auto publish_each = [&](server::Server& on, int batch) {
    for (std::size_t i = 0; i < kClients; ++i) {
      published[i].push_back(
          on.publish("u" + std::to_string(i), "deploy", R"({"batch":)" + std::to_string(batch) + "}"));
    }
  };
  const auto wait_all = [&](std::array<Recorder, kClients>& recs) {
    for (std::size_t i = 0; i < kClients; ++i) {
      ASSERT_TRUE(recs[i].wait_ids(published[i].size())) << "client " << i << ":\n" << haproxy_->log();
    }
  };

  // Published before any client connects: each one catches it up on whichever instance
  // haproxy sends it to.
  publish_each(*servers_[0].server, 0);
  std::array<Recorder, kClients> recs;
  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(client_options(url, "u" + std::to_string(i))));
    recs[i].attach(*clients.back());
    clients.back()->start();
  }
  ASSERT_NO_FATAL_FAILURE(wait_all(recs));
  ASSERT_TRUE(eventually(
      [&] { return servers_[0].server->connection_count() + servers_[1].server->connection_count() == kClients; }));
  EXPECT_GT(servers_[0].server->connection_count(), 0u) << "haproxy sent every client to b";
  EXPECT_GT(servers_[1].server->connection_count(), 0u) << "haproxy sent every client to a";
  const auto on_a_first = servers_[0].server->connection_count();

  ASSERT_NO_FATAL_FAILURE(roll(0, [&](server::Server& b) { publish_each(b, 1); }));  // a's clients move to b
  ASSERT_NO_FATAL_FAILURE(wait_all(recs));
  publish_each(*servers_[1].server, 2);  // every stream is on b, a has none
  ASSERT_NO_FATAL_FAILURE(wait_all(recs));
  ASSERT_NO_FATAL_FAILURE(roll(1, [&](server::Server& a) { publish_each(a, 3); }));  // every client moves to a
  publish_each(*servers_[0].server, 4);                                              // every stream is on a
  ASSERT_NO_FATAL_FAILURE(wait_all(recs));
  EXPECT_EQ(servers_[0].server->connection_count(), kClients);
  EXPECT_EQ(servers_[1].server->connection_count(), 0u);

  std::uint64_t switches = 0;
  for (std::size_t i = 0; i < kClients; ++i) {
    EXPECT_TRUE(DeliveredExactlyOnceInOrder(recs[i].ids(), published[i])) << "client " << i;
    EXPECT_EQ(recs[i].ids(), published[i]) << "client " << i;
    EXPECT_TRUE(recs[i].gaps().empty()) << "client " << i;
    EXPECT_EQ(recs[i].count_state(State::reconnecting), 0u) << "client " << i << " saw its move";
    switches += clients[i]->metrics().switches;
  }
  // a's first clients moved twice, b's once (make-before-break through haproxy).
  EXPECT_EQ(switches, on_a_first + kClients);
  for (auto& c : clients) c->stop();
  expect_no_token_in(haproxy_->log());
}

}  // namespace
}  // namespace herald::test
