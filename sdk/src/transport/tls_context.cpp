#include "transport/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace herald::detail {
namespace {

namespace ssl = boost::asio::ssl;

constexpr std::string_view kPinPrefix = "sha256/";

// Index of the TlsPeerCheck* in each SSL's ex_data, and of the TlsClientContext* in the
// SSL_CTX's.
int peer_check_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int context_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TlsPeerCheck* peer_check(SSL* ssl) { return static_cast<TlsPeerCheck*>(SSL_get_ex_data(ssl, peer_check_index())); }

[[noreturn]] void bad_option(const std::string& field, const std::string& why) {
  ERR_clear_error();
  throw std::invalid_argument("ClientOptions.tls." + field + ": " + why);
}

// OpenSSL's reason for `ec` (never the content of what was loaded).
std::string reason_of(const boost::system::error_code& ec) { return ec.message(); }

void require_readable_file(const std::string& field, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_option(field, "cannot read " + path);
}

std::optional<std::array<unsigned char, 32>> decode_pin(const std::string& pin) {
  if (pin.size() != kPinPrefix.size() + 44 || pin.compare(0, kPinPrefix.size(), kPinPrefix) != 0) return std::nullopt;
  const std::string b64 = pin.substr(kPinPrefix.size());
  if (b64[43] != '=' || b64[42] == '=') return std::nullopt;  // 32 bytes: exactly one '='
  for (std::size_t i = 0; i < 43; ++i) {
    const char c = b64[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return std::nullopt;
  }
  unsigned char out[33];
  if (EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(b64.data()), 44) != 33) return std::nullopt;
  std::array<unsigned char, 32> digest{};
  std::copy(out, out + 32, digest.begin());
  return digest;
}

std::optional<std::array<unsigned char, 32>> spki_sha256(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return std::nullopt;
  std::array<unsigned char, 32> digest{};
  unsigned int digest_len = 0;
  const int ok = EVP_Digest(der, static_cast<std::size_t>(len), digest.data(), &digest_len, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (ok != 1 || digest_len != digest.size()) return std::nullopt;
  return digest;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

TlsFailure verify_failure(int error, int depth) {
  TlsFailure f;
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD: f.code = errc::tls_expired; break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: f.code = errc::tls_host_mismatch; break;
    default: f.code = errc::tls_untrusted; break;
  }
  f.detail = std::string("certificate verify failed: ") + X509_verify_cert_error_string(error) + " (depth " +
             std::to_string(depth) + ")";
  return f;
}

// The chain as the server sent it, leaf first, DER-encoded.
std::vector<std::string> der_chain(X509* leaf, STACK_OF(X509) * sent) {
  std::vector<std::string> out;
  const auto add = [&out](X509* cert) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert, &der);
    if (len > 0) out.emplace_back(reinterpret_cast<const char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
  };
  add(leaf);
  for (int i = 0; sent != nullptr && i < sk_X509_num(sent); ++i) {
    X509* cert = sk_X509_value(sent, i);
    if (X509_cmp(cert, leaf) != 0) add(cert);
  }
  return out;
}

bool host_matches(X509* leaf, const std::string& host) {
  if (is_ip_literal(host)) return X509_check_ip_asc(leaf, host.c_str(), 0) == 1;
  return X509_check_host(leaf, host.data(), host.size(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
}

}  // namespace

std::shared_ptr<TlsClientContext> TlsClientContext::create(const TlsOptions& options) {
  return std::shared_ptr<TlsClientContext>(new TlsClientContext(options));
}

TlsClientContext::TlsClientContext(const TlsOptions& o) : context_(ssl::context::tls_client), verifier_(o.verifier) {
  SSL_CTX* ctx = context_.native_handle();
  const int min_version = o.min_version == TlsMinVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) bad_option("min_version", "not supported by OpenSSL");
  context_.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  boost::system::error_code ec;
  if (o.use_system_store) {
    context_.set_default_verify_paths(ec);
    if (ec) bad_option("use_system_store", reason_of(ec));
  }
  if (!o.ca_file.empty()) {
    require_readable_file("ca_file", o.ca_file);
    context_.load_verify_file(o.ca_file, ec);
    if (ec) bad_option("ca_file", o.ca_file + ": " + reason_of(ec));
  }
  if (!o.ca_dir.empty()) {
    std::error_code fs_ec;
    if (!std::filesystem::is_directory(o.ca_dir, fs_ec)) bad_option("ca_dir", "not a readable directory: " + o.ca_dir);
    context_.add_verify_path(o.ca_dir, ec);
    if (ec) bad_option("ca_dir", o.ca_dir + ": " + reason_of(ec));
  }
  if (!o.ca_pem.empty()) {
    context_.add_certificate_authority(boost::asio::buffer(o.ca_pem), ec);
    if (ec) bad_option("ca_pem", "no usable PEM certificate (" + reason_of(ec) + ")");
  }
  for (const auto& pin : o.pins) {
    const auto digest = decode_pin(pin);
    if (!digest) bad_option("pins", "expected sha256/<base64 of 32 bytes>, got \"" + pin.substr(0, 60) + "\"");
    pins_.push_back(*digest);
  }

  const bool has_cert = !o.client_cert_file.empty() || !o.client_cert_pem.empty();
  const bool has_key = !o.client_key_file.empty() || !o.client_key_pem.empty();
  if (!o.client_cert_file.empty() && !o.client_cert_pem.empty()) {
    bad_option("client_cert_pem", "set either client_cert_file or client_cert_pem");
  }
  if (!o.client_key_file.empty() && !o.client_key_pem.empty()) {
    bad_option("client_key_pem", "set either client_key_file or client_key_pem");
  }
  if (has_cert != has_key)
    bad_option(has_cert ? "client_key_file" : "client_cert_file", "a client certificate needs its key");
  if (!o.client_cert_file.empty()) {
    require_readable_file("client_cert_file", o.client_cert_file);
    context_.use_certificate_chain_file(o.client_cert_file, ec);
    if (ec) bad_option("client_cert_file", o.client_cert_file + ": " + reason_of(ec));
  } else if (!o.client_cert_pem.empty()) {
    context_.use_certificate_chain(boost::asio::buffer(o.client_cert_pem), ec);
    if (ec) bad_option("client_cert_pem", "no usable PEM certificate (" + reason_of(ec) + ")");
  }
  if (!o.client_key_file.empty()) {
    require_readable_file("client_key_file", o.client_key_file);
    context_.use_private_key_file(o.client_key_file, ssl::context::pem, ec);
    if (ec) bad_option("client_key_file", o.client_key_file + ": " + reason_of(ec));
  } else if (!o.client_key_pem.empty()) {
    context_.use_private_key(boost::asio::buffer(o.client_key_pem), ssl::context::pem, ec);
    if (ec) bad_option("client_key_pem", "no usable unencrypted PEM key (" + reason_of(ec) + ")");
  }
  if (has_cert && SSL_CTX_check_private_key(ctx) != 1)
    bad_option("client_key_file", "the key does not match the client certificate");

  context_.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_cert_verify_callback(ctx, &TlsClientContext::verify_chain, this);
  SSL_CTX_set_client_cert_cb(ctx, &TlsClientContext::on_client_cert_request);
  SSL_CTX_set_ex_data(ctx, context_index(), this);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsClientContext::on_new_session);
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_set_ex_data(context_.native_handle(), context_index(), nullptr);
  for (auto& [endpoint, session] : sessions_) SSL_SESSION_free(session);
}

