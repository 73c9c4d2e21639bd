// herald-cli as a child process against the in-process reference server: it runs its
// --token-command for every fetch (so short tokens are refreshed through it, without a
// visible reconnect) and exits 3 when its user is revoked. Its output (stdout at
// --events, stderr at trace) never contains a token. Its TLS flags (--ca-file, --pin,
// --tls13-only, --client-cert/--client-key) work, and TLS failures carry the errc names.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/recorder.hpp"
#include "support/scoped_proxy_environment.hpp"
#include "support/server_fixture.hpp"
#include "support/test_pki.hpp"

extern char** environ;

namespace herald::test {
namespace {

using namespace std::chrono_literals;

/// One herald-cli child: stdout through a pipe, stderr into a file.
class CliProcess {
 public:
  CliProcess(const std::vector<std::string>& args, const std::string& stderr_file) {
    std::array<int, 2> out{-1, -1};
    if (::pipe2(out.data(), O_CLOEXEC) != 0) return;
    std::vector<std::string> all = {HERALD_CLI_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&pid_, HERALD_CLI_BINARY, &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    out_ = out[0];
  }
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      (void)wait();
    }
    if (out_ >= 0) ::close(out_);
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  bool running() const { return pid_ > 0; }
  const std::string& output() const { return text_; }

  /// Reads stdout until it contains `needle` (true), or EOF / `timeout` (false).
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text_.find(needle) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  /// Reads stdout to EOF (the child exited or closed it), bounded by `timeout`.
  bool read_to_eof(std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_some(deadline)) {
    }
    return eof_;
  }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  /// Reaps the child; its exit status, or -signal.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{out_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) return true;
    if (r <= 0) return false;
    std::array<char, 4096> buf{};
    const auto n = ::read(out_, buf.data(), buf.size());
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    text_.append(buf.data(), static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool eof_ = false;
  std::string text_;
};

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

class Cli : public InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    start_server(base_server_options());
  }

  /// A token command that asks the server's dev issuer for a `ttl_s` token of alice and
  /// appends it to tokens.txt (one line per run: the test counts runs and scans for them).
  std::string token_command(int ttl_s) {
    const auto script = dir_ / "token.sh";
    std::ofstream(script) << "#!/bin/sh\nset -e\n"
                          << "t=$(curl -fsS -X POST -H 'Authorization: Bearer " << kTestAdminKey
                          << "' --data "
                             "'{\"user_id\":\"alice\",\"ttl_s\":"
                          << ttl_s << "}' http://127.0.0.1:" << port_
                          << "/v1/tokens | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"token\"])')\n"
                          << "echo \"$t\" >> '" << (dir_ / "tokens.txt").string() << "'\necho \"$t\"\n";
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return script.string();
  }
  std::vector<std::string> cli_args(int ttl_s) {
    return {"--url",
            "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream",
            "--token-command",
            token_command(ttl_s),
            "--events",
            "--log-level",
            "trace",
            "--backoff-initial-ms",
            "50"};
  }
  std::string tokens() const { return read_file(dir_ / "tokens.txt"); }
  std::string stderr_file() const { return (dir_ / "cli.err").string(); }

  /// No token issued to the CLI appears in what it printed (stdout or stderr).
  void expect_no_token_in(const std::string& out) {
    const std::string err = read_file(stderr_file());
    EXPECT_FALSE(err.empty()) << "trace logging produced nothing: the scan would prove nothing";
    std::istringstream lines(tokens());
    std::string token;
    std::size_t scanned = 0;
    while (std::getline(lines, token)) {
      if (token.empty()) continue;
      ++scanned;
      EXPECT_EQ(out.find(token), std::string::npos) << "a token on stdout";
      EXPECT_EQ(err.find(token), std::string::npos) << "a token on stderr";
      const auto sig = token.substr(token.rfind('.') + 1);
      EXPECT_EQ(err.find(sig), std::string::npos) << "a token signature on stderr";
    }
    EXPECT_GT(scanned, 0u);
  }
};

