#include "chaos/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <vector>

extern char** environ;

namespace herald::test {

std::optional<ServerProcess> ServerProcess::spawn(const ServerProcessOptions& o, std::chrono::milliseconds timeout) {
  std::array<int, 2> out{-1, -1};
  if (::pipe2(out.data(), O_CLOEXEC) != 0) return std::nullopt;
  std::vector<std::string> args = {o.binary,
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(o.port),
                                   "--db",
                                   o.db_path,
                                   "--jwt-secret-file",
                                   o.jwt_secret_file,
                                   "--admin-key-file",
                                   o.admin_key_file,
                                   "--heartbeat-s",
                                   std::to_string(o.heartbeat_s),
                                   "--log-level",
                                   "warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, o.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, o.binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    return std::nullopt;
  }
  ServerProcess proc(pid, 0);

  // Read stdout until "listening on 127.0.0.1:<port>\n" (the server's only stdout line).
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string line;
  bool complete = false;
  while (!complete) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{out[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    std::array<char, 256> buf{};
    const auto n = ::read(out[0], buf.data(), buf.size());
    if (n <= 0) break;  // the server exited
    line.append(buf.data(), static_cast<std::size_t>(n));
    complete = line.find('\n') != std::string::npos;
  }
  ::close(out[0]);  // the server writes nothing more to stdout
  const auto colon = line.rfind(':');
  if (!complete || line.rfind("listening on ", 0) != 0 || colon == std::string::npos) return std::nullopt;
  const long port = std::strtol(line.c_str() + colon + 1, nullptr, 10);
  if (port <= 0 || port > 65535) return std::nullopt;
  proc.port_ = static_cast<std::uint16_t>(port);
  return proc;
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept : pid_(other.pid_), port_(other.port_) { other.pid_ = -1; }

ServerProcess& ServerProcess::operator=(ServerProcess&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = other.pid_;
    port_ = other.port_;
    other.pid_ = -1;
  }
  return *this;
}

ServerProcess::~ServerProcess() { kill(); }

void ServerProcess::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace herald::test
