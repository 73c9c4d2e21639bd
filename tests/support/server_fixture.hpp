// The base of every fixture that runs the reference server in-process: a fresh temp
// folder, a server on 127.0.0.1:0 (a restart may reuse the port), and a token issuer
// that shares the server's secret but is never started, so clients can fetch tokens
// while the server under test is down, and the client options every suite starts from.
// The base of the e2e, chaos, cli, tls, interop, front-end and Qt fixtures.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "herald/client.hpp"
#include "herald/cursor_store.hpp"
#include "herald/server/server.hpp"
#include "herald/token_provider.hpp"

namespace herald::test {

inline constexpr const char* kTestJwtSecret = "test-secret-0123456789abcdef";
inline constexpr const char* kTestAdminKey = "test-admin-key";

class InProcessServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("herald-" + std::string(info ? info->test_suite_name() : "test") + "-" +
            std::to_string(std::random_device{}()) + "-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    issuer_ = std::make_shared<server::Server>(base_server_options());
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// Options of the server under test: the shared secret and admin key, `db`, and the
  /// port of the previous start (0 at first), so a restart keeps clients' URL valid.
  server::ServerOptions base_server_options(std::string db = ":memory:") const {
    server::ServerOptions o;
    o.jwt_secret = kTestJwtSecret;
    o.admin_key = kTestAdminKey;
    o.db_path = std::move(db);
    o.port = port_;
    return o;
  }
  void start_server(server::ServerOptions o) {
    server_ = std::make_unique<server::Server>(std::move(o));
    port_ = server_->start();
  }
  std::string db_file() const { return (dir_ / "herald.db").string(); }
  std::string stream_url() const { return "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream"; }

  /// What every suite's clients start from: `user` at `url`, tokens from the issuer, the
  /// cursor in `cursor` (nullptr: an empty store, a new device), and a backoff short
  /// enough for tests (20 ms doubling to 200 ms). Each suite sets the rest.
  ClientOptions base_client_options(std::string url, const std::string& user,
                                    std::shared_ptr<CursorStore> cursor = nullptr) const {
    ClientOptions o;
    o.url = std::move(url);
    o.token_provider = token_provider(user);
    o.cursor_store = std::move(cursor);
    o.backoff_initial = std::chrono::milliseconds{20};
    o.backoff_max = std::chrono::milliseconds{200};
    return o;
  }
  /// A store at cursor 0: every id published for the user is handed over.
  static std::shared_ptr<CursorStore> from_the_start() { return std::make_shared<MemoryCursorStore>(Cursor{0}); }

  /// Tokens of `user`, each valid `ttl`, from the issuer. Each fetch runs on a detached
  /// thread (from_blocking) that may outlive the test: it shares the issuer, never
  /// points into the fixture.
  std::shared_ptr<TokenProvider> token_provider(const std::string& user,
                                                std::chrono::seconds ttl = std::chrono::hours{1}) const {
    return TokenProvider::from_blocking([issuer = issuer_, user, ttl] {
      return Token{issuer->issue_token(user, ttl), std::nullopt};
    });
  }

  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<server::Server> issuer_;
};

}  // namespace herald::test
