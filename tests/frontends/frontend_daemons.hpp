// Real front-ends from Debian's packages, started on 127.0.0.1 with a generated config in
// a temp dir (see support/daemon_process.hpp): nginx as a TLS-terminating reverse proxy
// (wss:// outside, ws:// to one herald-server) and haproxy as the load balancer of
// several herald-servers, with its runtime API on a unix socket in the temp dir. The
// configs are the templates docs/networks.md shows ("Load balancers and TLS terminators").
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"

namespace herald::test {

/// The binary's path, or nullopt when the package is not installed.
std::optional<std::string> nginx_binary();
std::optional<std::string> haproxy_binary();

struct NginxOptions {
  std::uint16_t upstream_port = 0;  ///< herald-server on 127.0.0.1 (plain ws://)
  std::filesystem::path cert_file;  ///< the terminator's certificate (PEM) and key
  std::filesystem::path key_file;
  /// proxy_read_timeout and proxy_send_timeout: an upgraded connection on which the
  /// server sends nothing for this long is closed by nginx.
  std::chrono::seconds idle_timeout{60};
};

/// The nginx.conf text for `port` (the TLS listener) with every path inside `dir`.
std::string nginx_config(const NginxOptions& options, const std::filesystem::path& dir, std::uint16_t port);

/// nginx in the foreground (`-p dir -c nginx.conf -e stderr -g 'daemon off;'`), as root
/// (workers as nobody:nogroup) or not.
std::unique_ptr<RunningDaemon> start_nginx(const std::string& binary, const NginxOptions& options);

struct HaproxyBackend {
  std::string name;  ///< haproxy's server name, e.g. "a"
  std::uint16_t port = 0;
};

struct HaproxyOptions {
  std::vector<HaproxyBackend> backends;  ///< herald-servers on 127.0.0.1
  /// `timeout tunnel`: an upgraded connection silent this long (both ways) is closed.
  std::chrono::seconds tunnel_timeout{60};
  /// Health check (GET /healthz) interval; one failure marks a server down, one success up.
  std::chrono::milliseconds check_interval{200};
};

/// The haproxy.cfg text for `port`, runtime API at `dir`/admin.sock.
std::string haproxy_config(const HaproxyOptions& options, const std::filesystem::path& dir, std::uint16_t port);

/// haproxy in the foreground (`-db -f haproxy.cfg`), the backend named "herald".
std::unique_ptr<RunningDaemon> start_haproxy(const std::string& binary, const HaproxyOptions& options);

/// Sends one command to the runtime API of a daemon from start_haproxy() and returns
/// the answer. Throws std::runtime_error when the socket cannot be reached.
std::string haproxy_command(const RunningDaemon& haproxy, const std::string& command);

/// The status haproxy reports for server `name` of the "herald" backend ("UP", "DOWN",
/// "DRAIN", "MAINT", ...; "" when not found), from `show stat`.
std::string haproxy_server_status(const RunningDaemon& haproxy, const std::string& name);

}  // namespace herald::test
