// Chaos: the SDK against the in-process reference server through the FaultProxy. Cuts
// at random offsets (inside frames too), resets, a blackhole, a slow, sliced or
// delayed network, a flapping server. Every test checks the application-visible stream.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "chaos/chaos_fixture.hpp"
#include "herald/testing/fault_proxy.hpp"
#include "support/recorder.hpp"
#include "support/stream_checker.hpp"

namespace herald::test {

using testkit::Fault;
using testkit::FaultProxy;
using testkit::FaultProxyCounters;
namespace {

using namespace std::chrono_literals;
using NetworkFaults = ChaosTest;
using Clock = std::chrono::steady_clock;

/// Publishes steadily (one notification per `period`) until stopped or `max` reached;
/// remembers each acknowledged id with its sequence number, which the data carries.
class SteadyPublisher {
 public:
  SteadyPublisher(server::Server& s, std::chrono::microseconds period, int max)
      : thread_([this, &s, period, max] {
          for (int k = 0; k < max && running_; ++k) {
            const auto id = s.publish("alice", "chaos", data_for(k));
            {
              std::lock_guard l(m_);
              ids_.push_back(id);
            }
            std::this_thread::sleep_for(period);  // pacing, not waiting for a condition
          }
        }) {}
  ~SteadyPublisher() { stop(); }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::uint64_t> ids() const {
    std::lock_guard l(m_);
    return ids_;
  }
  /// The data of the k-th publish: its number and a fixed pad, so a torn frame shows.
  static std::string data_for(int k) { return R"({"k":)" + std::to_string(k) + R"(,"pad":")" + pad() + R"("})"; }
  static const std::string& pad() {
    static const std::string p(64, 'x');
    return p;
  }

