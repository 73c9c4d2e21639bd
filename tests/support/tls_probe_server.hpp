// A bare TLS server on 127.0.0.1:0 for the TLS tests that herald-server cannot play: it
// records each ClientHello's SNI (server_name extension) and can be pinned to an old
// protocol version (TLS 1.1, security level 0) to test that clients refuse it. It
// completes the handshake when it can and then closes the connection; no HTTP.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_pki.hpp"

namespace herald::test {

class TlsProbeServer {
 public:
  enum class Protocol { modern, tls1_1_only };

  /// Listens on 127.0.0.1:0 with `credential`. Throws on failure.
  explicit TlsProbeServer(const TestCredential& credential, Protocol protocol = Protocol::modern);
  ~TlsProbeServer();
  TlsProbeServer(const TlsProbeServer&) = delete;
  TlsProbeServer& operator=(const TlsProbeServer&) = delete;

  std::uint16_t port() const { return port_; }

  /// One ClientHello seen: the SNI host name it carried, if any.
  struct Hello {
    std::optional<std::string> server_name;
  };
  /// Waits until `n` ClientHellos arrived or `timeout` passed; returns those seen.
  std::vector<Hello> wait_for_hellos(std::size_t n, std::chrono::milliseconds timeout);

  /// Called on the server's thread from OpenSSL's client-hello callback.
  void record(Hello hello);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Hello> hellos_;
};

}  // namespace herald::test
