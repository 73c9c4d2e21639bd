// A throw-away PKI for TLS tests, generated at test time with OpenSSL 3 (EC P-256 keys,
// SHA-256 signatures): no private key is ever committed. Everything is written into the
// directory given to the constructor (a test's temp folder) and nowhere else.
//
//   herald::test::TestPki pki(dir_);
//   server_options.tls_cert_file = pki.server().cert_file;   // 127.0.0.1 + localhost
//   client_options.tls.ca_pem = pki.ca().cert_pem;
//   client_options.tls.pins = {TestPki::pin_of(pki.server())};
#pragma once

#include <filesystem>
#include <string>

namespace herald::test {

/// One certificate and its key, as PEM text and as files.
struct TestCredential {
  std::string cert_pem;
  std::string key_pem;
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
};

class TestPki {
 public:
  /// Generates every credential below into `dir` (created if missing). Throws
  /// std::runtime_error with OpenSSL's reason when generation fails.
  explicit TestPki(const std::filesystem::path& dir);

  /// The root that signed every certificate except self_signed().
  const TestCredential& ca() const { return ca_; }
  /// CN localhost, SAN DNS:localhost and IP:127.0.0.1, valid from a day ago for a year.
  const TestCredential& server() const { return server_; }
  /// As server(), but its validity ended a day ago.
  const TestCredential& expired() const { return expired_; }
  /// As server(), but valid only from tomorrow.
  const TestCredential& not_yet_valid() const { return not_yet_valid_; }
  /// Valid and signed by the CA, but for DNS:other.example only.
  const TestCredential& other_host() const { return other_host_; }
  /// For 127.0.0.1 + localhost, but signed by its own key (no CA).
  const TestCredential& self_signed() const { return self_signed_; }
  /// A client certificate (extendedKeyUsage clientAuth) signed by the CA.
  const TestCredential& client() const { return client_; }

  /// "sha256/<base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo>", the
  /// pin notation of ClientOptions::tls.pins (OkHttp's).
  static std::string pin_of(const TestCredential& credential);

 private:
  TestCredential ca_, server_, expired_, not_yet_valid_, other_host_, self_signed_, client_;
};

}  // namespace herald::test