std::optional<TlsFailure> TlsClientContext::prepare(SSL* ssl, TlsPeerCheck& check, const std::string& port) {
  check.endpoint = check.host + ":" + port;
  SSL_set_ex_data(ssl, peer_check_index(), &check);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip_literal(check.host)) {
    // RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted" in SNI.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, check.host.c_str()) != 1) {
      return TlsFailure{errc::tls_protocol, "cannot verify IP address " + check.host};
    }
  } else {
    if (SSL_set1_host(ssl, check.host.c_str()) != 1)
      return TlsFailure{errc::tls_protocol, "cannot verify host " + check.host};
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
    if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(check.host.c_str())) !=
        1) {
      return TlsFailure{errc::tls_protocol, "cannot set SNI host name"};
    }
  }
  std::lock_guard lock(sessions_mutex_);
  if (const auto it = sessions_.find(check.endpoint); it != sessions_.end()) SSL_set_session(ssl, it->second);
  ERR_clear_error();
  return std::nullopt;
}

std::optional<TlsFailure> TlsClientContext::check_established(SSL* ssl, const TlsPeerCheck& check) {
  if (SSL_session_reused(ssl) != 1) return std::nullopt;  // verify_chain did everything
  ++resumed_;
  if (pins_.empty()) return std::nullopt;
  // A resumed handshake carries no certificates: rebuild the chain of the session's
  // certificates against the same trust to check the pins again.
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return TlsFailure{errc::tls_pin_mismatch, "resumed session without a peer certificate"};
  STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl);
  if (pinned(sent)) return std::nullopt;
  X509_STORE_CTX* store = X509_STORE_CTX_new();
  bool ok = false;
  if (store != nullptr &&
      X509_STORE_CTX_init(store, SSL_CTX_get_cert_store(context_.native_handle()), leaf, sent) == 1 &&
      X509_verify_cert(store) == 1) {
    ok = pinned(X509_STORE_CTX_get0_chain(store));
  }
  X509_STORE_CTX_free(store);
  ERR_clear_error();
  if (ok) return std::nullopt;
  return TlsFailure{errc::tls_pin_mismatch,
                    "no certificate of the resumed session's chain for " + check.host + " matches a pin"};
}

