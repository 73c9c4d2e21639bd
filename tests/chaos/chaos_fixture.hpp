// Shared set-up of the chaos tests: an in-process reference server on 127.0.0.1:0, a
// token issuer that shares its secret (and works while the server under test is down),
// client options with short backoff, and the scale factor for sanitizer builds.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "herald/client.hpp"
#include "herald/server/server.hpp"
#include "support/recorder.hpp"

// Percentage applied to loop counts; CMake sets 20 in sanitizer builds.
#ifndef HERALD_TEST_SCALE
#define HERALD_TEST_SCALE 100
#endif

namespace herald::test {

/// `n` scaled for the build (never below `floor`).
inline int scaled(int n, int floor = 1) { return std::max(floor, n * HERALD_TEST_SCALE / 100); }

inline constexpr const char* kJwtSecret = "chaos-secret-0123456789abcdef";
inline constexpr const char* kAdminKey = "chaos-admin-key";

class ChaosTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("herald-chaos-" + std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    issuer_ = std::make_shared<server::Server>(server_options());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static server::ServerOptions server_options(std::string db = ":memory:") {
    server::ServerOptions o;
    o.jwt_secret = kJwtSecret;
    o.admin_key = kAdminKey;
    o.db_path = std::move(db);
    o.retention = 1'000'000;
    return o;
  }
  void start_server(server::ServerOptions o = server_options()) {
    server_ = std::make_unique<server::Server>(std::move(o));
    port_ = server_->start();
  }
  std::string direct_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream"; }

  /// Options for `user` at `url`: cursor 0 (every id > 0 is delivered), backoff 10/200 ms.
  ClientOptions client_options(const std::string& url, const std::string& user = "alice") {
    ClientOptions o;
    o.url = url;
    // Shared: a detached fetch thread may outlive the test.
    o.token_provider = TokenProvider::from_blocking(
        [issuer = issuer_, user] { return Token{issuer->issue_token(user, std::chrono::hours{1}), std::nullopt}; });
    o.cursor_store = std::make_shared<MemoryCursorStore>(0);
    o.backoff_initial = std::chrono::milliseconds{10};
    o.backoff_max = std::chrono::milliseconds{200};
    o.connect_timeout = std::chrono::seconds{5};
    return o;
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<server::Server> issuer_;
};

}  // namespace herald::test
