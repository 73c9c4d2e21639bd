// A fleet of clients sharing one io_context loses its server, which comes back after
// 5 s. With jitter the reconnects spread out; without it they arrive as one spike —
// the second test proves the first can fail.
//
// "Uniform share": when the server returns after 5 s, the clients' backoff ceiling is
// base * 2^3 = 4 s (0.5 + 1 + 2 s of earlier ceilings cover less than 5 s), so a
// perfectly uniform spread puts N * 100 ms / 4 s reconnects into each 100 ms bucket.
// No bucket may hold more than twice that. (A simulation of the policy puts the
// busiest bucket at 34-42 of 1000, against a bound of 50; without jitter, all 1000
// land in one or two buckets.)
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <thread>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

const std::size_t kClients = std::getenv("HERALD_FLEET_CLIENTS") ? std::stoul(std::getenv("HERALD_FLEET_CLIENTS")) : 1000;
constexpr auto kDowntime = std::chrono::seconds{5};

class Fleet : public ServerFixture {
 protected:
  struct Result {
    std::size_t busiest_bucket = 0;
    double uniform_share = 0;
  };

  Result run(bool jitter) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 8 * kClients) {
      lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 8 * kClients);
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    start_server(server_options(db_file()));
    const auto token = issuer_->issue_token("fleet", std::chrono::hours{1});

    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::thread runner([&] { io.run(); });

    std::mutex m;
    std::condition_variable cv;
    std::size_t connected = 0;
    bool restarted = false;
    std::vector<std::chrono::steady_clock::time_point> reconnects;
    std::vector<std::unique_ptr<Client>> clients;
    for (std::size_t i = 0; i < kClients; ++i) {
      ClientOptions o;
      o.url = url();
      o.token_provider = TokenProvider::fixed(token);
      o.backoff_initial = std::chrono::milliseconds{500};
      o.backoff_max = std::chrono::seconds{8};
      o.backoff_jitter = jitter;
      auto c = std::make_unique<Client>(std::move(o), boost::asio::any_io_executor(io.get_executor()));
      c->on_state([&](const StateEvent& e) {
        if (e.state != State::connected) return;
        std::lock_guard l(m);
        ++connected;
        if (restarted) reconnects.push_back(std::chrono::steady_clock::now());
        cv.notify_all();
      });
      c->start();
      clients.push_back(std::move(c));
    }
    Result r;
    {
      std::unique_lock l(m);
      EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds{120}, [&] { return connected == kClients; }));
    }
    server_.reset();  // every connection closes with 1001, no drain window
    std::this_thread::sleep_for(kDowntime);  // the outage itself is the scenario, not a wait for an event
    {
      std::lock_guard l(m);
      restarted = true;
    }
    const auto back = std::chrono::steady_clock::now();
    start_server(server_options(db_file()));
    {
      std::unique_lock l(m);
      EXPECT_TRUE(cv.wait_for(l, std::chrono::seconds{120}, [&] { return reconnects.size() == kClients; }));
      std::map<long, std::size_t> buckets;
      for (auto t : reconnects) ++buckets[std::chrono::duration_cast<std::chrono::milliseconds>(t - back).count() / 100];
      for (const auto& [bucket, n] : buckets) r.busiest_bucket = std::max(r.busiest_bucket, n);
    }
    r.uniform_share = static_cast<double>(kClients) * 100.0 / 4000.0;
    for (auto& c : clients) c->stop();
    clients.clear();
    work.reset();
    runner.join();
    return r;
  }
};

TEST_F(Fleet, ReconnectsAfterAnOutageSpreadOutWithJitter) {
  const auto r = run(true);
  std::printf("jitter on: busiest 100 ms bucket %zu of %zu (bound %.0f)\n", r.busiest_bucket, kClients, 2 * r.uniform_share);
  EXPECT_LE(static_cast<double>(r.busiest_bucket), 2 * r.uniform_share) << "busiest 100 ms bucket";
}

TEST_F(Fleet, WithoutJitterTheSameOutageEndsInAReconnectSpike) {
  const auto r = run(false);
  std::printf("jitter off: busiest 100 ms bucket %zu of %zu (bound %.0f)\n", r.busiest_bucket, kClients, 2 * r.uniform_share);
  EXPECT_GT(static_cast<double>(r.busiest_bucket), 2 * r.uniform_share) << "busiest 100 ms bucket";
}

}  // namespace
}  // namespace herald::test
