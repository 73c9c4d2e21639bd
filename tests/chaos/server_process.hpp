// Runs the real herald-server binary as a child process, so a test can SIGKILL it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace herald::test {

struct ServerProcessOptions {
  std::string binary;   ///< path of herald-server
  std::string db_path;  ///< SQLite file
  std::string jwt_secret_file;
  std::string admin_key_file;
  std::string log_file;    ///< the child's stderr goes here (appended)
  std::uint16_t port = 0;  ///< 0: the OS picks
  int heartbeat_s = 25;
};

/// One run of herald-server. The destructor SIGKILLs and reaps it if still running.
class ServerProcess {
 public:
  /// Spawns the server and waits (bounded by `timeout`) for its "listening on" line.
  /// nullopt when it exits first (for example the port is taken) or does not answer.
  static std::optional<ServerProcess> spawn(const ServerProcessOptions& o,
                                            std::chrono::milliseconds timeout = std::chrono::seconds{10});
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&& other) noexcept;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  /// SIGKILL and reap. Idempotent.
  void kill();

 private:
  ServerProcess(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace herald::test
