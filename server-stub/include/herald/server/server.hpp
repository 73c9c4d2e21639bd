// Herald reference server: one HTTP/WebSocket listener implementing wire protocol v1
// (docs/protocol.md) plus the admin HTTP API used by tests and demos.
//
// Example (in-process test):
//
//   herald::server::ServerOptions opts;
//   opts.jwt_secret = "dev-secret";
//   opts.admin_key = "dev-admin";
//   herald::server::Server server(opts);
//   std::uint16_t port = server.start();          // 127.0.0.1:<port>
//   std::string token = server.issue_token("u1", std::chrono::hours(1));
//   server.publish("u1", "comment", R"({"text":"hi"})");
//   server.stop();                                 // or let the destructor do it
//
// Thread safety: distinct objects: safe. Shared objects: start(), stop(), publish(),
// issue_token(), revoke(), drain(), draining(), wait_drained(), port(),
// connection_count() and wait_connection_count() may be called from any thread,
// concurrently. The server runs all
// network I/O on one thread of its own.
//
// Rolling deploys (what herald-server does on SIGTERM):
//
//   server.drain(std::chrono::seconds(30));  // streams get {"type":"drain",...}
//   server.wait_drained();                   // last stream gone, or window over
//   server.stop();
// TLS: set tls_cert_file + tls_key_file and the listener speaks only TLS 1.2+ (one
// mode per server; there is no plain port next to it).
//
// Errors: the constructor throws std::invalid_argument naming the bad field;
// publish() throws std::invalid_argument on a bad user id, topic or data. No message
// of any exception, log line (at any level), HTTP body, WebSocket error frame or close
// reason contains a token, the JWT secret or the admin key.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace herald::server {

struct ServerOptions {
  /// Address to bind. Default "127.0.0.1".
  std::string listen_address = "127.0.0.1";
  /// TCP port. Default 0: the OS picks one; start() returns it.
  std::uint16_t port = 0;
  /// SQLite database file (WAL mode), or ":memory:" (lost on exit). Default ":memory:".
  std::string db_path = ":memory:";
  /// HS256 key that signs and verifies access tokens. Required, no default.
  std::string jwt_secret;
  /// Bearer key of the admin HTTP API. Required, no default.
  std::string admin_key;
  /// WebSocket ping interval, announced as welcome.heartbeat_s. Default 25 s (1..3600).
  std::chrono::seconds heartbeat{25};
  /// Notifications kept per user; older ones are pruned. Default 10000 (>= 1).
  std::uint64_t retention = 10000;
  /// Clock-skew allowance for exp/nbf. Default 5 s (0..300).
  std::chrono::seconds leeway{5};
  /// When set: tokens must carry this `iss`, and issued tokens get it. Default unset.
  std::optional<std::string> issuer;
  /// When set: tokens must carry this `aud`, and issued tokens get it. Default unset.
  std::optional<std::string> audience;
  /// Lifetime of tokens from POST /v1/tokens without ttl_s. Default 3600 s.
  std::chrono::seconds default_token_ttl{3600};
  /// Time a WebSocket client without Authorization header has for its auth frame.
  /// Default 5 s (protocol v1).
  std::chrono::milliseconds auth_frame_timeout{5000};
  /// Outbound frames queued per connection before it is closed with 4008. Default 10000.
  std::size_t max_queued_frames = 10000;
  /// Outbound bytes queued per connection before it is closed with 4008. Default 16 MiB.
  std::size_t max_queued_bytes = std::size_t{16} << 20;
  /// Drain window of POST /v1/admin/drain without window_ms. Default 30 s (0..10 min).
  std::chrono::milliseconds drain_window{30000};
  /// In-band token refresh. Default true: welcome.features is ["reauth","drain"] and a
  /// stream's {"type":"reauth","token":...} with a good token of the same user moves the
  /// stream's expiry (answer reauth_ok); a bad token gets error + close 4003. False:
  /// features is ["drain"] and reauth messages are ignored like any unknown client
  /// message (a server without reauth, for testing clients' make-before-break refresh;
  /// herald-server --no-reauth).
  bool reauth = true;
  /// Accept permessage-deflate (RFC 7692) when a client offers it: notifications are
  /// then sent compressed. Clients that do not offer it are served uncompressed as
  /// always. Default false: every compressing stream costs about 140 KiB more server
  /// memory (zlib windows and tables), and compression with context takeover lets an
  /// attacker who puts chosen text next to a secret in a stream learn the secret from
  /// frame sizes (CRIME/BREACH). See docs/networks.md, "Compression". herald-server
  /// --permessage-deflate.
  bool permessage_deflate = false;
  /// TLS: PEM file of the server's certificate (chain, leaf first). When set, every
  /// connection (admin API and streams) speaks TLS 1.2 or 1.3 only (wss://, https://);
  /// unset, the server speaks plain HTTP (ws://). Requires `tls_key_file`. Default unset.
  std::string tls_cert_file;
  /// TLS: PEM file of the private key of `tls_cert_file`. Default unset.
  std::string tls_key_file;
  /// TLS: PEM file of the CAs whose client certificates are accepted. When set, a client
  /// without a certificate signed by one of them fails the TLS handshake (mTLS). Needs
  /// `tls_cert_file`. Default unset: no client certificate is asked for.
  std::string tls_client_ca_file;
};

