// End to end: the threading and lifetime contract. stop() from anywhere, destruction at
// any point, no callback after stop() returns, no store call after stop() returns.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;
using Lifetime = ServerFixture;

/// A FileCursorStore that counts the calls made after the test said the client is done
/// with it (`closed`). One hour between writes: only the first save and flush() write.
class WatchedFileStore final : public CursorStore {
 public:
  explicit WatchedFileStore(const std::filesystem::path& path) : file_(path, std::chrono::hours{1}) {}
  std::optional<Cursor> load() override { return file_.load(); }
  void save(const Cursor& cursor) override {
    if (closed) ++late_calls;
    file_.save(cursor);
  }
  void flush() override {
    if (closed) ++late_calls;
    file_.flush();
  }
  std::atomic<bool> closed{false};
  std::atomic<int> late_calls{0};

 private:
  FileCursorStore file_;
};

/// A TCP listener on 127.0.0.1:0 that never accepts: a client's connect completes (the
/// kernel's backlog) and its upgrade request is never answered.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("SilentListener: cannot listen on 127.0.0.1:0");
    }
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream"; }
  /// Waits until a connection is in the backlog.
  bool wait_pending(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  }
  /// Accepts the pending connection and reads until the peer closed it (true) or
  /// `timeout` passed without that (false).
  bool accept_and_wait_closed(std::chrono::milliseconds timeout) const {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool closed = false;
    char buf[4096];
    while (!closed && std::chrono::steady_clock::now() < deadline) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      closed = ::recv(c, buf, sizeof buf, 0) <= 0;  // the upgrade request first, then EOF
    }
    ::close(c);
    return closed;
  }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

/// A port on 127.0.0.1 that nothing listens on (bound, read back, released).
std::string url_nobody_listens_on() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), len);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/v1/stream";
}

std::size_t threads_of_this_process() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

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
  // (No callback announces the stop: the recorder's wait would only time out.)
  ASSERT_TRUE(eventually([&] { return client.metrics().state == State::stopped; }));
  client.stop();
  EXPECT_EQ(seen.load(), 2);
  EXPECT_EQ(cursor->load()->id, 2u);  // the cursor covers exactly what was handed over
}

// stop() inside on_notification: the notification being handled counts as handed over.
// Its id is saved and flushed before that stop() returns, and the store is not called
// again: with a FileCursorStore that buffers, the file holds the id at once.
TEST_F(Lifetime, StopInsideOnNotificationSavesAndFlushesThatIdBeforeStopReturns) {
  start_server(server_options());
  const auto path = dir_ / "cursor.txt";
  auto store = std::make_shared<WatchedFileStore>(path);
  Client client(client_options("alice", store));
  Recorder rec;
  rec.attach(client);
  std::mutex m;
  std::condition_variable cv;
  std::optional<std::uint64_t> on_disk_after_stop;  // guarded by m
  bool stopped_in_callback = false;                 // guarded by m
  client.on_notification([&](const Notification& n) {
    if (n.id != 2) return;
    client.stop();
    store->closed = true;  // from here on, every store call is a late one
    std::lock_guard l(m);
    const auto c = FileCursorStore(path).load();
    if (c) on_disk_after_stop = c->id;
    stopped_in_callback = true;
    cv.notify_all();
  });
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  for (int i = 0; i < 5; ++i) server_->publish("alice", "t", "{}");
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return stopped_in_callback; }));
  }
  client.stop();  // waits for the delivery that called stop() to be left
  std::lock_guard l(m);
  EXPECT_EQ(on_disk_after_stop, std::optional<std::uint64_t>{2}) << "the id being handled is on disk";
  EXPECT_EQ(store->late_calls.load(), 0) << "the store was called after stop() returned";
  EXPECT_EQ(FileCursorStore(path).load()->id, 2u);
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

// The observation window after stop() is not a guess: a second client of the same user
// (the witness) receives everything published, also after stop() returned, so a
// callback the stopped client still had queued would have run by the time the witness
// has the last id.
TEST_F(Lifetime, NoCallbackRunsAfterStopReturns) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Client witness(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder seen_by_witness;
  seen_by_witness.attach(witness);
  std::uint64_t witness_last = 0;  // guarded by m
  std::atomic<bool> stop_returned{false};
  std::atomic<int> late{0};
  std::atomic<int> callbacks{0};
  std::atomic<int> delivered{0};
  std::mutex m;
  std::condition_variable cv;
  const auto count = [&] {
    ++callbacks;
    if (stop_returned) ++late;
  };
  client.on_notification([&](const Notification&) {
    count();
    ++delivered;
    cv.notify_all();
  });
  client.on_state([&](const StateEvent&) { count(); });
  client.on_gap([&](const GapEvent&) { count(); });
  witness.on_notification([&](const Notification& n) {
    std::lock_guard l(m);
    witness_last = n.id;
    cv.notify_all();
  });
  client.start();
  witness.start();
  ASSERT_TRUE(seen_by_witness.wait_state(State::connected));
  std::atomic<bool> publishing{true};
  std::atomic<std::uint64_t> last_id{0};
  std::thread publisher([&] {  // until told, then 200 more: both bounded
    int after = 0;
    for (int i = 0; i < 5000 && after < 200; ++i) {
      last_id = server_->publish("alice", "t", "{}");
      if (!publishing) ++after;
    }
  });
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return delivered.load() >= 20; }));
  }
  client.stop();
  stop_returned = true;
  const int callbacks_at_stop = callbacks.load();
  publishing = false;
  publisher.join();
  {
    std::unique_lock l(m);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds{15}, [&] { return witness_last >= last_id.load(); }));
  }
  EXPECT_EQ(late.load(), 0);
  EXPECT_EQ(callbacks.load(), callbacks_at_stop);
  EXPECT_GT(last_id.load(), static_cast<std::uint64_t>(delivered.load())) << "publishing went on after stop()";
}

