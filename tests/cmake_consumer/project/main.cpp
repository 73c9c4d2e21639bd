// A consumer of the installed package that links herald::sdk alone (also built with
// pkg-config only): connects to the reference server that run_against_server.sh started
// (the stream URL as its argument, the token in HERALD_TOKEN), prints "connected", and
// exits 0 once it has received the notification published then.
#include <herald/client.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>

int main(int argc, char** argv) {
  const char* token = std::getenv("HERALD_TOKEN");
  if (argc != 2 || token == nullptr) {
    std::fputs("usage: HERALD_TOKEN=... herald_consumer ws://HOST:PORT/v1/stream\n", stderr);
    return 2;
  }
  herald::ClientOptions options;
  options.url = argv[1];
  options.token_provider = herald::TokenProvider::fixed(token);
  std::promise<bool> received;  // outlives the client, whose callbacks set it
  std::atomic<bool> first{true};
  herald::Client client(std::move(options));
  client.on_state([](const herald::StateEvent& e) {
    if (e.state == herald::State::connected) {
      std::puts("connected");
      std::fflush(stdout);
    }
  });
  client.on_notification([&](const herald::Notification& n) {
    if (first.exchange(false)) received.set_value(n.id == 1 && n.topic == "comment");
  });
  client.start();

  auto result = received.get_future();
  const bool arrived = result.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  client.stop();
  const bool ok =
      arrived && result.get() && herald::make_error_code(herald::errc::auth_failed) == herald::condition::permanent;
  std::puts(ok ? "herald consumer: ok" : "herald consumer: FAILED (no notification id 1, topic comment)");
  return ok ? 0 : 1;
}
