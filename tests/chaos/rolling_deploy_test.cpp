// A rolling deploy: server A drains while the load balancer (the fault proxy) already
// sends new connections to server B, which shares A's database. Every client moves to
// B at a random moment inside the drain window (make-before-break), so the moves are
// spread over the window instead of arriving as one spike, and no notification
// published during the deploy — to A before it, to B after — is lost or doubled.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "chaos/chaos_fixture.hpp"
#include "herald/testing/fault_proxy.hpp"
#include "support/stream_checker.hpp"

namespace herald::test {

using testkit::FaultProxy;
namespace {

using RollingDeploy = ChaosTest;

TEST_F(RollingDeploy, EveryClientMovesInsideTheWindowWithoutASpikeOrALoss) {
  const auto db = (dir_ / "herald.db").string();
  auto a = std::make_unique<server::Server>(server_options(db));
  auto b = std::make_unique<server::Server>(server_options(db));
  a->start();
  const auto port_b = b->start();
  FaultProxy balancer(a->port());

  const auto clients_n = static_cast<std::size_t>(scaled(200, 20));
  struct Seen {
    std::mutex m;
    std::vector<std::uint64_t> ids;
  };
  std::vector<Seen> seen(clients_n);
  std::atomic<std::size_t> connected{0};
  std::vector<std::unique_ptr<Client>> clients;
  for (std::size_t i = 0; i < clients_n; ++i) {
    auto c = std::make_unique<Client>(client_options(balancer.url()));
    c->on_notification([&s = seen[i]](const Notification& n) {
      std::lock_guard l(s.m);
      s.ids.push_back(n.id);
    });
    c->on_state([&connected](const StateEvent& e) {
      if (e.state == State::connected) ++connected;
    });
    c->start();
    clients.push_back(std::move(c));
  }
  ASSERT_TRUE(eventually([&] { return a->connection_count() == clients_n; }, std::chrono::seconds{60}));

  // A publisher that keeps going through the deploy: to A first, to B once A drains.
  // Slower under a sanitizer, where 40 clients cannot take 500 notifications a second.
  constexpr auto kPacing = std::chrono::milliseconds{HERALD_TEST_SCALE == 100 ? 2 : 10};
  std::atomic<server::Server*> target{a.get()};
  std::atomic<bool> publishing{true};
  std::vector<std::uint64_t> published;
  std::thread publisher([&] {
    for (int i = 0; i < 5000 && publishing; ++i) {
      published.push_back(target.load()->publish("alice", "deploy", R"({"n":)" + std::to_string(i) + "}"));
      std::this_thread::sleep_for(kPacing);  // pacing, not waiting
    }
  });

  // Under a sanitizer (scale < 100) the clients are slower by 5-20x: a 2 s window left
  // some of 40 clients under TSan unmoved when it closed (a visible reconnect). The
  // window scales up there; what sanitizers check here is races, not the timing.
  const auto window = std::chrono::milliseconds{HERALD_TEST_SCALE == 100 ? 2000 : 6000};
  balancer.set_upstream(port_b);  // new connections reach B from now on
  const auto drain_started = std::chrono::steady_clock::now();
  a->drain(window);
  target = b.get();

  // Sample how many clients have arrived on B, to see how the moves spread in time.
  std::map<long, std::size_t> arrivals_at;  // 200 ms bucket -> clients on B at its end
  while (std::chrono::steady_clock::now() - drain_started < window + std::chrono::milliseconds{500}) {
    const auto bucket =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - drain_started)
            .count() /
        200;
    arrivals_at[bucket] = b->connection_count();
    std::this_thread::sleep_for(std::chrono::milliseconds{5});  // sampling a count that raises no event
  }
  EXPECT_TRUE(a->wait_drained_for(std::chrono::seconds{5}));
  EXPECT_EQ(b->connection_count(), clients_n) << "every client moved to B";
  EXPECT_EQ(connected.load(), clients_n) << "no client went through reconnecting -> connected";

  publishing = false;
  publisher.join();
  for (std::size_t i = 0; i < clients_n; ++i) {
    ASSERT_TRUE(eventually(
        [&] {
          std::lock_guard l(seen[i].m);
          return seen[i].ids.size() >= published.size();
        },
        std::chrono::seconds{60}))
        << "client " << i;
    std::lock_guard l(seen[i].m);
    ASSERT_TRUE(DeliveredExactlyOnceInOrder(seen[i].ids, published)) << "client " << i;
  }

  // No spike: clients move within the first 80 % of the window (the rest is left for
  // the switch to finish), 1.6 s or eight 200 ms buckets; none may take more than
  // twice the uniform share. (Too few clients under sanitizers for the statistics:
  // checked in the plain build.)
  if (HERALD_TEST_SCALE == 100) {
    std::size_t before = 0, busiest = 0;
    for (const auto& [bucket, on_b] : arrivals_at) {
      busiest = std::max(busiest, on_b - std::min(on_b, before));
      before = on_b;
    }
    const double share = static_cast<double>(clients_n) / 8.0;
    std::printf("rolling deploy: busiest 200 ms bucket %zu of %zu clients (bound %.0f)\n", busiest, clients_n,
                2 * share);
    EXPECT_LE(static_cast<double>(busiest), 2 * share);
  }
  for (auto& c : clients) c->stop();
}

}  // namespace
}  // namespace herald::test
