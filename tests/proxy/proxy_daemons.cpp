#include "proxy/proxy_daemons.hpp"

#include <unistd.h>

namespace herald::test {

std::optional<std::string> tinyproxy_binary() { return find_binary({"/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"}); }
std::optional<std::string> danted_binary() { return find_binary({"/usr/sbin/danted", "/usr/bin/danted"}); }

std::unique_ptr<RunningProxy> start_tinyproxy(const std::string& binary, const std::string& user,
                                              const std::string& password) {
  return start_daemon("tinyproxy", [&](const TempDir& dir, std::uint16_t port) {
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
  return start_daemon("danted", [&](const TempDir& dir, std::uint16_t port) {
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