TEST_F(Cli, RunsTheTokenCommandForEveryRefreshWithoutAVisibleReconnect) {
  CliProcess cli(cli_args(/*ttl_s=*/3), stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
  // Three refreshes of 3 s tokens (each at ~2.25 s): the command ran four times.
  ASSERT_TRUE(eventually([&] { return count_lines(tokens()) >= 4; }, 30s)) << count_lines(tokens()) << " runs";
  server_->publish("alice", "t", R"({"n":1})");
  ASSERT_TRUE(cli.read_until(R"("id":1)")) << cli.output();
  cli.signal(SIGTERM);
  ASSERT_TRUE(cli.read_to_eof());
  EXPECT_EQ(cli.wait(), 0);
  EXPECT_EQ(cli.output().find("reconnecting"), std::string::npos) << "refreshes are invisible:\n" << cli.output();
  expect_no_token_in(cli.output());
}

TEST_F(Cli, ARevokedUserMakesItExitWith3) {
  CliProcess cli(cli_args(/*ttl_s=*/3600), stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
  server_->revoke("alice");
  ASSERT_TRUE(cli.read_to_eof()) << "it must exit by itself:\n" << cli.output();
  EXPECT_EQ(cli.wait(), 3);
  EXPECT_NE(cli.output().find("auth_failed"), std::string::npos) << cli.output();
  EXPECT_EQ(cli.output().find("reconnecting"), std::string::npos) << "no retry";
  EXPECT_EQ(count_lines(tokens()), 1u) << "no second token fetched";
  expect_no_token_in(cli.output());
}

// ---- proxy and endpoint flags ----------------------------------------------------------

std::string dead_port_url(const std::string& scheme) {
  return scheme + "://127.0.0.1:" + std::to_string(pick_free_port());  // nothing listens there
}

// ---- budgets, version, a cursor that cannot be written ----------------------------------

/// The CLI against `url` with a short backoff, giving up after `budget` (e.g.
/// {"--max-attempts", "3"}).
std::vector<std::string> budget_args(const std::string& url, const std::string& token_command,
                                     std::vector<std::string> budget) {
  std::vector<std::string> args{
      "--url", url, "--token-command", token_command, "--events", "--backoff-initial-ms", "10", "--backoff-max-ms",
      "20"};
  args.insert(args.end(), budget.begin(), budget.end());
  return args;
}

TEST_F(Cli, AnUnreachableServerEndsWithExit1OnceMaxAttemptsIsSpent) {
  CliProcess cli(budget_args(dead_port_url("ws"), token_command(3600), {"--max-attempts", "3"}), stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_to_eof()) << "it must exit by itself:\n" << cli.output();
  EXPECT_EQ(cli.wait(), 1);
  EXPECT_NE(cli.output().find("retries_exhausted"), std::string::npos) << cli.output();
  EXPECT_EQ(count_lines(tokens()), 1u) << "one token serves every attempt";
}

TEST_F(Cli, AFailingTokenCommandEndsWithExit1OnceMaxElapsedIsSpent) {
  const auto failing = dir_ / "no-token.sh";
  std::ofstream(failing) << "#!/bin/sh\necho 'auth backend down' >&2\nexit 1\n";
  std::filesystem::permissions(failing, std::filesystem::perms::owner_all);
  CliProcess cli(
      budget_args("ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream", failing.string(), {"--max-elapsed-s", "1"}),
      stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_to_eof()) << "it must exit by itself:\n" << cli.output();
  EXPECT_EQ(cli.wait(), 1);
  EXPECT_NE(cli.output().find("retries_exhausted"), std::string::npos) << cli.output();
  EXPECT_NE(cli.output().find("token_fetch_failed"), std::string::npos) << "why each attempt failed:\n" << cli.output();
}

TEST_F(Cli, AWrongPathEndsWithExit1OnceMaxAttemptsIsSpent) {
  CliProcess cli(budget_args("ws://127.0.0.1:" + std::to_string(port_) + "/v2/nowhere", token_command(3600),
                             {"--max-attempts", "2"}),
                 stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_to_eof()) << "it must exit by itself:\n" << cli.output();
  EXPECT_EQ(cli.wait(), 1);
  EXPECT_NE(cli.output().find("404"), std::string::npos) << cli.output();
}

TEST_F(Cli, ACursorFileThatCannotBeWrittenIsAUsageError) {
  CliProcess cli({"--url", "ws://127.0.0.1:" + std::to_string(port_) + "/v1/stream", "--token-command",
                  token_command(3600), "--cursor-file", (dir_ / "missing" / "cursor").string()},
                 stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_to_eof());
  EXPECT_EQ(cli.wait(), 2);
  EXPECT_NE(read_file(stderr_file()).find("--cursor-file"), std::string::npos) << read_file(stderr_file());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "tokens.txt")) << "nothing ran";
}

TEST_F(Cli, VersionAndHelp) {
  CliProcess version({"--version"}, stderr_file());
  ASSERT_TRUE(version.read_to_eof());
  EXPECT_EQ(version.wait(), 0);
  EXPECT_EQ(version.output(), std::string("herald-cli ") + HERALD_VERSION + "\n");

  CliProcess help({"--help"}, stderr_file());
  ASSERT_TRUE(help.read_to_eof());
  EXPECT_EQ(help.wait(), 0);
  for (const char* expected : {"--max-attempts", "--max-elapsed-s", "Exit codes:", "spent", "30000"}) {
    EXPECT_NE(help.output().find(expected), std::string::npos) << expected << " missing from\n" << help.output();
  }
}

