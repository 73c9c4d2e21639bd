// Real proxies from Debian's packages, started on 127.0.0.1 with a generated config in
// a temp dir: tinyproxy (HTTP CONNECT, Basic auth required) and Dante's danted (SOCKS5,
// no auth: Dante's username method checks system accounts, which a test must not add).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/daemon_process.hpp"

namespace herald::test {

class RunningProxy {
 public:
  RunningProxy(std::unique_ptr<TempDir> dir, std::unique_ptr<DaemonProcess> process, std::uint16_t port,
               std::vector<std::string> argv);
  std::uint16_t port() const { return port_; }
  std::string log() const;
  /// Stops the daemon now (the destructor does it otherwise).
  void stop() { process_->stop(); }
  /// Starts it again with the same config on the same port; false if it does not come
  /// up within a bounded time (the port was taken meanwhile, say).
  bool restart();

 private:
  std::unique_ptr<TempDir> dir_;  // outlives the process (declared first)
  std::unique_ptr<DaemonProcess> process_;
  std::uint16_t port_;
  std::vector<std::string> argv_;
};

/// The binary's path, or nullopt when the package is not installed.
std::optional<std::string> tinyproxy_binary();
std::optional<std::string> danted_binary();

/// tinyproxy on 127.0.0.1 requiring Basic `user`:`password`. Throws std::runtime_error
/// (with the daemon's log) if it does not come up after a few ports.
std::unique_ptr<RunningProxy> start_tinyproxy(const std::string& binary, const std::string& user,
                                              const std::string& password);

/// danted on 127.0.0.1, no authentication, CONNECT to 127.0.0.0/8 only.
std::unique_ptr<RunningProxy> start_danted(const std::string& binary);

}  // namespace herald::test
