// The steps of one connection attempt (ws_connection.cpp), named in a timeout's detail
// ("timed out after 10000 ms opening the tunnel through the proxy").
#pragma once

namespace herald::detail {

// Which step of a connection attempt is running: named in a timeout's detail, and a
// failure in a proxy step is a proxy_failed.
enum class AttemptStep { resolving_target, resolving, connecting, proxy_tls, tunnelling, tls, upgrading, open };

inline const char* describe(AttemptStep s) {
  switch (s) {
    case AttemptStep::resolving_target: return "resolving the server's name for the SOCKS5 proxy";
    case AttemptStep::resolving: return "resolving the name";
    case AttemptStep::connecting: return "connecting";
    case AttemptStep::proxy_tls: return "in the TLS handshake with the proxy";
    case AttemptStep::tunnelling: return "opening the tunnel through the proxy";
    case AttemptStep::tls: return "in the TLS handshake";
    case AttemptStep::upgrading: return "in the WebSocket upgrade";
    case AttemptStep::open: return "open";
  }
  return "connecting";
}

}  // namespace herald::detail
