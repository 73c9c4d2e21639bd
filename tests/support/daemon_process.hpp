// A daemon from Debian's packages (tinyproxy, danted, nginx, haproxy) run by a test as a
// foreground child on loopback: spawned in its own process group, its output appended to
// a log file, and always stopped by the destructor (SIGTERM to the group, SIGKILL after a
// bounded wait), also when the test fails. start_daemon() adds the generated config in a
// temp dir and a port picked at run time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
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
  /// Spawns `argv` (argv[0] is the binary's path), stdout and stderr appended to `log`,
  /// in its own process group. It is SIGKILLed when the thread that created it ends
  /// (PR_SET_PDEATHSIG) — so when the test process dies, even by SIGKILL: create it on
  /// the test's thread. Throws std::system_error if it cannot be started.
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

/// Writes `text` to `path` (truncating). Throws std::runtime_error when it cannot.
void write_file(const std::filesystem::path& path, const std::string& text);

/// A daemon started by start_daemon(): its temp dir (config, logs) lives as long as it.
class RunningDaemon {
 public:
  /// `argv` and `log`: how it was started, for restart().
  RunningDaemon(std::unique_ptr<TempDir> dir, std::unique_ptr<DaemonProcess> process, std::uint16_t port,
                std::vector<std::string> argv, std::filesystem::path log);
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_->path(); }
  /// Every *.log file of its temp dir, for failure messages.
  std::string log() const;
  /// Stops the daemon now (the destructor does it otherwise).
  void stop() { process_->stop(); }
  /// Starts it again with the same config on the same port (its output appended to the
  /// same log); false if it does not come up within a bounded time.
  bool restart();

 private:
  std::unique_ptr<TempDir> dir_;  // outlives the process (declared first)
  std::unique_ptr<DaemonProcess> process_;
  std::uint16_t port_;
  std::vector<std::string> argv_;
  std::filesystem::path log_;
};

/// Writes a config for a port and returns the daemon's argv (foreground, logging into
/// the dir, so that `<name>.log` there collects its output).
using DaemonConfigWriter = std::function<std::vector<std::string>(const TempDir&, std::uint16_t port)>;

/// Picks a free port on 127.0.0.1, lets `prepare` write the config for it into a fresh
/// temp dir, starts the daemon and waits until it accepts on that port; another port if
/// the daemon exits (the port was taken meanwhile, say). Throws std::runtime_error with
/// the daemon's log when it does not come up after a few ports.
std::unique_ptr<RunningDaemon> start_daemon(const std::string& name, const DaemonConfigWriter& prepare);

}  // namespace herald::test
