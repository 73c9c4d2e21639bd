// Entry points of the per-connection sessions (http_session.cpp, ws_session.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "beast_types.hpp"
#include "server_core.hpp"
#include "token_service.hpp"

namespace herald::server::detail {

class ServerStream;

/// What the HTTP handshake established before the upgrade.
struct StreamAdmission {
  /// Verified claims of the Authorization header; nullopt: the client must send an
  /// auth frame first (browser fallback).
  std::optional<TokenClaims> claims;
  /// Herald-Last-Seen-Id; nullopt: fresh stream (live only).
  std::optional<std::uint64_t> last_seen_id;
};

/// Serves HTTP requests on an accepted socket (keep-alive), upgrading /v1/stream; on a
/// TLS server (ServerCore::tls_context()) after the TLS handshake.
void start_http_session(ServerCore& core, tcp::socket socket);

/// Completes the WebSocket upgrade of `req` and runs the stream (ws://, or wss:// when
/// `stream` is the TLS stream of start_http_session).
void start_ws_session(ServerCore& core, std::unique_ptr<ServerStream> stream, Request req, StreamAdmission admission);

}  // namespace herald::server::detail
