// The herald-server binary on SIGTERM/SIGINT: drain, exit 0 once drained; a second
// signal exits at once. Its --no-reauth flag. Spawns the built binary (path from CMake:
// HERALD_SERVER_BINARY).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <utility>

#include "server_fixture.hpp"

extern char** environ;

namespace herald::server::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One herald-server process with its stdout on a pipe. Killed (SIGKILL) if the test
// leaves it running.
class ServerProcess {
 public:
  /// `capture_stderr`: into a file (stderr_text()) instead of the test's own stderr.
  explicit ServerProcess(const std::vector<std::string>& extra_args, bool capture_stderr = false) {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("herald-binary-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "jwt") << kSecret << "\n";
    std::ofstream(dir_ / "admin") << kAdminKey << "\n";

    std::vector<std::string> args = {HERALD_SERVER_BINARY,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--jwt-secret-file",
                                     (dir_ / "jwt").string(),
                                     "--admin-key-file",
                                     (dir_ / "admin").string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    out_ = fds[0];
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    const auto err_file = (dir_ / "stderr").string();
    if (capture_stderr) {
      posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_ >= 0) ::close(out_);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits for "listening on 127.0.0.1:<port>".
  std::uint16_t port() {
    const auto deadline = Clock::now() + kTestTimeout;
    std::string line;
    while (line.find('\n') == std::string::npos) {
      char buf[256];
      const auto n = read_some(buf, sizeof buf, deadline);
      if (n <= 0) throw std::runtime_error("herald-server printed no listening line");
      line.append(buf, static_cast<std::size_t>(n));
    }
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"(listening on 127\.0\.0\.1:(\d+))"))) {
      throw std::runtime_error("unexpected first line: " + line);
    }
    return static_cast<std::uint16_t>(std::stoi(m[1].str()));
  }

  void signal(int signo) const { ::kill(pid_, signo); }

  /// What it wrote to stderr so far (with capture_stderr).
  std::string stderr_text() const {
    std::ifstream in(dir_ / "stderr");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  /// Everything it prints to stdout until it exits (at most kTestTimeout); its exit status.
  std::pair<std::string, std::optional<int>> output_and_exit() {
    const auto deadline = Clock::now() + kTestTimeout;
    std::string out;
    char buf[256];
    for (;;) {
      const auto n = read_some(buf, sizeof buf, deadline);
      if (n <= 0) break;  // EOF (exited) or timeout
      out.append(buf, static_cast<std::size_t>(n));
    }
    return {out, wait_exit(std::chrono::milliseconds{100})};
  }

  // Waits until the process exits (its stdout reaches EOF), at most `timeout`;
  // returns its exit status, or nullopt when it is still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buf[256];
    for (;;) {
      const auto n = read_some(buf, sizeof buf, deadline);
      if (n == 0) break;               // EOF: the process is gone
      if (n < 0) return std::nullopt;  // timeout
    }
    int status = 0;
    if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
    pid_ = -1;
    return status;
  }