TlsFailure TlsClientContext::classify(const TlsPeerCheck& check, const boost::system::error_code& ec) {
  if (check.failure) return *check.failure;
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
        (check.client_cert_requested && reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) {
      return TlsFailure{errc::tls_client_cert_required,
                        "the server requires a client certificate (TlsOptions::client_cert_*): " + ec.message()};
    }
    return TlsFailure{errc::tls_protocol, "TLS handshake: " + ec.message()};
  }
  // Timeouts, resets and a server that hung up mid-handshake: a connection failure.
  return TlsFailure{errc::connect_failed, "TLS handshake: " + ec.message()};
}

int TlsClientContext::verify_chain(X509_STORE_CTX* store, void* arg) {
  auto* self = static_cast<TlsClientContext*>(arg);
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsPeerCheck* check = ssl != nullptr ? peer_check(ssl) : nullptr;
  if (check == nullptr) return 0;
  X509* leaf = X509_STORE_CTX_get0_cert(store);
  const auto refuse = [&](TlsFailure f) {
    if (!check->failure) check->failure = std::move(f);
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  };
  STACK_OF(X509)* chain_for_pins = nullptr;
  if (self->verifier_) {
    TlsVerifyResult verdict;
    try {
      verdict = self->verifier_(der_chain(leaf, X509_STORE_CTX_get0_untrusted(store)), check->host);
    } catch (const std::exception& e) {
      verdict = TlsVerifyResult::reject(std::string("the verifier threw: ") + e.what());
    } catch (...) {
      verdict = TlsVerifyResult::reject("the verifier threw");
    }
    if (!verdict.trusted) return refuse({errc::tls_untrusted, "rejected by TlsOptions::verifier: " + verdict.reason});
    if (leaf == nullptr || !host_matches(leaf, check->host)) {
      return refuse({errc::tls_host_mismatch, "certificate verify failed: the certificate is not for " + check->host});
    }
    chain_for_pins = X509_STORE_CTX_get0_untrusted(store);
  } else {
    if (X509_verify_cert(store) != 1) {
      const int error = X509_STORE_CTX_get_error(store);
      if (!check->failure) check->failure = verify_failure(error, X509_STORE_CTX_get_error_depth(store));
      return 0;
    }
    chain_for_pins = X509_STORE_CTX_get0_chain(store);
  }
  if (!self->pins_.empty() && !self->pinned(chain_for_pins)) {
    return refuse({errc::tls_pin_mismatch, "no certificate of the chain for " + check->host + " matches a pin"});
  }
  return 1;
}

bool TlsClientContext::pinned(STACK_OF(X509) * chain) const {
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    const auto digest = spki_sha256(sk_X509_value(chain, i));
    if (!digest) continue;
    for (const auto& pin : pins_) {
      if (pin == *digest) return true;
    }
  }
  return false;
}

int TlsClientContext::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsClientContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), context_index()));
  const TlsPeerCheck* check = peer_check(ssl);
  if (self == nullptr || check == nullptr || check->failure) return 0;
  // A copy: OpenSSL marks the connection's own session not resumable when the
  // connection ends without close_notify (a reset, an abort), which is exactly when a
  // reconnect wants to resume. TLS 1.1+ (RFC 5246 7.2.1) no longer requires that.
  SSL_SESSION* copy = SSL_SESSION_dup(session);
  if (copy != nullptr) self->remember_session(check->endpoint, copy);
  return 0;  // OpenSSL keeps (and frees) its reference to `session`
}

void TlsClientContext::remember_session(const std::string& endpoint, SSL_SESSION* session) {
  std::lock_guard lock(sessions_mutex_);
  auto& slot = sessions_[endpoint];
  if (slot != nullptr) SSL_SESSION_free(slot);
  slot = session;
}

int TlsClientContext::on_client_cert_request(SSL* ssl, X509**, EVP_PKEY**) {
  // Only called when the server asks and no certificate is configured.
  if (TlsPeerCheck* check = peer_check(ssl)) check->client_cert_requested = true;
  return 0;  // continue without one; the server decides
}

}  // namespace herald::detail
