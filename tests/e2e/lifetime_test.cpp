// End to end: the threading and lifetime contract. stop() from anywhere, destruction at
// any point, no callback after stop() returns.
#include <atomic>
#include <thread>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using Lifetime = ServerFixture;

TEST_F(Lifetime, StopInsideACallbackEndsDeliveryAtOnce) {
  start_server(server_options());
  auto cursor = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(client_options("alice", cursor));
  std::atomic<int> seen{0};
  Recorder rec;
  rec.attach(client);
  client.on_notification([&](const Notification&) {
    if (++seen == 2) client.stop();
  });
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  for (int i = 0; i < 5; ++i) server_->publish("alice", "t", "{}");
  // stop() from the callback returns at once; a second stop() from here waits for it.
  ASSERT_TRUE(rec.wait([&] { return client.metrics().state == State::stopped; }));
  client.stop();
  EXPECT_EQ(seen.load(), 2);
  EXPECT_EQ(cursor->load()->id, 2u);  // the cursor covers exactly what was handed over
}

TEST_F(Lifetime, DestroyingTheClientInsideItsOwnCallbackIsSafe) {
  start_server(server_options());
  auto client = std::make_unique<Client>(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  std::mutex m;
  std::condition_variable cv;
  bool destroyed = false;
  client->on_notification([&](const Notification&) {
    std::lock_guard l(m);
    client.reset();
    destroyed = true;
    cv.notify_all();
  });
  client->on_state([&](const StateEvent& e) {
    if (e.state == State::connected) server_->publish("alice", "t", "{}");
  });
  client->start();
  std::unique_lock l(m);
  ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return destroyed; }));
}

TEST_F(Lifetime, NoCallbackRunsAfterStopReturns) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  std::atomic<bool> stopped{false};
  std::atomic<int> late{0};
  std::atomic<int> delivered{0};
  std::mutex m;
  std::condition_variable cv;
  client.on_notification([&](const Notification&) {
    if (stopped) ++late;
    ++delivered;
    cv.notify_all();
  });
  client.on_state([&](const StateEvent&) {
    if (stopped) ++late;
  });
  client.start();
  std::atomic<bool> publishing{true};
  std::thread publisher([&] {
    for (int i = 0; i < 2000 && publishing; ++i) server_->publish("alice", "t", "{}");
  });
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return delivered.load() >= 20; }));
  }
  client.stop();
  stopped = true;
  publishing = false;
  publisher.join();
  EXPECT_EQ(late.load(), 0);
}

TEST_F(Lifetime, DestroyWhileConnectingOrWaitingToRetry) {
  start_server(server_options());
  for (int i = 0; i < 20; ++i) {
    auto o = client_options("alice");
    if (i % 2 == 1) o.url = "ws://127.0.0.1:1/v1/stream";  // nothing listens: backoff
    Client c(std::move(o));
    c.start();
    if (i % 4 == 0) c.stop();
  }  // each iteration destroys a client at some point of connecting
  SUCCEED();
}

TEST_F(Lifetime, ConcurrentStopsFromManyThreadsAreIdempotent) {
  start_server(server_options());
  Client client(client_options("alice"));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { client.stop(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(client.metrics().state, State::stopped);
  client.start();  // after stop(): does nothing
  EXPECT_EQ(client.metrics().state, State::stopped);
}

}  // namespace
}  // namespace herald::test
