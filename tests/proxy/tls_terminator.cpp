#include "proxy/tls_terminator.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

namespace herald::test {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

template <class T, void (*Free)(T*)>
struct OpenSslDeleter {
  void operator()(T* p) const { Free(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, OpenSslDeleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, OpenSslDeleter<BIO, BIO_free_all>>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test certificate: ") + what);
}

// A self-signed certificate for 127.0.0.1, valid for a day. Returns {cert PEM, key PEM}.
std::pair<std::string, std::string> make_certificate() {
  PKey key(EVP_EC_gen("P-256"));
  require(key != nullptr, "EVP_EC_gen");
  Cert cert(X509_new());
  require(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] :
       {std::pair{NID_subject_alt_name, "IP:127.0.0.1"}, std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    require(ext != nullptr, "extension");
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  require(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "X509_sign");
  Bio cert_bio(BIO_new(BIO_s_mem()));
  Bio key_bio(BIO_new(BIO_s_mem()));
  require(PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1, "PEM_write_bio_X509");
  require(PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "PEM_write_bio_PrivateKey");
  return {bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

// One accepted connection: TLS from the client, plain TCP to the upstream, bytes pumped
// both ways until either side ends.
struct Session : std::enable_shared_from_this<Session> {
  Session(tcp::socket socket, ssl::context& context) : tls(std::move(socket), context), plain(tls.get_executor()) {}
  ssl::stream<tcp::socket> tls;
  tcp::socket plain;
  std::array<char, 16 * 1024> up{};
  std::array<char, 16 * 1024> down{};

  void start(std::uint16_t upstream_port) {
    tls.async_handshake(ssl::stream_base::server,
                        [self = shared_from_this(), upstream_port](boost::system::error_code ec) {
                          if (ec) return;
                          self->plain.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream_port),
                                                    [self](boost::system::error_code cec) {
                                                      if (cec) return self->shutdown();
                                                      self->pump_up();
                                                      self->pump_down();
                                                    });
                        });
  }
  void pump_up() {  // client -> upstream
    tls.async_read_some(asio::buffer(up), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->shutdown();
      asio::async_write(self->plain, asio::buffer(self->up.data(), n),
                        [self](boost::system::error_code wec, std::size_t) {
                          if (wec) return self->shutdown();
                          self->pump_up();
                        });
    });
  }
  void pump_down() {  // upstream -> client
    plain.async_read_some(asio::buffer(down), [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return self->shutdown();
      asio::async_write(self->tls, asio::buffer(self->down.data(), n),
                        [self](boost::system::error_code wec, std::size_t) {
                          if (wec) return self->shutdown();
                          self->pump_down();
                        });
    });
  }
  void shutdown() {
    boost::system::error_code ignored;
    plain.close(ignored);
    tls.lowest_layer().close(ignored);
  }
};

}  // namespace

struct TlsTerminator::Impl {
  asio::io_context ioc;
  ssl::context context{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string certificate;
  std::uint16_t upstream = 0;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      std::make_shared<Session>(std::move(socket), context)->start(upstream);
      accept();
    });
  }
};

TlsTerminator::TlsTerminator(std::uint16_t upstream_port) : impl_(std::make_unique<Impl>()) {
  auto [cert, key] = make_certificate();
  impl_->certificate = cert;
  impl_->context.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  impl_->context.use_certificate_chain(asio::buffer(cert));
  impl_->context.use_private_key(asio::buffer(key), ssl::context::pem);
  impl_->upstream = upstream_port;
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

TlsTerminator::~TlsTerminator() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t TlsTerminator::port() const { return impl_->acceptor.local_endpoint().port(); }
const std::string& TlsTerminator::certificate_pem() const { return impl_->certificate; }

}  // namespace herald::test
