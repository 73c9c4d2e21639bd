// TestServer: the reference server (herald::server::Server) started in-process on
// 127.0.0.1:0 for an application's own tests, with a secret and an admin key of its own
// and a token provider for any user -- everything a test needs to run a real Herald
// client against a real server, on loopback, without configuration.
//
//   herald::testkit::TestServer server;                 // listening on 127.0.0.1:<port>
//   herald::ClientOptions opts;
//   opts.url = server.url();                            // ws://127.0.0.1:<port>/v1/stream
//   opts.token_provider = server.token_provider("alice");
//   herald::Client client(std::move(opts));
//   ...
//   server.publish("alice", "chat.message", R"({"text":"hi"})");
//   server.server().revoke("alice");                    // the whole server API
//   server.restart();                                   // same port, same store
//
// Put a FaultProxy (fault_proxy.hpp) between the client and server.port() to break the
// connection on purpose. Thread safety: as herald::server::Server's (every member may
// be called from any thread), except that restart() and stop() must not race each other.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "herald/server/server.hpp"
#include "herald/token_provider.hpp"

namespace herald::testkit {

class TestServer {
 public:
  /// Starts a server with `options` on 127.0.0.1 (its `listen_address` is ignored: tests
  /// stay on loopback); `jwt_secret` and `admin_key`, when empty, get random values.
  /// The default store is in memory: pass a `db_path` to keep history across restart().
  /// Throws std::runtime_error when the server cannot start.
  explicit TestServer(server::ServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  /// The running server (revoke, drain, connection counts, ...). Valid until restart().
  server::Server& server();
  std::uint16_t port() const;
  /// "ws://127.0.0.1:<port>/v1/stream".
  std::string url() const;
  /// The admin key of the HTTP admin API (/v1/admin/...).
  const std::string& admin_key() const;

  /// Tokens for `user`, each valid for `ttl`, signed with the server's secret. The
  /// provider keeps working while the server is stopped or restarting, and may outlive
  /// this TestServer.
  std::shared_ptr<TokenProvider> token_provider(const std::string& user,
                                                std::chrono::seconds ttl = std::chrono::hours{1}) const;
  /// One token for `user` (for a raw WebSocket client, say).
  std::string issue_token(const std::string& user, std::chrono::seconds ttl = std::chrono::hours{1}) const;
  /// Publishes a notification to `user`; returns its id.
  std::uint64_t publish(const std::string& user, const std::string& type, const std::string& data_json = "{}");

  /// Stops the server (its clients see the connection end) and starts a new one on the
  /// same port with the same options and store. Throws std::system_error when that port
  /// was taken meanwhile (by another process: the server binds with SO_REUSEADDR).
  void restart();
  /// Stops the server; restart() starts it again.
  void stop();

 private:
  server::ServerOptions options_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<server::Server> issuer_;  ///< same secret, never started: signs tokens
};

}  // namespace herald::testkit
