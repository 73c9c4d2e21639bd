// End to end, a TokenProvider whose fetch() throws: the failure is an answer like any
// other, handled as its own event after the batch that asked for the token was carried
// out. The client runs on an io_context the test drives, so every handler it runs is
// counted.
#include <atomic>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
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

// A blocking provider whose user signed out throws std::system_error(errc::auth_failed):
// the client stops with that code at once, without a connection attempt or a retry.
TEST(TokenFailure, ASignedOutUserStopsTheClientWithTheProvidersCode) {
  boost::asio::io_context io;
  std::atomic<int> calls{0};
  ClientOptions o;
  o.url = "ws://127.0.0.1:1/v1/stream";  // never reached
  o.token_provider = TokenProvider::from_blocking([&calls]() -> Token {
    ++calls;
    throw std::system_error(make_error_code(errc::auth_failed), "signed out");
  });
  o.backoff_initial = 1ms;  // a retry, if one were made, would come at once
  auto client = std::make_unique<Client>(std::move(o), boost::asio::any_io_executor(io.get_executor()));
  std::vector<StateEvent> states;  // only the thread running `io` touches it
  client->on_state([&](const StateEvent& e) { states.push_back(e); });
  client->start();
  // The fetch runs on a thread of its own; its answer arrives as a posted handler.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((states.empty() || states.back().state != State::stopped) && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(100ms);
  }
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back().state, State::stopped);
  EXPECT_EQ(states.back().reason, make_error_code(errc::auth_failed));
  EXPECT_NE(states.back().detail.find("signed out"), std::string::npos) << states.back().detail;
  EXPECT_EQ(client->metrics().connects, 0u);
  io.run_for(200ms);  // 200 retry delays long: none is made
  EXPECT_EQ(calls.load(), 1);
  // stop() (in the destructor) needs `io` running on another thread: `io` ran out of
  // work above (nothing left to do is the point), so it is restarted, with a guard.
  io.restart();
  auto work = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  client.reset();
  work.reset();
  runner.join();
}

}  // namespace
}  // namespace herald::test
