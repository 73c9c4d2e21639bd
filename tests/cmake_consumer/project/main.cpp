// A consumer of the installed package: constructs a client (no server needed) and
// checks the public API is usable on its own.
#include <herald/client.hpp>

#include <cstdio>

int main() {
  herald::ClientOptions options;
  options.url = "ws://127.0.0.1:9/v1/stream";
  options.token_provider = herald::TokenProvider::fixed("t");
  herald::Client client(std::move(options));
  const bool ok = client.metrics().state == herald::State::idle &&
                  herald::make_error_code(herald::errc::auth_failed) == herald::condition::permanent;
  std::puts(ok ? "herald consumer: ok" : "herald consumer: FAILED");
  return ok ? 0 : 1;
}
