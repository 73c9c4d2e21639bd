// Plain HTTP endpoints: health and the admin API (dev tokens, publish). Beast-free:
// the HTTP session hands in the few request fields that matter.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "server_core.hpp"

namespace herald::server::detail {

struct HttpRequestView {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  ///< never logged
  std::string_view body;
};

struct HttpReply {
  unsigned status = 200;
  std::string body;            ///< JSON
  std::string allow;           ///< Allow header for 405, else empty
  bool no_store = false;       ///< Cache-Control: no-store (bodies with credentials)
  unsigned retry_after_s = 0;  ///< Retry-After (seconds) when non-zero; a 503 gets 1 by default
};

/// Retry-After (seconds) of a handshake refused because the server drains: the time
/// left of the window, rounded up, but at least 1 and at most kMaxDrainRetryAfterS (5 s): behind a load balancer
/// the next attempt most likely reaches another instance, so making clients wait out
/// a long window would only delay them.
inline constexpr unsigned kMaxDrainRetryAfterS = 5;
unsigned drain_retry_after_s(std::chrono::milliseconds remaining) noexcept;

/// Routes every path except /v1/stream:
///   GET  /healthz                          -> 200 {"status":"ok"}
///   POST /v1/tokens                        -> 200 {"token","expires_at"}   (admin)
///   POST /v1/users/{user_id}/notifications -> 201 {"id"}                   (admin)
///   POST /v1/users/{user_id}/revoke        -> 200 {"revoked_before","revoked_before_ms"} (admin)
///   POST /v1/admin/drain                   -> 202 {"draining":true,"window_ms"} (admin)
///   anything else                          -> 404 {"error":"not_found"}
/// Runs on the I/O thread.
HttpReply handle_http(ServerCore& core, const HttpRequestView& req);

}  // namespace herald::server::detail
