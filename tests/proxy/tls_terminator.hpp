// A TLS terminator on 127.0.0.1:0 in front of a plain TCP service (here: tinyproxy), so
// a test can reach an "https:// proxy". Its certificate (P-256, for IP 127.0.0.1) is
// generated in memory when it starts: no key is ever written to disk or committed.
// Runs its own I/O thread; the destructor stops it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace herald::test {

class TlsTerminator {
 public:
  explicit TlsTerminator(std::uint16_t upstream_port);
  ~TlsTerminator();
  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

  std::uint16_t port() const;
  /// The self-signed certificate (PEM): the client's trust anchor.
  const std::string& certificate_pem() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::test
