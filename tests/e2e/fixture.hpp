// An in-process reference server on 127.0.0.1:0 and helpers to build clients for it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "herald/client.hpp"
#include "herald/server/server.hpp"
#include "support/recorder.hpp"

namespace herald::test {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("herald-e2e-" + std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    // Tokens come from an issuer that shares the servers' secret but is never started,
    // so clients can fetch tokens while the server under test is down.
    issuer_ = std::make_shared<server::Server>(server_options());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  server::ServerOptions server_options(std::string db = ":memory:") {
    server::ServerOptions o;
    o.jwt_secret = "e2e-secret-0123456789abcdef";
    o.admin_key = "e2e-admin-key";
    o.db_path = std::move(db);
    o.port = port_;
    return o;
  }
  void start_server(server::ServerOptions o) {
    server_ = std::make_unique<server::Server>(std::move(o));
    port_ = server_->start();
  }
  std::string db_file() const { return (dir_ / "herald.db").string(); }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream"; }

  /// Options for user `user` whose tokens come from the in-process server.
  ClientOptions client_options(const std::string& user, std::shared_ptr<CursorStore> cursor = nullptr) {
    ClientOptions o;
    o.url = url();
    // A fetch thread may outlive the test (from_blocking detaches it): it shares
    // ownership of the issuer instead of pointing into the fixture.
    o.token_provider = TokenProvider::from_blocking([issuer = issuer_, user] {
      return Token{issuer->issue_token(user, std::chrono::hours{1}), std::nullopt};
    });
    o.cursor_store = std::move(cursor);
    o.backoff_initial = std::chrono::milliseconds{20};
    o.backoff_max = std::chrono::milliseconds{200};
    return o;
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<server::Server> issuer_;
};

}  // namespace herald::test
