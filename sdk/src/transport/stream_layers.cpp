#include "transport/stream_layers.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "transport/proxy/http_connect.hpp"
#include "transport/proxy/socks5_connect.hpp"

namespace herald::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

using TcpStream = beast::tcp_stream;
using TlsOverTcp = beast::ssl_stream<TcpStream>;
// The inner TLS layer is Asio's own stream: asio::ssl::stream needs its next layer's
// lowest_layer(), which beast::ssl_stream does not have.
using ProxyTlsInner = asio::ssl::stream<TcpStream>;
using TlsOverTls = beast::ssl_stream<ProxyTlsInner>;

// Completes a step this combination does not have (a caller's bug: never asked for).
template <class Handler>
void refuse(const asio::any_io_executor& ex, Handler done) {
  asio::post(ex, [d = std::move(done)]() mutable { std::move(d)(asio::error::operation_not_supported); });
}

template <bool ProxyTls, bool TargetTls>
using LayersStream = std::conditional_t<ProxyTls, std::conditional_t<TargetTls, TlsOverTls, TlsOverTcp>,
                                        std::conditional_t<TargetTls, TlsOverTcp, TcpStream>>;

template <bool ProxyTls, bool TargetTls>
class Layers final : public asio_support::ByteStreamOver<LayersStream<ProxyTls, TargetTls>, StreamLayers> {
  using Stream = LayersStream<ProxyTls, TargetTls>;
  using Base = asio_support::ByteStreamOver<Stream, StreamLayers>;
  using Base::stream_;
  using Base::tcp;
  using StepHandler = StreamLayers::StepHandler;
  using TunnelHandler = StreamLayers::TunnelHandler;

 public:
  Layers(const asio::any_io_executor& ex, asio::ssl::context* proxy, asio::ssl::context* target)
      : Base(make(ex, proxy, target)) {}

  void async_connect(const asio::ip::tcp::resolver::results_type& endpoints, StepHandler done) override {
    tcp().async_connect(endpoints, [d = std::move(done)](boost::system::error_code ec,
                                                         const asio::ip::tcp::endpoint&) mutable { std::move(d)(ec); });
  }

  SSL* proxy_tls() override {
    if constexpr (ProxyTls) return proxy_layer().native_handle();
    return nullptr;
  }

  void async_proxy_tls_handshake(StepHandler done) override {
    if constexpr (ProxyTls) {
      proxy_layer().async_handshake(asio::ssl::stream_base::client, bound(std::move(done)));
    } else {
      refuse(this->get_executor(), std::move(done));
    }
  }

  void async_open_tunnel(const ProxyEndpoint& proxy, const std::string& host, std::uint16_t port,
                         TunnelHandler done) override {
    auto& tunnel = tunnel_layer();
    if (proxy.kind == ProxyKind::socks5) {
      async_socks5_connect(tunnel, host, port, proxy.credentials, bound(std::move(done)));
    } else {
      async_http_connect(tunnel, host, port, proxy.credentials, bound(std::move(done)));
    }
  }

  SSL* target_tls() override {
    if constexpr (TargetTls) return stream_.native_handle();
    return nullptr;
  }

  void async_target_tls_handshake(StepHandler done) override {
    if constexpr (TargetTls) {
      stream_.async_handshake(asio::ssl::stream_base::client, bound(std::move(done)));
    } else {
      refuse(this->get_executor(), std::move(done));
    }
  }

 private:
  template <class Handler>
  auto bound(Handler done) {
    return asio_support::on_executor(this->get_executor(), std::move(done));
  }

  static Stream make(const asio::any_io_executor& ex, asio::ssl::context* proxy, asio::ssl::context* target) {
    if constexpr (ProxyTls && TargetTls) {
      return Stream(ProxyTlsInner(ex, *proxy), *target);
    } else if constexpr (ProxyTls) {
      return Stream(ex, *proxy);
    } else if constexpr (TargetTls) {
      return Stream(ex, *target);
    } else {
      return Stream(ex);
    }
  }

  // The TLS stream to the proxy: the whole stack for ws://, the inner layer for wss://.
  auto& proxy_layer() {
    static_assert(ProxyTls);
    if constexpr (TargetTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // Where CONNECT or SOCKS5 runs: the TLS stream to an https:// proxy, else TCP.
  auto& tunnel_layer() {
    if constexpr (ProxyTls) {
      return proxy_layer();
    } else {
      return tcp();
    }
  }
};

}  // namespace

std::unique_ptr<StreamLayers> StreamLayers::make(const asio::any_io_executor& executor, asio::ssl::context* proxy_tls,
                                                 asio::ssl::context* target_tls) {
  if (proxy_tls) {
    if (target_tls) return std::make_unique<Layers<true, true>>(executor, proxy_tls, target_tls);
    return std::make_unique<Layers<true, false>>(executor, proxy_tls, target_tls);
  }
  if (target_tls) return std::make_unique<Layers<false, true>>(executor, proxy_tls, target_tls);
  return std::make_unique<Layers<false, false>>(executor, proxy_tls, target_tls);
}

}  // namespace herald::detail
