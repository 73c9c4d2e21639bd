// Real proxies from Debian's packages, started on 127.0.0.1 with a generated config in
// a temp dir: tinyproxy (HTTP CONNECT, Basic auth required) and Dante's danted (SOCKS5,
// no auth: Dante's username method checks system accounts, which a test must not add).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "support/daemon_process.hpp"

namespace herald::test {

/// The credentials the tests' authenticating proxies (tinyproxy, the TLS terminator) require.
inline const std::string kUser = "herald";
inline const std::string kPassword = "tunnel-secret-7";

/// A proxy daemon with its temp dir (config, logs); stopped by its destructor.
using RunningProxy = RunningDaemon;

/// The binary's path, or nullopt when the package is not installed.
std::optional<std::string> tinyproxy_binary();
std::optional<std::string> danted_binary();

/// tinyproxy on 127.0.0.1 requiring Basic `user`:`password`. Throws std::runtime_error
/// (with the daemon's log) if it does not come up after a few ports.
std::unique_ptr<RunningProxy> start_tinyproxy(const std::string& binary, const std::string& user,
                                              const std::string& password);

/// danted on 127.0.0.1, no authentication, CONNECT to 127.0.0.0/8 only.
std::unique_ptr<RunningProxy> start_danted(const std::string& binary);

}  // namespace herald::test