TEST_F(Cli, TheProxyFlagSendsTheConnectionToTheProxyAndKeepsItsPasswordOut) {
  auto args = cli_args(3600);
  const auto proxy = dead_port_url("http");
  args.insert(args.end(), {"--proxy", "http://u:pw-secret-3@" + proxy.substr(std::string("http://").size())});
  CliProcess cli(args, stderr_file());
  ASSERT_TRUE(cli.read_until(R"("reason":"proxy_failed")")) << cli.output();
  cli.signal(SIGTERM);
  ASSERT_TRUE(cli.read_to_eof());
  EXPECT_EQ(cli.output().find("pw-secret-3"), std::string::npos);
  EXPECT_EQ(read_file(stderr_file()).find("pw-secret-3"), std::string::npos);
}

TEST_F(Cli, ProxyFromEnvHonoursNoProxy) {
  // The child inherits the environment at spawn: a proxy that is down, the server exempt.
  ScopedProxyEnvironment env({{"http_proxy", dead_port_url("http")}, {"no_proxy", "127.0.0.1"}});
  auto args = cli_args(3600);
  args.push_back("--proxy-from-env");
  CliProcess cli(args, stderr_file());
  ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
}

TEST_F(Cli, ARepeatedUrlFlagFailsOverToTheEndpointThatAnswers) {
  auto args = cli_args(3600);
  args.insert(args.end(), {"--url", dead_port_url("ws") + "/v1/stream"});  // and the live one from cli_args
  CliProcess cli(args, stderr_file());
  ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
  server_->publish("alice", "t", R"({"n":1})");
  ASSERT_TRUE(cli.read_until(R"("id":1)")) << cli.output();
}

// ---- TLS flags -------------------------------------------------------------------------

class CliTls : public InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    pki_ = std::make_unique<TestPki>(dir_ / "pki");
    const auto token_file = dir_ / "token.txt";
    std::ofstream(token_file) << issuer_->issue_token("alice", std::chrono::hours{1}) << "\n";
    token_command_ = "cat '" + token_file.string() + "'";
  }
  void start_tls_server(bool require_client_cert) {
    auto o = base_server_options();
    o.tls_cert_file = pki_->server().cert_file.string();
    o.tls_key_file = pki_->server().key_file.string();
    if (require_client_cert) o.tls_client_ca_file = pki_->ca().cert_file.string();
    start_server(std::move(o));
  }
  std::vector<std::string> cli_args(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"--url",
                                     "wss://localhost:" + std::to_string(port_) + "/v1/stream",
                                     "--token-command",
                                     token_command_,
                                     "--events",
                                     "--ca-file",
                                     pki_->ca().cert_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::string stderr_file() const { return (dir_ / "cli.err").string(); }
  std::unique_ptr<TestPki> pki_;
  std::string token_command_;
};

TEST_F(CliTls, CaFilePinAndTls13OnlyConnectAndDeliver) {
  start_tls_server(false);
  CliProcess cli(cli_args({"--pin", TestPki::pin_of(pki_->other_host()), "--pin", TestPki::pin_of(pki_->server()),
                           "--tls13-only"}),
                 stderr_file());
  ASSERT_TRUE(cli.running());
  ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
  server_->publish("alice", "t", R"({"n":1})");
  ASSERT_TRUE(cli.read_until(R"("id":1)")) << cli.output();
  cli.signal(SIGTERM);
  ASSERT_TRUE(cli.read_to_eof());
  EXPECT_EQ(cli.wait(), 0);
}

TEST_F(CliTls, AWrongPinIsReportedAsTlsPinMismatch) {
  start_tls_server(false);
  CliProcess cli(cli_args({"--pin", TestPki::pin_of(pki_->other_host())}), stderr_file());
  ASSERT_TRUE(cli.running());
  EXPECT_TRUE(cli.read_until(R"("reason":"tls_pin_mismatch")")) << cli.output();
}

TEST_F(CliTls, ClientCertificateFlagsDoMutualTlsAndItsAbsenceIsAPermanentError) {
  start_tls_server(true);
  {
    CliProcess cli(cli_args({"--client-cert", pki_->client().cert_file.string(), "--client-key",
                             pki_->client().key_file.string()}),
                   stderr_file());
    ASSERT_TRUE(cli.read_until(R"("state":"connected")")) << cli.output();
  }
  CliProcess cli(cli_args({}), stderr_file());
  ASSERT_TRUE(cli.read_to_eof()) << "it must exit by itself:\n" << cli.output();
  EXPECT_EQ(cli.wait(), 1);
  EXPECT_NE(cli.output().find(R"("code":"tls_client_cert_required")"), std::string::npos) << cli.output();
  EXPECT_EQ(read_file(stderr_file()).find("PRIVATE KEY"), std::string::npos);
}

}  // namespace
}  // namespace herald::test
