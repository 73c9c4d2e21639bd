#include "proxy/proxy_daemons.hpp"

#include <unistd.h>

#include <fstream>
#include <functional>
#include <stdexcept>

namespace herald::test {
namespace {

constexpr int kPortAttempts = 5;
constexpr auto kStartTimeout = std::chrono::seconds{10};

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Picks a port, writes the config for it, starts the daemon and waits until it accepts;
// another port if the daemon exits (for example because the port was taken meanwhile).
std::unique_ptr<RunningProxy> start(
    const std::string& name, const std::function<std::vector<std::string>(const TempDir&, std::uint16_t)>& prepare) {
  std::string logs;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto dir = std::make_unique<TempDir>();
    const std::uint16_t port = pick_free_port();
    const auto argv = prepare(*dir, port);
    const auto log = dir->path() / (name + ".log");
    auto process = std::make_unique<DaemonProcess>(argv, log);
    if (wait_until_listening(port, *process, kStartTimeout)) {
      return std::make_unique<RunningProxy>(std::move(dir), std::move(process), port, argv);
    }
    process->stop();
    logs += "--- attempt " + std::to_string(attempt + 1) + " on port " + std::to_string(port) + ":\n" + read_file(log);
  }
  throw std::runtime_error(name + " did not start on loopback:\n" + logs);
}

}  // namespace

RunningProxy::RunningProxy(std::unique_ptr<TempDir> dir, std::unique_ptr<DaemonProcess> process, std::uint16_t port,
                           std::vector<std::string> argv)
    : dir_(std::move(dir)), process_(std::move(process)), port_(port), argv_(std::move(argv)) {}

bool RunningProxy::restart() {
  process_->stop();
  process_ = std::make_unique<DaemonProcess>(argv_, dir_->path() / "restarted.log");
  return wait_until_listening(port_, *process_, kStartTimeout);
}

std::string RunningProxy::log() const {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    if (entry.path().extension() == ".log") out += read_file(entry.path());
  }
  return out;
}

std::optional<std::string> tinyproxy_binary() { return find_binary({"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"}); }
std::optional<std::string> danted_binary() { return find_binary({"/usr/sbin/danted", "/usr/bin/danted"}); }

std::unique_ptr<RunningProxy> start_tinyproxy(const std::string& binary, const std::string& user,
                                              const std::string& password) {
  return start("tinyproxy", [&](const TempDir& dir, std::uint16_t port) {
    const auto conf = dir.path() / "tinyproxy.conf";
    // No ConnectPort line: CONNECT to every port ("ConnectPort 0" would disable it).
    write_file(conf, "Port " + std::to_string(port) +
                         "\n"
                         "Listen 127.0.0.1\n"
                         "Timeout 30\n"
                         "LogLevel Info\n"
                         "MaxClients 50\n"
                         "Allow 127.0.0.1\n"
                         "BasicAuth " +
                         user + " " + password + "\n");
    return std::vector<std::string>{binary, "-d", "-c", conf.string()};
  });
}

std::unique_ptr<RunningProxy> start_danted(const std::string& binary) {
  return start("danted", [&](const TempDir& dir, std::uint16_t port) {
    const auto conf = dir.path() / "danted.conf";
    std::string text =
        "logoutput: stderr\n"
        "internal: 127.0.0.1 port = " +
        std::to_string(port) +
        "\n"
        "external: 127.0.0.1\n"
        "clientmethod: none\n"
        "socksmethod: none\n";
    if (::geteuid() == 0) text += "user.privileged: root\nuser.unprivileged: nobody\n";
    text +=
        "client pass {\n  from: 127.0.0.0/8 to: 0.0.0.0/0\n}\n"
        "socks pass {\n  from: 127.0.0.0/8 to: 127.0.0.0/8\n  command: connect\n}\n";
    write_file(conf, text);
    return std::vector<std::string>{binary, "-f", conf.string(), "-N", "1"};
  });
}

}  // namespace herald::test