// Destroys clients at three points: just started against the server, inside the
// upgrade of a server that never answers (connect_timeout 30 s), and while waiting 30 s
// to retry. Each destruction must finish well inside those 30 s and leave no thread of
// the client and no connection behind.
TEST_F(Lifetime, DestroyWhileConnectingOrWaitingToRetry) {
  start_server(server_options());
  const auto token = issuer_->issue_token("alice", std::chrono::hours{1});
  const auto threads_before = threads_of_this_process();
  constexpr auto kBound = std::chrono::seconds{5};
  for (int i = 0; i < 12; ++i) {
    SilentListener silent;
    auto o = client_options("alice");
    o.token_provider = TokenProvider::fixed(token);  // no fetch threads of its own
    o.connect_timeout = std::chrono::seconds{30};
    o.backoff_initial = std::chrono::seconds{30};
    o.backoff_max = std::chrono::seconds{30};
    o.backoff_jitter = false;
    const int point = i % 3;
    if (point == 1) o.url = silent.url();
    if (point == 2) o.url = url_nobody_listens_on();
    auto c = std::make_unique<Client>(std::move(o));
    Recorder rec;
    rec.attach(*c);
    c->start();
    if (point == 1) {
      ASSERT_TRUE(silent.wait_pending(kBound)) << "the client never connected";
    } else if (point == 2) {
      ASSERT_TRUE(rec.wait_state(State::reconnecting)) << "the client never failed";
    }
    if (i % 2 == 1) c->stop();
    const auto t0 = std::chrono::steady_clock::now();
    c.reset();
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, kBound) << "destroying at point " << point << " took "
                            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
    if (point == 1) {
      EXPECT_TRUE(silent.accept_and_wait_closed(kBound)) << "the connection was left open";
    }
  }
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }, kBound)) << "a stream was left open";
  EXPECT_TRUE(eventually([&] { return threads_of_this_process() == threads_before; }, kBound))
      << threads_of_this_process() << " threads, " << threads_before << " before";
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

namespace herald::test {
namespace {

// The on_* setters at any time, from any thread: a thread swapping on_notification
// between two callbacks while notifications flow. Each notification reaches exactly one
// of them (none lost to a half-replaced callback), and TSan sees no race (the setters
// used to assign the std::function the I/O thread was calling).
TEST_F(Lifetime, CallbacksCanBeReplacedFromAnotherThreadWhileNotificationsFlow) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  std::atomic<int> to_a{0}, to_b{0};
  client.on_notification([&to_a](const Notification&) { ++to_a; });
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::atomic<bool> swapping{true};
  std::thread swapper([&] {
    for (int i = 0; swapping; ++i) {
      if (i % 2 == 0) {
        client.on_notification([&to_a](const Notification&) { ++to_a; });
      } else {
        client.on_notification([&to_b](const Notification&) { ++to_b; });
      }
      std::this_thread::yield();
    }
  });
  constexpr int kPublished = 300;
  for (int i = 0; i < kPublished; ++i) server_->publish("alice", "t", "{}");
  const bool all = eventually([&] { return to_a + to_b == kPublished; }, 30s);
  swapping = false;
  swapper.join();
  client.stop();
  EXPECT_TRUE(all) << to_a << " + " << to_b << " of " << kPublished;
  EXPECT_EQ(to_a + to_b, kPublished) << "each notification handed to exactly one callback";
  EXPECT_EQ(client.metrics().notifications_delivered, static_cast<std::uint64_t>(kPublished));
}

// A callback that replaces itself keeps running on its own state: the replacement does
// not destroy it mid-call (ASan: a use after free of its captures, as it used to be).
TEST_F(Lifetime, ACallbackThatReplacesItselfFinishesOnItsOwnCaptures) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  std::mutex m;
  std::vector<std::string> seen;
  client.on_notification([&, label = std::string(256, 'a')](const Notification& n) {
    client.on_notification([&](const Notification& later) {
      std::lock_guard l(m);
      seen.push_back("second:" + std::to_string(later.id));
    });
    std::lock_guard l(m);  // after the replacement: `label` must still be alive
    seen.push_back("first:" + std::to_string(n.id) + ":" + std::to_string(label.size()));
  });
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  server_->publish("alice", "t", "{}");
  server_->publish("alice", "t", "{}");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard l(m);
    return seen.size() == 2;
  }));
  client.stop();
  std::lock_guard l(m);
  EXPECT_EQ(seen, (std::vector<std::string>{"first:1:256", "second:2"}));
}

}  // namespace
}  // namespace herald::test
