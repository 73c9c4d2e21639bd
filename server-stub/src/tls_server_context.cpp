#include "tls_server_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>
#include <string>

namespace herald::server::detail {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason of the last error, for messages about unusable files.
std::string reason(const boost::system::error_code& ec) {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e != 0 && ERR_reason_error_string(e) != nullptr) return ERR_reason_error_string(e);
  return ec.message();
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const ServerOptions& options) {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      throw std::invalid_argument("ServerOptions.tls_client_ca_file needs tls_cert_file and tls_key_file");
    }
    return nullptr;
  }
  if (options.tls_cert_file.empty())
    throw std::invalid_argument("ServerOptions.tls_cert_file is required with tls_key_file");
  if (options.tls_key_file.empty())
    throw std::invalid_argument("ServerOptions.tls_key_file is required with tls_cert_file");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    throw std::invalid_argument("ServerOptions.tls_cert_file: cannot require TLS 1.2");
  }
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(options.tls_cert_file, ec);
  if (ec) throw std::invalid_argument("ServerOptions.tls_cert_file " + options.tls_cert_file + ": " + reason(ec));
  ctx->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec) throw std::invalid_argument("ServerOptions.tls_key_file " + options.tls_key_file + ": " + reason(ec));
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw std::invalid_argument("ServerOptions.tls_key_file does not match tls_cert_file");
  }
  if (!options.tls_client_ca_file.empty()) {
    ctx->load_verify_file(options.tls_client_ca_file, ec);
    if (ec) {
      throw std::invalid_argument("ServerOptions.tls_client_ca_file " + options.tls_client_ca_file + ": " + reason(ec));
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace herald::server::detail
