// A consumer of the installed herald::testing: a client receives through a FaultProxy
// from a TestServer, is cut off, and catches up on what it missed -- the kit as an
// application's own test would use it (docs/testing.md).
#include <herald/client.hpp>
#include <herald/cursor_store.hpp>
#include <herald/testing/fault_proxy.hpp>
#include <herald/testing/test_server.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

int main() {
  using namespace std::chrono_literals;
  herald::testkit::TestServer server;
  herald::testkit::FaultProxy proxy(server.port());

  herald::ClientOptions options;
  options.url = proxy.url();
  options.token_provider = server.token_provider("alice");
  options.cursor_store = std::make_shared<herald::MemoryCursorStore>(herald::Cursor{0});
  options.backoff_initial = 10ms;
  options.backoff_max = 100ms;
  herald::Client client(std::move(options));

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::uint64_t> ids;
  client.on_notification([&](const herald::Notification& n) {
    std::lock_guard lock(mutex);
    ids.push_back(n.id);
    changed.notify_all();
  });
  const auto received = [&](std::size_t n) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 15s, [&] { return ids.size() >= n; });
  };

  client.start();
  server.publish("alice", "t");
  bool ok = received(1);
  proxy.set_fault(herald::testkit::Fault::refuse());
  ok = ok && proxy.wait([](const herald::testkit::FaultProxyCounters& c) { return c.open_connections == 0; });
  server.publish("alice", "t");  // while the client is cut off
  proxy.set_fault(herald::testkit::Fault::none());
  ok = ok && received(2);
  client.stop();
  {
    std::lock_guard lock(mutex);
    ok = ok && ids == std::vector<std::uint64_t>{1, 2};
  }
  std::puts(ok ? "herald testing kit consumer: ok" : "herald testing kit consumer: FAILED");
  return ok ? 0 : 1;
}
