// Chaos: stop() or destroy a client at every point of its life: after varying delays,
// inside each state callback, inside on_notification, while waiting to retry against a
// flapping server, during a handshake that hangs in a blackhole. No crash, no hang, and
// no callback after stop() returned. These also run under ASan and TSan.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "chaos/chaos_fixture.hpp"
#include "herald/testing/fault_proxy.hpp"
#include "support/recorder.hpp"

namespace herald::test {

using testkit::Fault;
using testkit::FaultProxy;
using testkit::FaultProxyCounters;
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Teardown = ChaosTest;

enum class End { stop, destroy };
const char* to_string(End e) { return e == End::stop ? "stop" : "destroy"; }

/// Counts callbacks that run after stop() returned, and notifications that arrive out
/// of order or twice (callbacks never run concurrently, so `last_id` needs no lock
/// beyond the atomics' ordering).
struct LateCallbacks {
  std::atomic<bool> stop_returned{false};
  std::atomic<int> late{0};
  std::atomic<int> calls{0};
  std::atomic<std::uint64_t> last_id{0};
  std::atomic<int> out_of_order{0};
  void hit() {
    ++calls;
    if (stop_returned) ++late;
  }
  void note(std::uint64_t id) {
    if (id <= last_id) ++out_of_order;
    last_id = id;
  }
};

/// Installs callbacks that count late calls and run `on_state_hook` / `on_note_hook`.
void instrument(Client& c, const std::shared_ptr<LateCallbacks>& g,
                std::function<void(const StateEvent&)> on_state_hook = {},
                std::function<void(const Notification&)> on_note_hook = {}) {
  c.on_notification([g, on_note_hook](const Notification& n) {
    g->hit();
    g->note(n.id);
    if (on_note_hook) on_note_hook(n);
  });
  c.on_state([g, on_state_hook](const StateEvent& e) {
    g->hit();
    if (on_state_hook) on_state_hook(e);
  });
  c.on_gap([g](const GapEvent&) { g->hit(); });
}

/// A one-shot signal the test thread can wait on (bounded).
struct Signal {
  std::mutex m;
  std::condition_variable cv;
  bool set = false;
  void raise() {
    std::lock_guard l(m);
    set = true;
    cv.notify_all();
  }
  bool wait(std::chrono::milliseconds timeout = 15s) {
    std::unique_lock l(m);
    return cv.wait_for(l, timeout, [&] { return set; });
  }
};

/// Publishes to "alice" until destroyed, so notifications are in flight at every point.
class BackgroundPublisher {
 public:
  explicit BackgroundPublisher(server::Server& s)
      : thread_([this, &s] {
          for (int i = 0; i < 100'000 && running_; ++i) {
            s.publish("alice", "t", "{}");
            std::this_thread::sleep_for(500us);  // pacing
          }
        }) {}
  ~BackgroundPublisher() {
    running_ = false;
    thread_.join();
  }

