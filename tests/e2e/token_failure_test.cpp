// End to end, a TokenProvider whose fetch() throws: the failure is an answer like any
// other, handled as its own event after the batch that asked for the token was carried
// out. The client runs on an io_context the test drives, so every handler it runs is
// counted.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

class ThrowingProvider final : public TokenProvider {
 public:
  void fetch(Callback /*done*/) override {
    ++calls;
    throw std::runtime_error("auth backend down");
  }
  std::atomic<int> calls{0};
};

// The old driver handled the throw inside execute(): the lifecycle cancelled the token
// timeout and armed the retry, and then the rest of the asking batch armed the token
// timeout again, for a fetch that was long over. Here that stale timer is the only
// thing that could wake the client before its retry an hour away.
TEST(TokenFailure, AProviderThatThrowsLeavesNothingToRunBeforeTheRetry) {
  boost::asio::io_context io;
  auto provider = std::make_shared<ThrowingProvider>();
  ClientOptions o;
  o.url = "ws://127.0.0.1:1/v1/stream";  // never reached: there is no token
  o.token_provider = provider;
  o.token_timeout = 50ms;
  o.backoff_initial = 1h;
  o.backoff_max = 1h;
  o.backoff_jitter = false;
  auto client = std::make_unique<Client>(std::move(o), boost::asio::any_io_executor(io.get_executor()));
  std::vector<StateEvent> states;  // only the thread running `io` touches it
  client->on_state([&](const StateEvent& e) { states.push_back(e); });
  client->start();

  io.poll();  // the start, the fetch that throws, its failure: all that is ready now
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].state, State::connecting);
  EXPECT_EQ(states[1].state, State::reconnecting);
  EXPECT_EQ(states[1].reason, make_error_code(errc::token_fetch_failed));
  EXPECT_EQ(states[1].detail, "auth backend down");
  EXPECT_EQ(provider->calls.load(), 1);

  // Ten token timeouts long: nothing is due (the retry is an hour away).
  EXPECT_EQ(io.run_for(500ms), 0u) << "a stale token timeout fired";
  EXPECT_EQ(states.size(), 2u);
  EXPECT_EQ(provider->calls.load(), 1);

  // stop() (in the destructor) needs `io` running on another thread.
  std::thread runner([&] { io.run(); });
  client.reset();
  runner.join();
}

}  // namespace
}  // namespace herald::test
