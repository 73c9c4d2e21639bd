// ClientOptions::callback_dispatcher against the reference server: callbacks run on
// the application's serial queue, a notification counts as taken when its callback
// there returned, and stop() keeps its promises across the thread hop.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

// An application's event loop: one thread running posted tasks in order.
class EventLoop {
 public:
  EventLoop() : thread_([this] { run(); }) {}
  ~EventLoop() {
    {
      std::lock_guard l(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CallbackDispatcher dispatcher() {
    return [this](std::function<void()> task) {
      std::lock_guard l(m_);
      tasks_.push_back(std::move(task));
      cv_.notify_all();
    };
  }
  std::thread::id id() const { return thread_.get_id(); }
  /// Returns once every task posted before it has run (or was dropped).
  void sync() {
    std::mutex m;
    std::condition_variable cv;
    bool ran = false;
    dispatcher()([&] {
      std::lock_guard l(m);
      ran = true;
      cv.notify_all();
    });
    std::unique_lock l(m);
    cv.wait(l, [&] { return ran; });
  }

 private:
  void run() {
    std::unique_lock l(m_);
    for (;;) {
      cv_.wait(l, [&] { return quit_ || !tasks_.empty(); });
      if (quit_) return;  // drops what was not run
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      l.unlock();
      task();
      l.lock();
    }
  }
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool quit_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

// A queue the test runs by hand, on its own thread.
class ManualQueue {
 public:
  CallbackDispatcher dispatcher() {
    return [this](std::function<void()> task) {
      std::lock_guard l(m_);
      tasks_.push_back(std::move(task));
      cv_.notify_all();
    };
  }
  /// Waits for a task and runs it here.
  bool run_next() {
    std::unique_lock l(m_);
    if (!cv_.wait_for(l, std::chrono::seconds{15}, [&] { return !tasks_.empty(); })) return false;
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    l.unlock();
    task();
    return true;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

// Raised once by one thread, awaited by another.
class Flag {
 public:
  void raise() {
    std::lock_guard l(m_);
    up_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock l(m_);
    return cv_.wait_for(l, std::chrono::seconds{15}, [&] { return up_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool up_ = false;
};

// What the callbacks saw, and where.
struct Seen {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::uint64_t> ids;
  std::vector<std::thread::id> threads;
  bool connected = false;

  void attach(Client& c) {
    c.on_notification([this](const Notification& n) {
      std::lock_guard l(m);
      ids.push_back(n.id);
      threads.push_back(std::this_thread::get_id());
      cv.notify_all();
    });
    c.on_state([this](const StateEvent& e) {
      std::lock_guard l(m);
      if (e.state == State::connected) connected = true;
      threads.push_back(std::this_thread::get_id());
      cv.notify_all();
    });
  }
  bool wait_ids(std::size_t n) {
    std::unique_lock l(m);
    return cv.wait_for(l, std::chrono::seconds{15}, [&] { return ids.size() >= n; });
  }
  std::size_t count() {
    std::lock_guard l(m);
    return ids.size();
  }
};

class CallbackDispatcherTest : public ServerFixture {
 protected:
  ClientOptions dispatched(CallbackDispatcher dispatcher, std::shared_ptr<CursorStore> store) const {
    auto o = client_options("alice", std::move(store));
    o.callback_dispatcher = std::move(dispatcher);
    return o;
  }
};

TEST_F(CallbackDispatcherTest, CallbacksRunOnTheDispatchersThreadInOrder) {
  start_server(server_options());
  EventLoop loop;
  Client client(dispatched(loop.dispatcher(), std::make_shared<MemoryCursorStore>(Cursor{0})));
  Seen seen;
  seen.attach(client);
  const auto ids = publish_many("alice", 20);
  client.start();
  ASSERT_TRUE(seen.wait_ids(20));
  client.stop();
  std::lock_guard l(seen.m);
  EXPECT_EQ(seen.ids, ids);
  EXPECT_TRUE(seen.connected);
  for (const auto& t : seen.threads) EXPECT_EQ(t, loop.id());
}

TEST_F(CallbackDispatcherTest, WhatWasQueuedAndNeverRunIsDeliveredAgain) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  const auto ids = publish_many("alice", 10);
  {
    ManualQueue queue;
    Client client(dispatched(queue.dispatcher(), store));
    Seen seen;
    seen.attach(client);
    client.start();
    while (seen.count() < 4) ASSERT_TRUE(queue.run_next());  // states, then notifications
    client.stop();                                           // six notifications still queued: never run
    EXPECT_EQ(store->load()->id, ids[3]);
  }
  EXPECT_EQ(next_client_receives("alice", store, 6), std::vector<std::uint64_t>(ids.begin() + 4, ids.end()));
}

TEST_F(CallbackDispatcherTest, StopFromAnotherThreadWaitsForTheRunningCallbackAndNoneRunsAfter) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  EventLoop loop;
  Client client(dispatched(loop.dispatcher(), store));
  std::mutex m;
  std::condition_variable cv;
  Flag inside;
  bool release = false, stop_returned = false;  // guarded by m
  int calls_after_stop = 0;                     // guarded by m
  std::vector<std::uint64_t> ids;
  client.on_notification([&](const Notification& n) {
    std::unique_lock l(m);
    if (stop_returned) ++calls_after_stop;
    if (n.id != ids[2]) return;
    inside.raise();
    cv.wait(l, [&] { return release; });
    EXPECT_FALSE(stop_returned) << "stop() returned while a callback was running";
  });
  ids = publish_many("alice", 10);
  client.start();
  ASSERT_TRUE(inside.wait());
  std::thread stopper([&] {
    client.stop();
    std::lock_guard l(m);
    stop_returned = true;
    cv.notify_all();
  });
  {
    std::unique_lock l(m);
    // Generous: a stop() that did not wait returns within microseconds.
    EXPECT_FALSE(cv.wait_for(l, std::chrono::milliseconds{300}, [&] { return stop_returned; }));
    release = true;
    cv.notify_all();
  }
  stopper.join();
  loop.sync();  // the notifications dispatched behind the one that was running had their turn
  std::lock_guard l(m);
  EXPECT_EQ(calls_after_stop, 0);
  EXPECT_EQ(store->load()->id, ids[2]) << "the callback that returned during stop() counts";
}

TEST_F(CallbackDispatcherTest, StopInsideADispatchedCallbackCountsItsNotificationAsTaken) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  EventLoop loop;
  Client client(dispatched(loop.dispatcher(), store));
  Flag stopped;
  std::vector<std::uint64_t> ids;
  client.on_notification([&](const Notification& n) {
    if (n.id != ids[4]) return;
    client.stop();
    stopped.raise();
  });
  ids = publish_many("alice", 8);
  client.start();
  ASSERT_TRUE(stopped.wait());
  EXPECT_EQ(store->load()->id, ids[4]);
  EXPECT_EQ(next_client_receives("alice", store, 3), std::vector<std::uint64_t>(ids.begin() + 5, ids.end()));
}

TEST_F(CallbackDispatcherTest, DestroyingTheClientInsideADispatchedCallbackIsSafe) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  EventLoop loop;
  auto client = std::make_unique<Client>(dispatched(loop.dispatcher(), store));
  Flag destroyed;
  std::vector<std::uint64_t> ids;
  client->on_notification([&](const Notification& n) {
    if (n.id != ids[1]) return;
    client.reset();
    destroyed.raise();
  });
  ids = publish_many("alice", 5);
  client->start();
  ASSERT_TRUE(destroyed.wait());
  EXPECT_EQ(store->load()->id, ids[1]);
}

}  // namespace
}  // namespace herald::test