 private:
  std::atomic<bool> running_{true};
  std::thread thread_;
};

TEST_F(Teardown, StopOrDestroyAfterVaryingDelays) {
  start_server();
  FaultProxy proxy(port_);
  BackgroundPublisher publisher(*server_);
  const int rounds = scaled(80, 16);
  for (int i = 0; i < rounds; ++i) {
    // Through the proxy with a little latency every other round, so the delays land in
    // different phases (token fetch, TCP, upgrade, replay, live).
    proxy.set_fault(i % 4 < 2 ? Fault::none() : Fault::latency(1ms));
    auto g = std::make_shared<LateCallbacks>();
    const auto delay = std::chrono::microseconds{(i / 2 % 20) * 300};
    const auto t0 = Clock::now();
    {
      Client c(client_options(i % 8 < 4 ? direct_url() : proxy.url()));
      instrument(c, g);
      c.start();
      std::this_thread::sleep_for(delay);  // the point of the test: vary the moment
      if (i % 2 == 0) {
        c.stop();
        g->stop_returned = true;
      }
    }  // destroyed (after stop(), or while running)
    g->stop_returned = true;
    EXPECT_LT(Clock::now() - t0, 5s) << "round " << i;
    EXPECT_EQ(g->late.load(), 0) << "round " << i;
    EXPECT_EQ(g->out_of_order.load(), 0) << "round " << i;
  }
}

struct StateHookCase {
  State state;
  End end;
};

class StateHook : public ChaosTest, public ::testing::WithParamInterface<StateHookCase> {};

TEST_P(StateHook, StopOrDestroyInsideOnState) {
  const State target = GetParam().state;
  const End end = GetParam().end;
  start_server();
  FaultProxy proxy(port_);
  // `reconnecting` needs failures: a flapping server.
  if (target == State::reconnecting) proxy.set_fault(Fault::refuse());
  BackgroundPublisher publisher(*server_);
  auto g = std::make_shared<LateCallbacks>();
  auto client = std::make_unique<Client>(client_options(proxy.url()));
  Signal done;
  std::atomic<bool> fired{false};
  instrument(*client, g, [&](const StateEvent& e) {
    if (e.state != target || fired.exchange(true)) return;
    if (end == End::stop) {
      client->stop();
      g->stop_returned = true;
    } else {
      client.reset();  // destroying the client from its own callback
    }
    done.raise();
  });
  client->start();
  ASSERT_TRUE(done.wait()) << "state " << herald::to_string(target) << " never reported";
  if (client) {
    EXPECT_EQ(client->metrics().state, State::stopped);
    client.reset();
  }
  g->stop_returned = true;
  EXPECT_EQ(g->late.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    States, StateHook,
    ::testing::Values(StateHookCase{State::connecting, End::stop}, StateHookCase{State::connecting, End::destroy},
                      StateHookCase{State::connected, End::stop}, StateHookCase{State::connected, End::destroy},
                      StateHookCase{State::reconnecting, End::stop}, StateHookCase{State::reconnecting, End::destroy}),
    [](const ::testing::TestParamInfo<StateHookCase>& i) {
      return std::string(herald::to_string(i.param.state)) + "_" + to_string(i.param.end);
    });

class NotificationHook : public ChaosTest, public ::testing::WithParamInterface<End> {};

TEST_P(NotificationHook, StopOrDestroyInsideOnNotification) {
  start_server();
  for (int i = 0; i < 50; ++i) server_->publish("alice", "t", "{}");  // a replay in flight
  BackgroundPublisher publisher(*server_);
  for (int nth : {1, 3, 25, 60}) {
    auto g = std::make_shared<LateCallbacks>();
    auto client = std::make_unique<Client>(client_options(direct_url()));
    Signal done;
    std::atomic<int> seen{0};
    instrument(*client, g, {}, [&](const Notification&) {
      if (++seen != nth) return;
      if (GetParam() == End::stop) {
        client->stop();
        g->stop_returned = true;
      } else {
        client.reset();
      }
      done.raise();
    });
    client->start();
    ASSERT_TRUE(done.wait()) << nth;
    client.reset();
    g->stop_returned = true;
    EXPECT_EQ(g->late.load(), 0) << nth;
    EXPECT_EQ(g->out_of_order.load(), 0) << nth;
    EXPECT_EQ(seen.load(), nth) << "a notification was handed over after stop()";
  }
}

INSTANTIATE_TEST_SUITE_P(Ends, NotificationHook, ::testing::Values(End::stop, End::destroy),
                         [](const ::testing::TestParamInfo<End>& i) { return std::string(to_string(i.param)); });

class HangingPeer : public ChaosTest, public ::testing::WithParamInterface<End> {};

TEST_P(HangingPeer, StopOrDestroyWhileWaitingToRetryAgainstAFlappingServer) {
  start_server();
  FaultProxy proxy(port_);
  proxy.set_fault(Fault::refuse());
  for (int i = 0; i < scaled(10, 3); ++i) {
    auto o = client_options(proxy.url());
    o.backoff_initial = 200ms;  // long enough that the client is caught waiting
    o.backoff_max = 5s;
    auto client = std::make_unique<Client>(std::move(o));
    Recorder rec;
    rec.attach(*client);
    client->start();
    ASSERT_TRUE(rec.wait_state(State::reconnecting, static_cast<std::size_t>(1 + i % 3)));
    const auto t0 = Clock::now();
    if (GetParam() == End::stop) {
      client->stop();
      const auto states = rec.snapshot().states.size();
      EXPECT_EQ(client->metrics().state, State::stopped);
      client.reset();
      EXPECT_EQ(rec.snapshot().states.size(), states) << "a state callback ran after stop() returned";
    }
    client.reset();
    EXPECT_LT(Clock::now() - t0, 2s);
  }
}

TEST_P(HangingPeer, StopOrDestroyDuringAHandshakeStuckInABlackhole) {
  start_server();
  FaultProxy proxy(port_);
  proxy.set_fault(Fault::blackhole());  // TCP connects; the upgrade never gets an answer
  for (int i = 0; i < scaled(10, 3); ++i) {
    auto g = std::make_shared<LateCallbacks>();
    auto o = client_options(proxy.url());
    o.connect_timeout = 10s;
    auto client = std::make_unique<Client>(std::move(o));
    instrument(*client, g);
    const auto accepted = proxy.counters().connections_accepted;
    client->start();
    ASSERT_TRUE(proxy.wait([&](const FaultProxyCounters& c) { return c.connections_accepted > accepted; }));
    const auto t0 = Clock::now();
    if (GetParam() == End::stop) {
      client->stop();
      g->stop_returned = true;
      EXPECT_EQ(client->metrics().state, State::stopped);
    }
    client.reset();
    g->stop_returned = true;
    EXPECT_LT(Clock::now() - t0, 2s) << "stop/destroy waited for the handshake timeout";
    EXPECT_EQ(g->late.load(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Ends, HangingPeer, ::testing::Values(End::stop, End::destroy),
                         [](const ::testing::TestParamInfo<End>& i) { return std::string(to_string(i.param)); });

/// A TokenProvider that parks every fetch until the test answers it, from any thread,
/// possibly after the client is gone ("calling done after the client stopped is harmless").
class ParkedTokenProvider : public TokenProvider {
 public:
  void fetch(Callback done) override {
    std::lock_guard l(m_);
    pending_.push_back(std::move(done));
    cv_.notify_all();
  }
  bool wait_fetch(std::chrono::milliseconds timeout = 15s) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, timeout, [&] { return !pending_.empty(); });
  }
  void answer_all(const TokenResult& r) {
    std::vector<Callback> p;
    {
      std::lock_guard l(m_);
      p.swap(pending_);
    }
    for (auto& cb : p) cb(r);
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<Callback> pending_;
};

class TokenFetch : public ChaosTest, public ::testing::WithParamInterface<End> {};

TEST_P(TokenFetch, StopOrDestroyWhileATokenFetchIsPendingThenAnswerIt) {
  start_server();
  const TokenResult token{Token{issuer_->issue_token("alice", std::chrono::hours{1}), std::nullopt}, {}};
  for (int i = 0; i < scaled(20, 5); ++i) {
    auto provider = std::make_shared<ParkedTokenProvider>();
    auto g = std::make_shared<LateCallbacks>();
    auto o = client_options(direct_url());
    o.token_provider = provider;
    auto client = std::make_unique<Client>(std::move(o));
    instrument(*client, g);
    client->start();
    ASSERT_TRUE(provider->wait_fetch());
    // The answer races the teardown: before it, during it, or after it.
    std::thread answer([&, delay = std::chrono::microseconds{(i % 5) * 200}] {
      std::this_thread::sleep_for(delay);  // the point of the test: vary the moment
      provider->answer_all(token);
    });
    const auto t0 = Clock::now();
    if (GetParam() == End::stop) {
      client->stop();
      g->stop_returned = true;
    }
    client.reset();
    g->stop_returned = true;
    EXPECT_LT(Clock::now() - t0, 2s) << "teardown waited for the token provider";
    answer.join();
    provider->answer_all(token);  // a late answer to any fetch still parked
    EXPECT_EQ(g->late.load(), 0) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Ends, TokenFetch, ::testing::Values(End::stop, End::destroy),
                         [](const ::testing::TestParamInfo<End>& i) { return std::string(to_string(i.param)); });

}  // namespace
}  // namespace herald::test