/// The reference server. Owns one I/O thread between start() and stop().
class Server {
 public:
  /// Validates the options and opens the store. Throws std::invalid_argument naming
  /// the bad field, std::runtime_error when the database cannot be opened.
  explicit Server(ServerOptions options);
  /// Stops the server (see stop()).
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds (SO_REUSEADDR, so a restarted server can take the same port), starts the
  /// I/O thread and returns the bound port. Throws std::system_error when binding
  /// fails, std::logic_error when called twice.
  std::uint16_t start();

  /// Idempotent. Closes the listener and every connection (WebSocket close 1001),
  /// then joins the I/O thread. Connections that do not finish their close handshake
  /// within about a second are cut.
  void stop();

  /// The bound port (0 before start()).
  std::uint16_t port() const;

  /// Stores a notification for `user_id` and fans it out to the user's live
  /// connections; returns its id. `data_json` must be a JSON object (text). Same code
  /// path as POST /v1/users/{user_id}/notifications. Throws std::invalid_argument.
  std::uint64_t publish(const std::string& user_id, const std::string& topic, const std::string& data_json);

  /// An HS256 access token for `user_id` (claims sub, iat, exp, and iss/aud when
  /// configured), valid for `ttl` (may be negative, for tests of expiry).
  std::string issue_token(const std::string& user_id, std::chrono::seconds ttl);

  /// Authenticated WebSocket connections currently open (after welcome, until close).
  std::size_t connection_count() const;
  /// Blocks until connection_count() == n (true) or `timeout` passed (false). Woken by
  /// every change of the count, so a test waiting for it does not spin. Not from a
  /// callback running on the server's I/O thread.
  bool wait_connection_count(std::size_t n, std::chrono::milliseconds timeout) const;

  /// Revokes every token of `user_id` issued until now: the revoke instant is stored
  /// (survives restarts), the user's live streams get an `error` (token_revoked) and
  /// close 4003, and handshakes with such tokens get 403 token_revoked. Tokens issued
  /// by this server after revoke() returned stay valid (see docs/protocol.md).
  /// Returns the revoke instant, unix milliseconds. Same code path as
  /// POST /v1/users/{user_id}/revoke. Throws std::invalid_argument on a bad user id,
  /// std::runtime_error when the store fails.
  std::int64_t revoke(const std::string& user_id);

  /// Starts draining for a rolling deploy: every open stream gets
  /// {"type":"drain","reconnect_within_ms":<window>} (none when the window is 0), new
  /// stream handshakes are refused with 503 draining + Retry-After, the admin API keeps
  /// working (publish still reaches the remaining streams), and the streams still open
  /// when the window ends are closed with 1001. Idempotent: a later call changes
  /// nothing (it neither extends nor shortens the window). Returns the time left of the
  /// window in effect. May be called before start(). Throws std::invalid_argument when
  /// `window` is outside 0..10 min. Same code path as POST /v1/admin/drain.
  std::chrono::milliseconds drain(std::chrono::milliseconds window);

  /// True once drain() was called (stays true; stop() alone does not set it).
  bool draining() const;

  /// Blocks until the server is drained, i.e. drain() was called and either no
  /// WebSocket connection remains (of any phase) or the window is over, or until stop()
  /// is called on the started server. Returns at once in those states.
  void wait_drained();
  /// As wait_drained(), at most `timeout`; returns false when the timeout passed first.
  bool wait_drained_for(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::server
