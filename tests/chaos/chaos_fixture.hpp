// Shared set-up of the chaos tests: an in-process reference server on 127.0.0.1:0, a
// token issuer that shares its secret (and works while the server under test is down),
// client options with short backoff, and the scale factor for sanitizer builds.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "herald/client.hpp"
#include "support/recorder.hpp"
#include "support/server_fixture.hpp"

// Percentage applied to loop counts; CMake sets 20 in sanitizer builds.
#ifndef HERALD_TEST_SCALE
#define HERALD_TEST_SCALE 100
#endif

namespace herald::test {

/// `n` scaled for the build (never below `floor`).
inline int scaled(int n, int floor = 1) { return std::max(floor, n * HERALD_TEST_SCALE / 100); }

inline constexpr const char* kJwtSecret = kTestJwtSecret;
inline constexpr const char* kAdminKey = kTestAdminKey;

class ChaosTest : public InProcessServerTest {
 protected:
  /// A fresh port each time (tests that restart pass theirs), retention for long loops.
  server::ServerOptions server_options(std::string db = ":memory:") const {
    auto o = base_server_options(std::move(db));
    o.port = 0;
    o.retention = 1'000'000;
    return o;
  }
  using InProcessServerTest::start_server;
  void start_server() { start_server(server_options()); }
  std::string direct_url() const { return stream_url(); }

  /// Options for `user` at `url`: cursor 0 (every id > 0 is delivered), backoff 10/200 ms.
  ClientOptions client_options(const std::string& url, const std::string& user = "alice") const {
    auto o = base_client_options(url, user, from_the_start());
    o.backoff_initial = std::chrono::milliseconds{10};
    o.connect_timeout = std::chrono::seconds{5};
    return o;
  }
};

}  // namespace herald::test
