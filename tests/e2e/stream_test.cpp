// End to end: the SDK against the in-process reference server. Delivery, catch-up,
// fan-out, gaps.
#include <condition_variable>
#include <mutex>

#include <nlohmann/json.hpp>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using Stream = ServerFixture;

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> v;
  for (auto i = first; i <= last; ++i) v.push_back(i);
  return v;
}

TEST_F(Stream, PublishedWhileConnectedArrivesInOrderWithData) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 5; ++i)
    published.push_back(server_->publish("alice", "comment", R"({"n":)" + std::to_string(i) + "}"));
  ASSERT_TRUE(rec.wait_ids(5));
  EXPECT_EQ(rec.ids(), published);
  const auto n = rec.notifications();
  EXPECT_EQ(n[3].topic, "comment");
  EXPECT_EQ(n[3].data()["n"], 3);
  EXPECT_FALSE(n[3].created_at.empty());
  client.stop();
  EXPECT_EQ(client.metrics().notifications_delivered, 5u);
  EXPECT_EQ(client.metrics().cursor, published.back());
}

TEST_F(Stream, NewDeviceGetsOnlyLiveNotifications) {
  start_server(server_options());
  server_->publish("alice", "old", "{}");
  Client client(client_options("alice"));  // no cursor: a new device
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto live = server_->publish("alice", "new", "{}");
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{live});
}

TEST_F(Stream, StoppedClientCatchesUpExactlyTheMissedOnes) {
  start_server(server_options());
  auto cursor = std::make_shared<MemoryCursorStore>(Cursor{0});
  {
    Client first(client_options("alice", cursor));
    Recorder rec;
    rec.attach(first);
    first.start();
    ASSERT_TRUE(rec.wait_state(State::connected));
    server_->publish("alice", "a", "{}");
    server_->publish("alice", "b", "{}");
    ASSERT_TRUE(rec.wait_ids(2));
    first.stop();
  }
  std::vector<std::uint64_t> missed;
  for (int i = 0; i < 3; ++i) missed.push_back(server_->publish("alice", "offline", "{}"));
  Client second(client_options("alice", cursor));
  Recorder rec;
  rec.attach(second);
  second.start();
  ASSERT_TRUE(rec.wait_ids(3));
  const auto live = server_->publish("alice", "live", "{}");
  ASSERT_TRUE(rec.wait_ids(4));
  missed.push_back(live);
  EXPECT_EQ(rec.ids(), missed);
}

TEST_F(Stream, TwoClientsOfOneUserBothReceive) {
  start_server(server_options());
  Client a(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Client b(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Client other(client_options("bob", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder ra, rb, ro;
  ra.attach(a);
  rb.attach(b);
  ro.attach(other);
  a.start();
  b.start();
  other.start();
  ASSERT_TRUE(ra.wait_state(State::connected));
  ASSERT_TRUE(rb.wait_state(State::connected));
  ASSERT_TRUE(ro.wait_state(State::connected));
  const auto id = server_->publish("alice", "both", "{}");
  ASSERT_TRUE(ra.wait_ids(1));
  ASSERT_TRUE(rb.wait_ids(1));
  EXPECT_EQ(ra.ids(), std::vector<std::uint64_t>{id});
  EXPECT_EQ(rb.ids(), std::vector<std::uint64_t>{id});
  EXPECT_TRUE(ro.ids().empty());  // another user's stream is not shared
}

TEST_F(Stream, ServerRestartOnTheSameDatabaseResumesWithoutLossOrDuplicate) {
  start_server(server_options(db_file()));
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  server_->publish("alice", "before", "{}");
  server_->publish("alice", "before", "{}");
  ASSERT_TRUE(rec.wait_ids(2));

  server_.reset();  // the server goes away (close 1001)
  ASSERT_TRUE(rec.wait_state(State::reconnecting));
  // Published into the store while nobody listens, then the server comes back on the
  // same port and database.
  auto restarted = std::make_unique<server::Server>(server_options(db_file()));
  restarted->publish("alice", "during", "{}");
  server_ = std::move(restarted);
  ASSERT_EQ(server_->start(), port_);
  ASSERT_TRUE(rec.wait_ids(3));
  server_->publish("alice", "after", "{}");
  ASSERT_TRUE(rec.wait_ids(4));
  EXPECT_EQ(rec.ids(), range(1, 4));
  EXPECT_GE(client.metrics().reconnects, 1u);
}

TEST_F(Stream, CursorOlderThanRetentionRaisesAGapAndReplaysTheRest) {
  auto o = server_options();
  o.retention = 3;
  start_server(o);
  for (int i = 0; i < 10; ++i) server_->publish("alice", "t", "{}");
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{2})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(3));
  EXPECT_EQ(rec.ids(), range(8, 10));
  const auto gaps = rec.gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].last_seen_id, 2u);
  EXPECT_EQ(gaps[0].first_available_id, 8u);
}

TEST_F(Stream, FileCursorCarriesTheCatchUpAcrossClientInstances) {
  start_server(server_options());
  const auto path = dir_ / "cursor";
  {
    Client c(client_options("alice", std::make_shared<FileCursorStore>(path)));
    Recorder rec;
    rec.attach(c);
    c.start();
    ASSERT_TRUE(rec.wait_state(State::connected));
    server_->publish("alice", "a", "{}");
    ASSERT_TRUE(rec.wait_ids(1));
  }  // destroying the client stops it and flushes the cursor
  const auto missed = server_->publish("alice", "b", "{}");
  Client c(client_options("alice", std::make_shared<FileCursorStore>(path)));
  Recorder rec;
  rec.attach(c);
  c.start();
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{missed});
}

/// A cursor store that records what was flushed, and how often.
class FlushRecordingStore final : public CursorStore {
 public:
  std::optional<Cursor> load() override { return Cursor{0}; }
  void save(const Cursor& cursor) override {
    std::lock_guard lock(mutex_);
    saved_ = cursor.id;
  }
  void flush() override {
    std::lock_guard lock(mutex_);
    ++flushes_;
    flushed_ = saved_;
    changed_.notify_all();
  }
  /// Waits (bounded) until `id` was flushed.
  bool wait_flushed(std::uint64_t id, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return flushed_ >= id; });
  }
  int flushes() const {
    std::lock_guard lock(mutex_);
    return flushes_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t saved_ = 0;
  std::uint64_t flushed_ = 0;
  int flushes_ = 0;
};

// A running client flushes its cursor within cursor_flush_interval, not only at stop(),
// and a burst of notifications costs one flush, not one each.
TEST_F(Stream, TheCursorIsFlushedWithinTheFlushIntervalWhileTheClientRuns) {
  start_server(server_options());
  auto store = std::make_shared<FlushRecordingStore>();
  auto o = client_options("alice", store);
  o.cursor_flush_interval = std::chrono::milliseconds{100};
  Client c(std::move(o));
  Recorder rec;
  rec.attach(c);
  c.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  publish_many("alice", 20);
  ASSERT_TRUE(rec.wait_ids(20));
  EXPECT_TRUE(store->wait_flushed(20, std::chrono::seconds{10})) << "not flushed while running";
  EXPECT_LT(store->flushes(), 20) << "a flush per notification";
  EXPECT_EQ(c.metrics().state, State::connected);
}

}  // namespace
}  // namespace herald::test
