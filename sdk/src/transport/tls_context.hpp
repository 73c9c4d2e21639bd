// The TLS side of a wss:// client: one TlsClientContext per client, built from
// TlsOptions, shared (std::shared_ptr) by the client and each of its sessions, because a
// session that is still closing on a shared executor may outlive the client. It holds
// the OpenSSL context (trust, client certificate, TLS 1.2+), the pins, the verifier
// hook and the session cache used for resumption across reconnects.
//
// Per connection, a TlsPeerCheck records what the handshake found (the first failure,
// whether the server asked for a client certificate) so that a failed handshake is
// reported as its own errc with OpenSSL's reason.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "herald/error.hpp"
#include "herald/tls.hpp"

namespace herald::detail {

/// A failed TLS step: which errc, and the human detail (OpenSSL's reason).
struct TlsFailure {
  errc code = errc::tls_protocol;
  std::string detail;
};

/// What one connection's handshake found. Lives in the session, next to its SSL*.
struct TlsPeerCheck {
  std::string host;                    ///< the URL's host (name or IP literal)
  std::string endpoint;                ///< "host:port", the session cache's key
  std::optional<TlsFailure> failure;   ///< the first verification failure
  bool client_cert_requested = false;  ///< the server asked for one and none was configured
};

class TlsClientContext {
 public:
  /// Validates and loads `options`. Throws std::invalid_argument naming the field
  /// ("ClientOptions.tls.ca_pem: ..."), never quoting a key.
  static std::shared_ptr<TlsClientContext> create(const TlsOptions& options);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  boost::asio::ssl::context& context() noexcept { return context_; }

  /// Before the handshake of `ssl` to `check.host:port`: host (or IP) verification, SNI
  /// for names only, the cached session of that endpoint. `check` must outlive `ssl`'s
  /// handshake. Returns a failure when OpenSSL refuses the settings.
  std::optional<TlsFailure> prepare(SSL* ssl, TlsPeerCheck& check, const std::string& port);
  /// After a handshake that succeeded: the pins again when the session was resumed
  /// (a resumed handshake skips certificate verification). Counts resumptions.
  std::optional<TlsFailure> check_established(SSL* ssl, const TlsPeerCheck& check);
  /// The errc and detail of a failed handshake, or of a TLS error later on the same
  /// connection (TLS 1.3 reports a missing client certificate after the handshake).
  static TlsFailure classify(const TlsPeerCheck& check, const boost::system::error_code& ec);

  /// Handshakes that resumed a cached session (ClientMetrics::tls_sessions_resumed).
  std::uint64_t sessions_resumed() const noexcept { return resumed_.load(); }

 private:
  explicit TlsClientContext(const TlsOptions& options);
  static int verify_chain(X509_STORE_CTX* store, void* self);
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  static int on_client_cert_request(SSL* ssl, X509** cert, EVP_PKEY** key);
  bool pinned(STACK_OF(X509) * chain) const;
  void remember_session(const std::string& endpoint, SSL_SESSION* session);

  using Pin = std::array<unsigned char, 32>;
  boost::asio::ssl::context context_;
  TlsVerifier verifier_;
  std::vector<Pin> pins_;
  std::atomic<std::uint64_t> resumed_{0};
  std::mutex sessions_mutex_;
  std::map<std::string, SSL_SESSION*> sessions_;  // "host:port" -> the latest session
};

}  // namespace herald::detail
