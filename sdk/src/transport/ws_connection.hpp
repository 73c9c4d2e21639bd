// One WebSocket connection to the stream endpoint: resolve, TCP connect, the proxy
// tunnel (TLS to an https:// proxy, then CONNECT or SOCKS5) when a proxy is used, TLS to
// the server for wss://, the upgrade with the Authorization and Herald-Last-Seen-Id
// headers, then a read loop. One deadline (ConnectionSettings::connect_timeout) covers
// the whole attempt, name resolution included. The only SDK file that uses Beast's
// WebSocket. All handlers and events run on the given executor (the client's strand);
// the connection never calls back after detach().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>

#include "herald/error.hpp"
#include "lifecycle/lifecycle.hpp"
#include "transport/proxy/proxy_endpoint.hpp"
#include "transport/url.hpp"

namespace herald::detail {

class StreamLayers;
class TlsClientContext;

/// What a connection reports to its owner, on its executor. An attempt ends in exactly
/// one of Opened, Refused or ConnectFailed; after Opened come Frames and Activity, then
/// at most one Closed. Nothing after detach().
namespace event {
struct Opened {};  ///< the upgrade succeeded
struct Refused {   ///< the server answered the upgrade with an HTTP refusal
  HandshakeRefusal refusal;
};
struct ConnectFailed {  ///< resolve, TCP, proxy, TLS or the upgrade failed (no refusal)
  errc why = errc::connect_failed;
  std::string detail;
};
struct Frame {  ///< a complete message; `text` is valid for the duration of the call
  std::string_view text;
  bool binary = false;
};
struct Activity {};  ///< a ping or a pong arrived
struct Closed {      ///< the open connection ended: a close frame (`code`) or a lost transport
  std::optional<std::uint16_t> code;
  std::string reason;
};
}  // namespace event
using ConnectionEvent =
    std::variant<event::Opened, event::Refused, event::ConnectFailed, event::Frame, event::Activity, event::Closed>;
using ConnectionEventSink = std::function<void(ConnectionEvent&&)>;

struct ConnectionSettings {
  /// Bounds one attempt from the start of name resolution to the end of the upgrade.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Bounds each message after decompression too (Beast's read_message_max).
  std::size_t max_frame_bytes = 1 << 20;
  /// Offer permessage-deflate (ClientOptions::permessage_deflate).
  bool permessage_deflate = false;
};

/// The proxy a connection goes through (see select_proxy).
struct ProxyRoute {
  ProxyEndpoint endpoint;
  /// https:// proxies: the trust the proxy's certificate is verified with (shared, as
  /// the server's context is). Null for http:// and SOCKS5 proxies.
  std::shared_ptr<TlsClientContext> tls;
};

class WsConnection {
 public:
  virtual ~WsConnection() = default;
  /// Starts connecting; events follow on the executor.
  virtual void open(const StreamUrl& url, const std::string& token, std::optional<std::uint64_t> last_seen_id) = 0;
  /// Closes with a close frame (best effort, bounded by a short timeout).
  virtual void close(std::uint16_t code, std::string reason) = 0;
  /// Sends a WebSocket ping (at most one in flight; extra calls are dropped).
  virtual void ping() = 0;
  /// Queues a text frame (sent in order; dropped once closing). A `secret` frame's
  /// buffer is wiped after it was written.
  virtual void send(std::string text, bool secret) = 0;
  /// Drops the transport at once, without a close handshake.
  virtual void abort() = 0;
  /// No event is delivered after this call.
  virtual void detach() = 0;

  /// A TLS connection to the server when `tls` is set (wss://); through `proxy` when
  /// set. The connection shares ownership of both TLS contexts: a connection still
  /// closing on a shared executor may outlive its client.
  static std::shared_ptr<WsConnection> create(const boost::asio::any_io_executor& executor,
                                              std::shared_ptr<TlsClientContext> tls, std::optional<ProxyRoute> proxy,
                                              ConnectionEventSink events, ConnectionSettings settings);

  /// As create(), on layers the caller made (a test's, over beast::test::stream). Their
  /// proxy_tls() / target_tls() must match `proxy` and `tls`.
  static std::shared_ptr<WsConnection> create_on(std::unique_ptr<StreamLayers> layers,
                                                 const boost::asio::any_io_executor& executor,
                                                 std::shared_ptr<TlsClientContext> tls, std::optional<ProxyRoute> proxy,
                                                 ConnectionEventSink events, ConnectionSettings settings);
};

}  // namespace herald::detail
