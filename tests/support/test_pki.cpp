#include "support/test_pki.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

namespace herald::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

[[noreturn]] void fail(const std::string& what) {
  const unsigned long e = ERR_get_error();
  throw std::runtime_error("test PKI: " + what + ": " + (e != 0 ? ERR_reason_error_string(e) : "unknown"));
}

void check(int ok, const char* what) {
  if (ok != 1) fail(what);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EVP_EC_gen");
  return key;
}

constexpr long kDay = 24 * 3600;

struct Spec {
  std::string common_name;
  std::string subject_alt_names;  // e.g. "DNS:localhost,IP:127.0.0.1"; empty: none
  long not_before_s = -kDay;      // relative to now
  long not_after_s = 365 * kDay;
  bool ca = false;
  bool client = false;
};

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + value);
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok, "X509_add_ext");
}

// A certificate for `key` per `spec`, signed by `issuer_key` (issuer null: self-signed).
Cert make_cert(const Spec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  static long serial = 1;
  Cert cert(X509_new());
  if (!cert) fail("X509_new");
  check(X509_set_version(cert.get(), 2), "X509_set_version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++), "serial");
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before_s) == nullptr) fail("notBefore");
  if (X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after_s) == nullptr) fail("notAfter");
  check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto* cn = reinterpret_cast<const unsigned char*>(spec.common_name.c_str());
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Herald tests"), -1,
                                   -1, 0),
        "O");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0), "CN");
  X509* signer = issuer != nullptr ? issuer : cert.get();
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)), "X509_set_issuer_name");
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (spec.ca) {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), signer, NID_ext_key_usage, spec.client ? "clientAuth" : "serverAuth");
  }
  if (!spec.subject_alt_names.empty()) {
    add_extension(cert.get(), signer, NID_subject_alt_name, spec.subject_alt_names);
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) <= 0) fail("X509_sign");
  return cert;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  return bio_text(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM_write_bio_PrivateKey");
  return bio_text(bio.get());
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("test PKI: cannot write " + path.string());
}

TestCredential save(const std::filesystem::path& dir, const std::string& name, X509* cert, EVP_PKEY* key) {
  TestCredential c;
  c.cert_pem = cert_pem(cert);
  c.key_pem = key_pem(key);
  c.cert_file = dir / (name + ".crt");
  c.key_file = dir / (name + ".key");
  write_file(c.cert_file, c.cert_pem);
  write_file(c.key_file, c.key_pem);
  std::filesystem::permissions(c.key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return c;
}

Cert read_cert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) fail("PEM_read_bio_X509");
  return cert;
}

}  // namespace

TestPki::TestPki(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::string local_names = "DNS:localhost,IP:127.0.0.1";

  const Key ca_key = new_key();
  Spec ca_spec;
  ca_spec.common_name = "Herald test CA";
  ca_spec.ca = true;
  ca_spec.not_after_s = 2 * 365 * kDay;
  const Cert ca = make_cert(ca_spec, ca_key.get(), nullptr, nullptr);
  ca_ = save(dir, "ca", ca.get(), ca_key.get());

  const auto issue = [&](const std::string& name, const Spec& spec, bool self_signed) {
    const Key key = new_key();
    const Cert cert =
        self_signed ? make_cert(spec, key.get(), nullptr, nullptr) : make_cert(spec, key.get(), ca.get(), ca_key.get());
    return save(dir, name, cert.get(), key.get());
  };
  Spec server{"localhost", local_names};
  server_ = issue("server", server, false);
  Spec expired = server;
  expired.not_before_s = -30 * kDay;
  expired.not_after_s = -kDay;
  expired_ = issue("expired", expired, false);
  Spec future = server;
  future.not_before_s = kDay;
  future.not_after_s = 30 * kDay;
  not_yet_valid_ = issue("not-yet-valid", future, false);
  other_host_ = issue("other-host", Spec{"other.example", "DNS:other.example"}, false);
  self_signed_ = issue("self-signed", server, true);
  Spec client{"herald-test-client", ""};
  client.client = true;
  client_ = issue("client", client, false);
}

std::string TestPki::pin_of(const TestCredential& credential) {
  const Cert cert = read_cert(credential.cert_pem);
  const int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), nullptr);
  if (len <= 0) fail("i2d_X509_PUBKEY");
  std::vector<unsigned char> spki(static_cast<std::size_t>(len));
  unsigned char* out = spki.data();
  i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &out);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  check(EVP_Digest(spki.data(), spki.size(), digest, &digest_len, EVP_sha256(), nullptr), "EVP_Digest");
  std::string b64(4 * ((digest_len + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(digest_len));
  b64.resize(static_cast<std::size_t>(n));
  return "sha256/" + b64;
}

}  // namespace herald::test
