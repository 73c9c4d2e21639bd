// DeliveryReceipt::acknowledged against the reference server: the stored cursor follows
// the application's acknowledgements, and what was delivered but not acknowledged is
// delivered again to the next client on the same store.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

class DeliveryReceiptTest : public ServerFixture {
 protected:
  ClientOptions acknowledging(std::shared_ptr<CursorStore> store) const {
    auto o = client_options("alice", std::move(store));
    o.delivery_receipt = DeliveryReceipt::acknowledged;
    return o;
  }
};

TEST_F(DeliveryReceiptTest, TheStoredCursorFollowsTheAcknowledgementsNotTheCallbacks) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(acknowledging(store));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto ids = publish_many("alice", 10);
  ASSERT_TRUE(rec.wait_ids(10));
  EXPECT_EQ(rec.ids(), ids);
  EXPECT_EQ(store->load()->id, 0U) << "nothing acknowledged, nothing stored";
  client.acknowledge(ids[5]);  // from this thread: the first six are taken
  client.stop();
  ASSERT_TRUE(store->load());
  EXPECT_EQ(store->load()->id, ids[5]);
  EXPECT_EQ(next_client_receives("alice", store, 4), std::vector<std::uint64_t>(ids.begin() + 6, ids.end()));
}

TEST_F(DeliveryReceiptTest, AWorkerThatAcknowledgesAsItCommitsLosesAndDoublesNothingAcrossAStop) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(acknowledging(store));
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::uint64_t> queue;       // guarded by m
  std::vector<std::uint64_t> committed;  // guarded by m
  bool done = false;                     // guarded by m
  client.on_notification([&](const Notification& n) {
    std::lock_guard l(m);
    queue.push_back(n.id);
    cv.notify_all();
  });
  const auto ids = publish_many("alice", 40);
  std::thread worker([&] {  // commits 25 of them, one at a time, then stops taking more
    for (;;) {
      std::unique_lock l(m);
      cv.wait(l, [&] { return !queue.empty() || done; });
      if (done || committed.size() == 25) return;
      const auto id = queue.front();
      queue.pop_front();
      committed.push_back(id);
      cv.notify_all();
      l.unlock();
      client.acknowledge(id);
    }
  });
  client.start();
  bool all_arrived = false;
  {
    std::unique_lock l(m);
    all_arrived =
        cv.wait_for(l, std::chrono::seconds{15}, [&] { return committed.size() == 25 && queue.size() == 15; });
    done = true;
    cv.notify_all();
  }
  worker.join();
  client.stop();
  ASSERT_TRUE(all_arrived);
  ASSERT_EQ(committed.size(), 25U);
  EXPECT_EQ(committed, std::vector<std::uint64_t>(ids.begin(), ids.begin() + 25));
  EXPECT_EQ(store->load()->id, ids[24]);
  EXPECT_EQ(next_client_receives("alice", store, 15), std::vector<std::uint64_t>(ids.begin() + 25, ids.end()));
}

TEST_F(DeliveryReceiptTest, StopInsideOnNotificationStoresOnlyWhatWasAcknowledged) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(acknowledging(store));
  std::mutex m;
  std::condition_variable cv;
  bool stopped = false;  // guarded by m
  std::vector<std::uint64_t> ids;
  client.on_notification([&](const Notification& n) {
    if (n.id <= ids[2]) client.acknowledge(n.id);  // on the I/O thread, at once
    if (n.id != ids[4]) return;
    client.stop();  // 4 and 5 were handed over, not acknowledged
    std::lock_guard l(m);
    stopped = true;
    cv.notify_all();
  });
  ids = publish_many("alice", 8);
  client.start();
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return stopped; }));
  }
  client.stop();
  EXPECT_EQ(store->load()->id, ids[2]);
  EXPECT_EQ(next_client_receives("alice", store, 5), std::vector<std::uint64_t>(ids.begin() + 3, ids.end()));
}

TEST_F(DeliveryReceiptTest, WhenCallbacksAreTheReceiptAcknowledgeDoesNothing) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(client_options("alice", store));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto ids = publish_many("alice", 3);
  ASSERT_TRUE(rec.wait_ids(3));
  client.acknowledge(ids[0]);
  client.stop();
  EXPECT_EQ(store->load()->id, ids[2]);
}

}  // namespace
}  // namespace herald::test
