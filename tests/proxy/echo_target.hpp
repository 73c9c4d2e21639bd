// The target behind the proxy: a TCP echo server on 127.0.0.1:0 running its own thread.
// It records every byte it received, so a test can assert the target saw the bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace herald::test {

class EchoTarget {
 public:
  EchoTarget();  ///< listens on 127.0.0.1:0 and starts its thread
  ~EchoTarget();
  EchoTarget(const EchoTarget&) = delete;
  EchoTarget& operator=(const EchoTarget&) = delete;

  std::uint16_t port() const;
  /// Everything any connection sent so far.
  std::string received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::test
