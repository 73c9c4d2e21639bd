// herald_stream_bench: end-to-end throughput of the whole SDK (TCP on loopback, Beast,
// Decoder, lifecycle, cursor store, callback) on a catch-up replay from the in-process
// reference server. The server is pre-loaded with N notifications for one user; a
// Client with cursor 0 then replays them all. Measured: start() to the last id handed to
// on_notification. The server runs in the same process (its own I/O thread, SQLite
// reads, JSON encoding), so this is a lower bound of what the client alone could take.
//
// Usage: herald_stream_bench [notifications=200000] [runs=3]

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <herald/client.hpp>
#include <herald/server/server.hpp>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(120);

std::string data_for(std::uint64_t i) {
  static constexpr const char* kNames[] = {"Ada", "Grace", "Linus", "Barbara"};
  const char* name = kNames[i % 4];
  return std::string(R"({"text":")") + name + R"( commented on your post","post":)" +
         std::to_string(10'000 + i % 90'000) + R"(,"actor":{"id":"u)" + std::to_string(i % 1000) + R"(","name":")" +
         name + R"("}})";
}

struct Run {
  bool ok = false;
  double seconds = 0;
  std::uint64_t delivered = 0;
  std::uint64_t checksum = 0;
};

Run replay_once(std::uint16_t port, const std::string& token, std::uint64_t last_id) {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool failed = false;
  Run run;

  herald::ClientOptions opts;
  opts.url = "ws://127.0.0.1:" + std::to_string(port) + "/v1/stream";
  opts.token_provider = herald::TokenProvider::fixed(token);
  opts.cursor_store = std::make_shared<herald::MemoryCursorStore>(herald::Cursor{0});
  opts.max_attempts = 1;
  herald::Client client(std::move(opts));
  client.on_notification([&](const herald::Notification& n) {
    ++run.delivered;
    run.checksum += n.id + n.data_json.size();
    if (n.id == last_id) {
      std::lock_guard lock(mutex);
      done = true;
      cv.notify_all();
    }
  });
  client.on_state([&](const herald::StateEvent& e) {
    if (e.state == herald::State::stopped || e.state == herald::State::reconnecting) {
      std::lock_guard lock(mutex);
      failed = true;
      cv.notify_all();
    }
  });
  const auto t0 = Clock::now();
  client.start();
  {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, kTimeout, [&] { return done || failed; });
    run.ok = done;
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  client.stop();
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t count = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200'000;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  if (count == 0 || runs <= 0) {
    std::fprintf(stderr, "usage: %s [notifications>0] [runs>0]\n", argv[0]);
    return 2;
  }
  herald::server::ServerOptions sopts;
  sopts.jwt_secret = "bench-secret";
  sopts.admin_key = "bench-admin";
  sopts.retention = count;
  herald::server::Server server(sopts);
  const auto port = server.start();

  const auto t_pub = Clock::now();
  std::uint64_t last_id = 0;
  for (std::uint64_t i = 0; i < count; ++i) last_id = server.publish("bench", "comment", data_for(i));
  const double publish_s = std::chrono::duration<double>(Clock::now() - t_pub).count();
  std::printf("published %llu notifications in %.2f s (%.0f/s, server-side SQLite insert + fan-out)\n",
              static_cast<unsigned long long>(count), publish_s, static_cast<double>(count) / publish_s);
#ifndef NDEBUG
  std::printf("ASSERTIONS ON: not an optimised build, numbers are meaningless\n");
#endif

  const auto token = server.issue_token("bench", std::chrono::hours(1));
  std::vector<double> rates;
  std::uint64_t checksum = 0;
  for (int r = 0; r < runs; ++r) {
    const auto run = replay_once(port, token, last_id);
    if (!run.ok || run.delivered != count) {
      std::fprintf(stderr, "run %d failed: %llu of %llu delivered in %.1f s\n", r + 1,
                   static_cast<unsigned long long>(run.delivered), static_cast<unsigned long long>(count), run.seconds);
      return 1;
    }
    const double rate = static_cast<double>(count) / run.seconds;
    std::printf("run %d: %llu notifications in %.3f s = %.0f msgs/s (%.0f ns/msg)\n", r + 1,
                static_cast<unsigned long long>(count), run.seconds, rate,
                1e9 * run.seconds / static_cast<double>(count));
    rates.push_back(rate);
    checksum += run.checksum;
  }
  std::sort(rates.begin(), rates.end());
  std::printf("best %.0f msgs/s, median %.0f msgs/s (checksum %llu)\n", rates.back(), rates[rates.size() / 2],
              static_cast<unsigned long long>(checksum));
  server.stop();
  return 0;
}
