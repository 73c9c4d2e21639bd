// The layers under a WebSocket connection, behind one interface, so that Beast's
// WebSocket is compiled once (over LayeredStream) instead of once per combination.
// Four combinations exist, each a concrete StreamLayers (stream_layers.cpp):
//
//   tcp                        ws://  direct, or through an http/SOCKS5 proxy
//   tls(tcp)                   wss:// direct, or through an http/SOCKS5 proxy
//   tls-to-proxy(tcp)          ws://  through an https:// proxy
//   tls(tls-to-proxy(tcp))     wss:// through an https:// proxy
//
// A connection attempt runs its steps on the layers in order: TCP connect, the
// TLS handshake with an https:// proxy, the proxy exchange (CONNECT or SOCKS5) on the
// tunnel, the TLS handshake with the server for wss://. Then the WebSocket reads and
// writes bytes through the top layer. A step a combination does not have is never
// asked for: proxy_tls() / target_tls() are null there.
//
// Why erased: see herald_asio/erased_stream.hpp. The interface also lets a test run a
// connection on layers of its own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <system_error>

#include <openssl/ssl.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "herald_asio/erased_stream.hpp"
#include "transport/proxy/proxy_endpoint.hpp"

namespace herald::detail {

class StreamLayers : public asio_support::ByteStream {
 public:
  /// std::error_code: a herald::errc, or success; the string says what the proxy said.
  using TunnelHandler = boost::asio::any_completion_handler<void(std::error_code, std::string)>;

  /// `proxy_tls` is set for an https:// proxy, `target_tls` for wss://; both outlive
  /// the layers.
  static std::unique_ptr<StreamLayers> make(const boost::asio::any_io_executor& executor,
                                            boost::asio::ssl::context* proxy_tls,
                                            boost::asio::ssl::context* target_tls);

  /// TCP to the first of `endpoints` that accepts (the proxy, or the server).
  virtual void async_connect(const boost::asio::ip::tcp::resolver::results_type& endpoints, StepHandler done) = 0;

  /// The TLS session with an https:// proxy; null without one.
  virtual SSL* proxy_tls() = 0;
  virtual void async_proxy_tls_handshake(StepHandler done) = 0;

  /// CONNECT (ProxyKind::http/https) or SOCKS5 to host:port through the proxy.
  virtual void async_open_tunnel(const ProxyEndpoint& proxy, const std::string& host, std::uint16_t port,
                                 TunnelHandler done) = 0;

  /// The TLS session with the server (wss://); null for ws://.
  virtual SSL* target_tls() = 0;
  virtual void async_target_tls_handshake(StepHandler done) = 0;
};

/// The stream a connection's beast::websocket::stream runs on.
using LayeredStream = asio_support::ErasedStream<StreamLayers>;

}  // namespace herald::detail
