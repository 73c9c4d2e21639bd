// A proxy daemon (tinyproxy, danted) run by a test as a foreground child on loopback:
// spawned in its own process group, its output appended to a log file, and always
// stopped by the destructor (SIGTERM to the group, SIGKILL after a bounded wait), also
// when the test fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace herald::test {

/// A fresh directory under the system's temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class DaemonProcess {
 public:
  /// Spawns `argv` (argv[0] is the binary's path), stdout and stderr appended to `log`.
  /// Throws std::system_error if it cannot be spawned.
  DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  /// True until the process has exited (reaps it when it has).
  bool running();
  /// Stops the process group and reaps it. Idempotent.
  void stop();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

/// A port that was free on 127.0.0.1 a moment ago (bind to port 0, read it, close), for
/// daemons that cannot be given port 0. Another process may take it first: callers retry.
std::uint16_t pick_free_port();

/// Connects to 127.0.0.1:`port` until it succeeds, `daemon` exits, or `timeout` passes.
bool wait_until_listening(std::uint16_t port, DaemonProcess& daemon, std::chrono::milliseconds timeout);

/// The first of `candidates` that exists and is executable.
std::optional<std::string> find_binary(const std::vector<std::string>& candidates);

/// The file's content, for failure messages.
std::string read_file(const std::filesystem::path& path);

}  // namespace herald::test
