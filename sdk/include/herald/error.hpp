// Herald's single error model: herald::errc values in herald::error_category(), and
// two error conditions that tell permanent failures (the client stops) from transient
// ones (the client retries with backoff).
//
//   std::error_code ec = herald::errc::auth_failed;
//   if (ec == herald::condition::permanent) { /* show a sign-in screen */ }
#pragma once

#include <string>
#include <system_error>

#include "herald/export.hpp"

namespace herald {

/// Every failure the SDK reports. Values are stable; new ones are only appended.
enum class errc {
  // Transient: the client retries with backoff.
  connect_failed = 1,  ///< DNS, TCP or TLS failure, or a timeout while connecting
  handshake_failed,    ///< HTTP refusal that is not an auth or request error (5xx, 429, 503)
  connection_lost,     ///< an established connection ended without a close frame
  closed_by_server,    ///< the server closed the connection (1000, 1001, 1009, 4008)
  protocol_violation,  ///< the server broke the protocol (bad frame, no herald.v1 subprotocol)
  liveness_timeout,    ///< no frame for 2 x heartbeat + 5 s: half-open connection
  token_expired,       ///< the server refused an expired token; a fresh one is fetched
  token_fetch_failed,  ///< the application's TokenProvider failed or timed out
  history_reset,       ///< the server's history started over; the client resumes from its start
  // Transient TLS failures (wss://): retried, but never sooner than backoff_max apart
  // (a captive portal or a TLS-inspecting middlebox goes away on its own; hammering it
  // does not help). StateEvent::detail carries OpenSSL's reason.
  tls_untrusted = 20,      ///< the chain does not lead to a trusted root (or the verifier rejected it)
  tls_expired = 21,        ///< a certificate of the chain has expired or is not valid yet
  tls_host_mismatch = 22,  ///< the certificate is not for the URL's host name / IP address
  tls_pin_mismatch = 23,   ///< no certificate of the chain has a key in TlsOptions::pins
  tls_protocol = 24,       ///< no common TLS version / cipher, or the peer does not speak TLS
  // Transient proxy failures (HTTP CONNECT, SOCKS5); see docs/networks.md.
  proxy_failed = 40,  ///< the proxy refused or broke the tunnel (status/reply in the detail)
  // Permanent: the client stops and reports once.
  auth_failed = 100,  ///< token invalid twice, revoked (403/4003) or forbidden
  bad_request,        ///< the server answered 400: a bug on one side
  invalid_url,        ///< the configured URL cannot be used (or carries a token)
  retries_exhausted,  ///< the configured maximum of attempts or elapsed time was reached
  // Permanent TLS failures: a misconfiguration that retrying cannot fix.
  tls_client_cert_required = 120,  ///< the server requires a client certificate (mTLS) and none was accepted
  // Permanent proxy failure (docs/networks.md).
  proxy_auth_failed = 140,  ///< the proxy rejected the credentials (407 or 401, SOCKS5 auth refused)
};

/// Broad classes of herald::errc, for `ec == herald::condition::permanent`.
enum class condition {
  transient = 1,  ///< the client keeps retrying on its own
  permanent,      ///< the client has stopped; the application must act
};

HERALD_API const std::error_category& error_category() noexcept;
HERALD_API const std::error_category& condition_category() noexcept;

HERALD_API std::error_code make_error_code(errc e) noexcept;
HERALD_API std::error_condition make_error_condition(condition c) noexcept;

/// True for the codes that stop the client (auth_failed, bad_request, ...).
HERALD_API bool is_permanent(errc e) noexcept;

/// The stable snake_case name of a code ("auth_failed"), as used in the CLI's events.
HERALD_API const char* to_string(errc e) noexcept;

}  // namespace herald

template <>
struct std::is_error_code_enum<herald::errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<herald::condition> : std::true_type {};
