// The layers under a WebSocket connection, as a type: whether TLS runs to an https://
// proxy (around the tunnel) and whether TLS runs to the stream server (inside the
// tunnel, for wss://). Each combination names its stream type and where each step of a
// connection attempt runs on it:
//
//   <false,false>  tcp                        ws://  direct, or through an http/SOCKS5 proxy
//   <false,true>   tls(tcp)                   wss:// direct, or through an http/SOCKS5 proxy
//   <true,false>   tls-to-proxy(tcp)          ws://  through an https:// proxy
//   <true,true>    tls(tls-to-proxy(tcp))     wss:// through an https:// proxy
//
// The proxy exchange (CONNECT or SOCKS5) runs on tunnel(): the TCP stream, or the TLS
// stream to an https:// proxy. The target's TLS handshake runs on target_tls().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace herald::detail {

using TcpStream = boost::beast::tcp_stream;
using TlsOverTcp = boost::beast::ssl_stream<TcpStream>;
// The inner TLS layer is Asio's own stream: asio::ssl::stream needs its next layer's
// lowest_layer(), which beast::ssl_stream does not have.
using ProxyTlsInner = boost::asio::ssl::stream<TcpStream>;
using TlsOverTls = boost::beast::ssl_stream<ProxyTlsInner>;

template <bool ProxyTls, bool TargetTls>
struct StreamLayers;

template <>
struct StreamLayers<false, false> {
  using Stream = TcpStream;
  static Stream make(const boost::asio::any_io_executor& ex, boost::asio::ssl::context*, boost::asio::ssl::context*) {
    return Stream(ex);
  }
  static TcpStream& tunnel(Stream& s) { return s; }
};

template <>
struct StreamLayers<false, true> {
  using Stream = TlsOverTcp;
  static Stream make(const boost::asio::any_io_executor& ex, boost::asio::ssl::context*,
                     boost::asio::ssl::context* target) {
    return Stream(ex, *target);
  }
  static TcpStream& tunnel(Stream& s) { return s.next_layer(); }
  static TlsOverTcp& target_tls(Stream& s) { return s; }
};

template <>
struct StreamLayers<true, false> {
  using Stream = TlsOverTcp;
  static Stream make(const boost::asio::any_io_executor& ex, boost::asio::ssl::context* proxy,
                     boost::asio::ssl::context*) {
    return Stream(ex, *proxy);
  }
  static TlsOverTcp& proxy_tls(Stream& s) { return s; }
  static TlsOverTcp& tunnel(Stream& s) { return s; }
};

template <>
struct StreamLayers<true, true> {
  using Stream = TlsOverTls;
  static Stream make(const boost::asio::any_io_executor& ex, boost::asio::ssl::context* proxy,
                     boost::asio::ssl::context* target) {
    return Stream(ProxyTlsInner(ex, *proxy), *target);
  }
  static ProxyTlsInner& proxy_tls(Stream& s) { return s.next_layer(); }
  static ProxyTlsInner& tunnel(Stream& s) { return s.next_layer(); }
  static TlsOverTls& target_tls(Stream& s) { return s; }
};

}  // namespace herald::detail
