#include "support/tls_probe_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

namespace herald::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The host name of a server_name extension body (RFC 6066 section 3), if well formed.
std::optional<std::string> host_name_of(const unsigned char* p, std::size_t len) {
  if (len < 5) return std::nullopt;
  const std::size_t list = (std::size_t{p[0]} << 8) | p[1];
  if (list + 2 != len || p[2] != TLSEXT_NAMETYPE_host_name) return std::nullopt;
  const std::size_t name = (std::size_t{p[3]} << 8) | p[4];
  if (name + 5 > len) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(p + 5), name);
}

int on_client_hello(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<TlsProbeServer*>(arg);
  const unsigned char* ext = nullptr;
  std::size_t len = 0;
  TlsProbeServer::Hello hello;
  if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1) {
    hello.server_name = host_name_of(ext, len).value_or("<malformed>");
  }
  self->record(std::move(hello));
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

struct TlsProbeServer::Impl {
  asio::io_context io{1};
  asio::ssl::context context{asio::ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto stream = std::make_shared<asio::ssl::stream<tcp::socket>>(std::move(socket), context);
      stream->async_handshake(asio::ssl::stream_base::server, [stream](boost::system::error_code) {
        boost::system::error_code ignored;
        stream->lowest_layer().close(ignored);
      });
      accept();
    });
  }
};

TlsProbeServer::TlsProbeServer(const TestCredential& credential, Protocol protocol) : impl_(std::make_unique<Impl>()) {
  SSL_CTX* ctx = impl_->context.native_handle();
  if (protocol == Protocol::tls1_1_only) {
    // Debian's OpenSSL 3 refuses TLS 1.1 above security level 0.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, TLS1_1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
  }
  impl_->context.use_certificate_chain_file(credential.cert_file.string());
  impl_->context.use_private_key_file(credential.key_file.string(), asio::ssl::context::pem);
  SSL_CTX_set_client_hello_cb(ctx, &on_client_hello, this);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

TlsProbeServer::~TlsProbeServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void TlsProbeServer::record(Hello hello) {
  std::lock_guard lock(mutex_);
  hellos_.push_back(std::move(hello));
  cv_.notify_all();
}

std::vector<TlsProbeServer::Hello> TlsProbeServer::wait_for_hellos(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return hellos_.size() >= n; });
  return hellos_;
}

}  // namespace herald::test
