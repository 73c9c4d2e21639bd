// An in-process server on 127.0.0.1:0 and helpers shared by the HTTP/WebSocket tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "herald/server/server.hpp"
#include "test_client.hpp"

namespace herald::server::testing {

inline constexpr const char* kSecret = "test-jwt-secret-0123456789abcdef";
inline constexpr const char* kAdminKey = "test-admin-key-fedcba9876543210";

class ServerTest : public ::testing::Test {
 protected:
  static ServerOptions default_options() {
    ServerOptions o;
    o.jwt_secret = kSecret;
    o.admin_key = kAdminKey;
    return o;
  }
  void start(ServerOptions o = default_options()) {
    server_ = std::make_unique<Server>(std::move(o));
    port_ = server_->start();
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  static Headers admin() { return {{"Authorization", std::string("Bearer ") + kAdminKey}}; }
  Headers bearer(const std::string& user, std::chrono::seconds ttl = std::chrono::hours(1)) {
    return {{"Authorization", "Bearer " + server_->issue_token(user, ttl)}};
  }
  // Waits (bounded, without spinning) until the server reports `n` live streams.
  bool await_connections(std::size_t n) { return server_->wait_connection_count(n, kTestTimeout); }

  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

}  // namespace herald::server::testing
