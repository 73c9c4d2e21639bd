// The test support's DaemonProcess, which every real-service test (proxies, nginx,
// haproxy, herald-cli) uses: a daemon must not outlive a test process that dies,
// even by SIGKILL (a ctest timeout), nor a failed start go unnoticed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "support/daemon_process.hpp"

namespace herald::test {
namespace {

// 'Z' for a zombie, '\0' when gone, else the state letter of /proc/<pid>/stat.
char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return '\0';
  const auto paren = line.rfind(')');
  return paren + 2 < line.size() ? line[paren + 2] : '\0';
}

TEST(DaemonProcessTest, ADaemonDiesWithAKilledTestProcess) {
  int pid_pipe[2];
  ASSERT_EQ(::pipe(pid_pipe), 0);
  const pid_t test_process = ::fork();
  ASSERT_GE(test_process, 0);
  if (test_process == 0) {
    // Stands for a test process: starts a daemon, reports its pid, waits to be killed.
    ::close(pid_pipe[0]);
    TempDir dir;
    DaemonProcess daemon({"/bin/sleep", "300"}, dir.path() / "sleep.log");
    const pid_t daemon_pid = daemon.pid();
    [[maybe_unused]] const auto n = ::write(pid_pipe[1], &daemon_pid, sizeof daemon_pid);
    for (;;) ::pause();
  }
  ::close(pid_pipe[1]);
  pid_t daemon_pid = 0;
  ASSERT_EQ(::read(pid_pipe[0], &daemon_pid, sizeof daemon_pid), static_cast<ssize_t>(sizeof daemon_pid));
  ::close(pid_pipe[0]);
  ASSERT_GT(daemon_pid, 0);
  EXPECT_NE(process_state(daemon_pid), '\0') << "the daemon is not running";
  ::kill(test_process, SIGKILL);
  ::waitpid(test_process, nullptr, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  char state = process_state(daemon_pid);
  while (state != '\0' && state != 'Z' && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds{10});  // polling another process's end
    state = process_state(daemon_pid);
  }
  EXPECT_TRUE(state == '\0' || state == 'Z') << "the daemon outlived its killed parent (state " << state << ")";
  if (state != '\0' && state != 'Z') ::kill(daemon_pid, SIGKILL);
}

TEST(DaemonProcessTest, AMissingBinaryIsAnErrorAtOnce) {
  TempDir dir;
  EXPECT_THROW(DaemonProcess({"/nonexistent/herald-daemon", "x"}, dir.path() / "log"), std::system_error);
}

}  // namespace
}  // namespace herald::test
