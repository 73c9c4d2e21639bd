// TLS settings of a wss:// client (ClientOptions::tls). For ws:// URLs only the trust
// settings are used, to verify an https:// proxy (ClientOptions::proxy); pins and the
// client certificate are never applied to a proxy.
//
// What is always on, whatever the options: certificate chain verification (by OpenSSL
// against the trust sources below, or by `verifier`), host name verification against
// the URL's host (DNS name or IP address), TLS 1.2 as the lowest version, SNI for host
// names (never for IP literals, RFC 6066 section 3), and resumption of the last TLS
// session on reconnects.
//
//   herald::TlsOptions tls;                       // system trust store
//   tls.ca_pem = my_private_root_pem;             // plus a private root, from memory
//   tls.pins = {"sha256/AAAA...=", "sha256/BBBB...="};  // current key and a backup key
//   options.tls = tls;
//
// Failures are distinct herald::errc values (tls_untrusted, tls_expired,
// tls_host_mismatch, tls_pin_mismatch, tls_client_cert_required, tls_protocol) whose
// StateEvent::detail carries OpenSSL's reason; see docs/networks.md for which are
// retried. Per-platform trust (Android, Apple, Windows) is in docs/networks.md too.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace herald {

/// What a TlsVerifier decided.
struct TlsVerifyResult {
  bool trusted = false;
  /// Why the chain is not trusted (goes into the tls_untrusted error's detail).
  std::string reason;

  static TlsVerifyResult accept() { return {true, {}}; }
  static TlsVerifyResult reject(std::string why) { return {false, std::move(why)}; }
};

/// Decides whether the server's certificate chain is trusted, e.g. by handing it to
/// the platform's verifier (Android X509TrustManager, Apple SecTrustEvaluateWithError,
/// Windows CertGetCertificateChain). `der_chain` is the chain as the server sent it,
/// leaf first, each certificate DER-encoded; `host` is the URL's host name or IP
/// literal. Called on the client's I/O thread during each full handshake (not on a
/// resumed one: that reuses the verified session); it must not block for long. An
/// exception counts as a rejection.
using TlsVerifier = std::function<TlsVerifyResult(const std::vector<std::string>& der_chain, const std::string& host)>;

/// The lowest TLS version offered and accepted.
enum class TlsMinVersion {
  tls1_2,  ///< TLS 1.2 or 1.3 (1.3 preferred)
  tls1_3,  ///< TLS 1.3 only
};

struct TlsOptions {
  /// Trust OpenSSL's default locations (on Linux the distribution's bundle, or the file
  /// and directory named by SSL_CERT_FILE / SSL_CERT_DIR when set). Default true. Set it
  /// to false to trust only the sources below (a private PKI).
  bool use_system_store = true;
  /// Also trust the CAs in this PEM file. Default empty.
  std::string ca_file;
  /// Also trust the CAs in this directory (OpenSSL hashed-name layout, `c_rehash`).
  /// Default empty.
  std::string ca_dir;
  /// Also trust these CAs, PEM text (one or more certificates). Default empty.
  std::string ca_pem;
  /// When set, decides chain trust instead of OpenSSL's store: the sources above are
  /// then not consulted for the chain. The host name is still verified by Herald, and
  /// pins are still enforced. Default unset.
  TlsVerifier verifier;

  /// Public-key pins, OkHttp's notation: "sha256/<base64 of the SHA-256 of the
  /// certificate's DER SubjectPublicKeyInfo>". When not empty, a handshake succeeds
  /// only if some certificate of the verified chain has one of these keys; checked on
  /// every handshake, resumed ones included. List a backup pin for rotation. Default
  /// empty: no pinning.
  std::vector<std::string> pins;

  /// Lowest TLS version. Default TlsMinVersion::tls1_2.
  TlsMinVersion min_version = TlsMinVersion::tls1_2;

  /// Client certificate (chain, leaf first) for servers that require one (mTLS): a PEM
  /// file path, or PEM text in `client_cert_pem`. Default empty: none.
  std::string client_cert_file;
  std::string client_cert_pem;
  /// The private key of the client certificate: a PEM file path, or PEM text in
  /// `client_key_pem` (unencrypted). Required with a client certificate. The key never
  /// appears in a log line or an error message. Default empty.
  std::string client_key_file;
  std::string client_key_pem;
};

}  // namespace herald