 private:
  mutable std::mutex m_;
  std::vector<std::uint64_t> ids_;
  std::atomic<bool> running_{true};
  std::thread thread_;
};

/// Every delivered notification is the one published with that id, intact.
::testing::AssertionResult AllIntact(const std::vector<Notification>& got, const std::vector<std::uint64_t>& ids) {
  std::map<std::uint64_t, int> k_of;
  for (std::size_t k = 0; k < ids.size(); ++k) k_of[ids[k]] = static_cast<int>(k);
  for (const auto& n : got) {
    const auto data = n.data();
    if (n.topic != "chaos" || !data.is_object() || !data.contains("k") || data["k"] != k_of[n.id] ||
        data["pad"] != SteadyPublisher::pad()) {
      return ::testing::AssertionFailure()
             << "notification " << n.id << " arrived damaged: topic '" << n.topic << "' data " << n.data_json;
    }
  }
  return ::testing::AssertionSuccess();
}

TEST_F(NetworkFaults, RandomCutsInsideFramesLoseAndDuplicateNothing) {
  start_server();
  FaultProxy proxy(port_);
  Client client(client_options(proxy.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  SteadyPublisher publisher(*server_, 1000us, 200'000);

  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<std::uint64_t> offset(0, 1500);  // handshake, welcome, frames
  const int rounds = scaled(200, 10);
  const auto deadline = Clock::now() + 100s;
  int done = 0;
  for (; done < rounds && Clock::now() < deadline; ++done) {
    const auto cuts = proxy.counters().cuts;
    proxy.set_fault(Fault::cut_after(offset(rng)));
    ASSERT_TRUE(proxy.wait([&](const FaultProxyCounters& c) { return c.cuts > cuts; }, 10s)) << "round " << done;
    const auto delivered = rec.delivered();
    proxy.set_fault(Fault::none());
    ASSERT_TRUE(rec.wait([&](const Recording& o) { return o.notifications.size() > delivered; }, 15s))
        << "round " << done;
  }
  publisher.stop();
  const auto published = publisher.ids();
  EXPECT_TRUE(rec.wait_ids(published.size(), 30s));
  const auto seen = rec.snapshot();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(seen.ids(), published));
  EXPECT_TRUE(AllIntact(seen.notifications, published));
  // Usually one reconnect per round; two rounds can share one when the client still had
  // bytes of the cut connection to hand over.
  EXPECT_GE(client.metrics().reconnects, static_cast<std::uint64_t>(done / 2));
  RecordProperty("rounds", done);
}

TEST_F(NetworkFaults, ResetPeerWhilePublishingLosesAndDuplicatesNothing) {
  start_server();
  FaultProxy proxy(port_);
  Client client(client_options(proxy.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  SteadyPublisher publisher(*server_, 1000us, 200'000);
  const int rounds = scaled(30, 5);
  for (int i = 0; i < rounds; ++i) {
    const auto delivered = rec.delivered();
    ASSERT_TRUE(proxy.wait([](const FaultProxyCounters& c) { return c.open_connections > 0; }, 15s));
    proxy.set_fault(Fault::reset_peer());
    ASSERT_TRUE(proxy.wait([&](const FaultProxyCounters& c) { return c.resets > static_cast<std::uint64_t>(i); }, 5s));
    ASSERT_TRUE(rec.wait([&](const Recording& o) { return o.notifications.size() > delivered; }, 15s)) << i;
  }
  publisher.stop();
  const auto published = publisher.ids();
  EXPECT_TRUE(rec.wait_ids(published.size(), 30s));
  const auto seen = rec.snapshot();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(seen.ids(), published));
  EXPECT_TRUE(AllIntact(seen.notifications, published));
  EXPECT_GE(client.metrics().reconnects, 1u);
}

TEST_F(NetworkFaults, BlackholeIsDetectedByLivenessAndRecoversWhenCleared) {
  auto o = server_options();
  o.heartbeat = 1s;
  start_server(o);
  FaultProxy proxy(port_);
  Client client(client_options(proxy.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto before = server_->publish("alice", "chaos", "{}");
  ASSERT_TRUE(rec.wait_ids(1));

  const auto t0 = Clock::now();
  proxy.set_fault(Fault::blackhole());
  // 2 x heartbeat_s + 5 s = 7 s of silence, + 1 s tolerance.
  ASSERT_TRUE(rec.wait_state(State::reconnecting, 1, 12s));
  const auto elapsed = Clock::now() - t0;
  const auto seen = rec.snapshot();
  const auto it = std::find_if(seen.states.begin(), seen.states.end(),
                               [](const StateEvent& e) { return e.state == State::reconnecting; });
  ASSERT_NE(it, seen.states.end());
  EXPECT_EQ(it->reason, make_error_code(errc::liveness_timeout)) << it->reason.message() << " / " << it->detail;
  EXPECT_GT(elapsed, 2s);
  EXPECT_LT(elapsed, 8s);

  const auto during = server_->publish("alice", "chaos", "{}");
  proxy.set_fault(Fault::none());
  ASSERT_TRUE(rec.wait_state(State::connected, 2, 20s));
  const auto after = server_->publish("alice", "chaos", "{}");
  EXPECT_TRUE(rec.wait_ids(3, 15s));
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), {before, during, after}));
}

struct SlowNetworkCase {
  const char* name;
  Fault fault;
  int count;
  std::size_t data_bytes;
};

class SlowNetwork : public ChaosTest, public ::testing::WithParamInterface<SlowNetworkCase> {};

TEST_P(SlowNetwork, StreamArrivesExactlyOnceInOrder) {
  const auto& param = GetParam();
  start_server();
  FaultProxy proxy(port_);
  proxy.set_fault(param.fault);  // from the first byte: the upgrade and welcome too
  Client client(client_options(proxy.url()));
  Recorder rec;
  rec.attach(client);
  // Some are published before the client connects (replayed), the rest live.
  std::vector<std::uint64_t> published;
  const std::string data = R"({"blob":")" + std::string(param.data_bytes, 'b') + R"("})";
  for (int i = 0; i < param.count / 2; ++i) published.push_back(server_->publish("alice", "chaos", data));
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected, 1, 30s));
  for (int i = param.count / 2; i < param.count; ++i) published.push_back(server_->publish("alice", "chaos", data));
  EXPECT_TRUE(rec.wait_ids(published.size(), 60s));
  const auto seen = rec.snapshot();
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(seen.ids(), published));
  for (const auto& n : seen.notifications) {
    ASSERT_EQ(n.data()["blob"].get<std::string>().size(), param.data_bytes) << n.id;
  }
  EXPECT_EQ(client.metrics().reconnects, 0u);
}

INSTANTIATE_TEST_SUITE_P(Faults, SlowNetwork,
                         ::testing::Values(SlowNetworkCase{"slicer", Fault::slicer(), 100, 300},
                                           SlowNetworkCase{"latency", Fault::latency(40ms), 200, 2000},
                                           SlowNetworkCase{"bandwidth", Fault::bandwidth(200'000), 100, 4000}),
                         [](const ::testing::TestParamInfo<SlowNetworkCase>& i) { return std::string(i.param.name); });

TEST_F(NetworkFaults, FlappingServerSeesGrowingReconnectDelays) {
  start_server();
  FaultProxy proxy(port_);
  proxy.set_fault(Fault::refuse());  // TCP accepted, closed at once
  auto o = client_options(proxy.url());
  o.backoff_initial = 10ms;
  o.backoff_max = 2000ms;
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  constexpr std::size_t kDelays = 8;
  ASSERT_TRUE(rec.wait([](const Recording& s) { return s.reconnect_delays().size() >= kDelays; }, 30s));
  client.stop();
  const auto d = rec.snapshot().reconnect_delays();
  std::string all;
  for (auto x : d) all += std::to_string(x.count()) + " ";
  // Full jitter makes single delays random; the means of U(0, 10*2^n) still grow by far:
  // attempts 6-8 draw from [0, 320..1280] ms, attempts 1-2 from [0, 10..20] ms.
  EXPECT_GT(mean_ms(d, 5, 7), mean_ms(d, 0, 1) + 20.0) << all;
  for (auto x : d) EXPECT_LE(x, 2000ms + 50ms) << all;
  EXPECT_EQ(client.metrics().connects, 0u);
  EXPECT_GE(proxy.counters().connections_refused, kDelays);
}

TEST_F(NetworkFaults, HandshakeIntoABlackholeTimesOutAfterConnectTimeout) {
  start_server();
  FaultProxy proxy(port_);
  proxy.set_fault(Fault::blackhole());  // TCP connects; the upgrade response never comes
  auto o = client_options(proxy.url());
  o.connect_timeout = 1s;
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  const auto t0 = Clock::now();
  client.start();
  ASSERT_TRUE(rec.wait_state(State::reconnecting, 1, 10s));
  const auto elapsed = Clock::now() - t0;
  EXPECT_GT(elapsed, 900ms);
  EXPECT_LT(elapsed, 3s);
  const auto seen = rec.snapshot();
  const auto it = std::find_if(seen.states.begin(), seen.states.end(),
                               [](const StateEvent& e) { return e.state == State::reconnecting; });
  ASSERT_NE(it, seen.states.end());
  EXPECT_EQ(it->reason, make_error_code(errc::connect_failed)) << it->reason.message() << " / " << it->detail;
  proxy.set_fault(Fault::none());
  ASSERT_TRUE(rec.wait_state(State::connected, 1, 15s));
  const auto id = server_->publish("alice", "chaos", "{}");
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{id});
}

}  // namespace
}  // namespace herald::test
