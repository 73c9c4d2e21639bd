#include "support/daemon_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace herald::test {
namespace {

std::system_error os_error(const char* what) { return {errno, std::generic_category(), what}; }

bool try_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() / ("herald-daemon-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = std::move(candidate);
      return;
    }
  }
  throw std::runtime_error("cannot create a temp directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

DaemonProcess::DaemonProcess(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  // Everything the child needs is prepared before fork(): between fork() and exec()
  // it makes only async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  const pid_t parent = ::getpid();
  // The child reports a failed exec (its errno) on this pipe; a successful exec closes
  // it (O_CLOEXEC), so the parent reads nothing.
  int exec_error[2];
  if (::pipe2(exec_error, O_CLOEXEC) != 0) throw os_error("pipe2");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(exec_error[0]);
    ::close(exec_error[1]);
    throw os_error("fork");
  }
  if (pid == 0) {
    const int report = exec_error[1];
    auto fail = [report] {
      const int e = errno;
      [[maybe_unused]] const auto n = ::write(report, &e, sizeof e);
      ::_exit(127);
    };
    // Dies with the test process, even when that is SIGKILLed (a ctest timeout):
    // a daemon left behind would keep its port and the machine busy.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) fail();
    ::setpgid(0, 0);  // its own group: stop() reaches its children too
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0 || ::dup2(in, STDIN_FILENO) < 0 || ::dup2(out, STDOUT_FILENO) < 0 ||
        ::dup2(out, STDERR_FILENO) < 0) {
      fail();
    }
    // Nothing else of the test process: an inherited listening socket of an in-process
    // server would outlive the server in the daemon and keep its port taken.
    const auto keep = static_cast<unsigned>(report);
    if (keep > STDERR_FILENO + 1) ::close_range(STDERR_FILENO + 1, keep - 1, 0);
    ::close_range(keep + 1, ~0U, 0);
    ::execve(args[0], args.data(), environ);
    fail();
  }
  ::close(exec_error[1]);
  int child_errno = 0;
  ssize_t n = 0;
  do {
    n = ::read(exec_error[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_error[0]);
  if (n > 0) {
    ::waitpid(pid, nullptr, 0);
    errno = child_errno;
    throw os_error(("cannot start " + argv.front()).c_str());
  }
  pid_ = pid;
}

DaemonProcess::~DaemonProcess() { stop(); }

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    ::kill(-pid_, SIGKILL);  // leftovers of its group, if any
    pid_ = -1;
    return false;
  }
  return true;
}

void DaemonProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // polling a child's exit
  }
  ::kill(-pid_, SIGKILL);  // children that outlived their parent
  pid_ = -1;
}

std::uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw os_error("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const auto e = os_error("bind 127.0.0.1:0");
    ::close(fd);
    throw e;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool wait_until_listening(std::uint16_t port, DaemonProcess& daemon, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!daemon.running()) return false;
    if (try_connect(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});  // poll interval, not a synchronisation
  }
  return false;
}

std::optional<std::string> find_binary(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return std::nullopt;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

namespace {
constexpr auto kStartTimeout = std::chrono::seconds{10};
}  // namespace

RunningDaemon::RunningDaemon(std::unique_ptr<TempDir> dir, std::unique_ptr<DaemonProcess> process, std::uint16_t port,
                             std::vector<std::string> argv, std::filesystem::path log)
    : dir_(std::move(dir)), process_(std::move(process)), port_(port), argv_(std::move(argv)), log_(std::move(log)) {}

bool RunningDaemon::restart() {
  process_->stop();
  process_ = std::make_unique<DaemonProcess>(argv_, log_);
  return wait_until_listening(port_, *process_, kStartTimeout);
}

std::string RunningDaemon::log() const {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    if (entry.path().extension() == ".log")
      out += "--- " + entry.path().filename().string() + ":\n" + read_file(entry.path());
  }
  return out;
}

std::unique_ptr<RunningDaemon> start_daemon(const std::string& name, const DaemonConfigWriter& prepare) {
  constexpr int kPortAttempts = 5;
  std::string logs;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto dir = std::make_unique<TempDir>();
    const std::uint16_t port = pick_free_port();
    const auto argv = prepare(*dir, port);
    const auto log = dir->path() / (name + ".log");
    auto process = std::make_unique<DaemonProcess>(argv, log);
    if (wait_until_listening(port, *process, kStartTimeout)) {
      return std::make_unique<RunningDaemon>(std::move(dir), std::move(process), port, argv, log);
    }
    process->stop();
    logs += "--- attempt " + std::to_string(attempt + 1) + " on port " + std::to_string(port) + ":\n" + read_file(log);
  }
  throw std::runtime_error(name + " did not start on loopback:\n" + logs);
}

}  // namespace herald::test