 private:
  // >0 bytes read, 0 EOF, -1 timeout or error.
  ssize_t read_some(char* buf, std::size_t size, Clock::time_point deadline) const {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return -1;
      pollfd p{out_, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return -1;
      const ssize_t n = ::read(out_, buf, size);
      if (n < 0 && errno == EINTR) continue;
      return n < 0 ? -1 : n;
    }
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int out_ = -1;
};

Headers bearer_from(std::uint16_t port) {
  const auto t = http_request(port, "POST", "/v1/tokens", {{"Authorization", std::string("Bearer ") + kAdminKey}},
                              R"({"user_id":"u1"})");
  EXPECT_EQ(t.status, 200U) << t.body;
  return {{"Authorization", "Bearer " + t.json()["token"].get<std::string>()}};
}

// A stream of user u1 on the process, past welcome and caught_up.
std::unique_ptr<WsClient> open_stream(std::uint16_t port) {
  auto [client, res] = WsClient::connect(port, {"/v1/stream", bearer_from(port)});
  EXPECT_TRUE(client) << res.status << " " << res.body;
  if (!client) return nullptr;
  EXPECT_EQ(client->read_json()["type"], "welcome");
  EXPECT_EQ(client->read_json()["type"], "caught_up");
  return std::move(client);
}

bool exited_zero(const std::optional<int>& status) { return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0; }

TEST(Binary, VersionPrintsTheVersionAndExits) {
  ServerProcess server({"--version"});
  const auto [out, status] = server.output_and_exit();
  EXPECT_EQ(out, std::string("herald-server ") + HERALD_VERSION + "\n");
  EXPECT_TRUE(exited_zero(status));
}

TEST(Binary, AnInMemoryStoreIsWarnedAboutAtStartUp) {
  ServerProcess in_memory({}, /*capture_stderr=*/true);
  in_memory.port();  // started (the warning comes before the listening line)
  EXPECT_NE(in_memory.stderr_text().find("--db is :memory:"), std::string::npos) << in_memory.stderr_text();

  const auto dir = std::filesystem::temp_directory_path() / ("herald-binary-db-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    ServerProcess on_disk({"--db", (dir / "herald.db").string()}, /*capture_stderr=*/true);
    on_disk.port();
    EXPECT_EQ(on_disk.stderr_text().find(":memory:"), std::string::npos) << on_disk.stderr_text();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);  // the database and its -wal/-shm files
}

TEST(Binary, SigtermDrainsAndExitsOnceTheLastStreamLeft) {
  ServerProcess p({"--drain-window-ms", "2000"});
  const auto port = p.port();
  auto c = open_stream(port);
  ASSERT_TRUE(c);
  const auto later = bearer_from(port);
  p.signal(SIGTERM);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "drain"}, {"reconnect_within_ms", 2000}}));
  // New streams are refused meanwhile; the admin API still answers.
  auto [refused, res] = WsClient::connect(port, {"/v1/stream", later});
  EXPECT_FALSE(refused);
  EXPECT_EQ(res.status, 503U);
  EXPECT_TRUE(res.header("Retry-After") == "2" || res.header("Retry-After") == "1");
  EXPECT_EQ(http_request(port, "GET", "/healthz").status, 200U);
  const auto t0 = Clock::now();
  c->close();
  const auto status = p.wait_exit(2000ms);  // within the window after the client left
  EXPECT_TRUE(exited_zero(status)) << (status ? *status : -1);
  EXPECT_LT(Clock::now() - t0, 2000ms);
}

TEST(Binary, WindowEndClosesWith1001AndExits) {
  ServerProcess p({"--drain-window-ms", "300"});
  auto c = open_stream(p.port());
  ASSERT_TRUE(c);
  p.signal(SIGINT);
  EXPECT_EQ(c->read_json(), nlohmann::json({{"type", "drain"}, {"reconnect_within_ms", 300}}));
  EXPECT_EQ(c->read_until_close().code, 1001);
  EXPECT_TRUE(exited_zero(p.wait_exit(kTestTimeout)));
}

TEST(Binary, SecondSignalExitsAtOnce) {
  ServerProcess p({"--drain-window-ms", "600000"});
  auto c = open_stream(p.port());
  ASSERT_TRUE(c);
  p.signal(SIGTERM);
  EXPECT_EQ(c->read_json()["type"], "drain");
  p.signal(SIGTERM);
  EXPECT_EQ(c->read_until_close().code, 1001);
  EXPECT_TRUE(exited_zero(p.wait_exit(kTestTimeout)));
}

TEST(Binary, ZeroWindowClosesAtOnce) {
  ServerProcess p({"--drain-window-ms", "0"});
  auto c = open_stream(p.port());
  ASSERT_TRUE(c);
  p.signal(SIGTERM);
  EXPECT_EQ(c->read_until_close().code, 1001);
  EXPECT_TRUE(exited_zero(p.wait_exit(kTestTimeout)));
}

// --no-reauth: welcome.features lacks "reauth" (a server for testing make-before-break).
TEST(Binary, NoReauthFlag) {
  for (const bool no_reauth : {false, true}) {
    ServerProcess p(no_reauth ? std::vector<std::string>{"--no-reauth"} : std::vector<std::string>{});
    const auto port = p.port();
    auto [c, res] = WsClient::connect(port, {"/v1/stream", bearer_from(port)});
    ASSERT_TRUE(c) << res.status << " " << res.body;
    const auto w = c->read_json();
    EXPECT_EQ(w["features"], no_reauth ? nlohmann::json({"drain"}) : nlohmann::json({"reauth", "drain"}));
  }
}

TEST(Binary, DrainWindowIsBounded) {
  ServerProcess p({"--drain-window-ms", "600001"});
  const auto status = p.wait_exit(kTestTimeout);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
}

}  // namespace
}  // namespace herald::server::testing
