// Proxy settings: which proxy (HTTP CONNECT over http:// or https://, or SOCKS5) carries
// the connection to a stream URL, and which hosts are reached directly.
//
//   herald::ProxyOptions proxy;
//   proxy.url = "http://alice:s3cr%40t@proxy.corp:3128";   // credentials percent-decoded
//   proxy.no_proxy = {"localhost", ".corp.example", "10.0.0.0/8"};
//
//   auto from_env = herald::ProxyOptions::from_environment();  // opt-in, curl's rules
//
// Credentials in a proxy URL are secrets: they never appear in a log line, an error
// detail or to_string(). Details and the environment precedence: docs/networks.md.
//
// Thread safety: a plain value type. from_environment() reads the process environment
// with std::getenv and must not race with setenv/putenv in another thread.
#pragma once

#include <string>
#include <vector>

#include "herald/export.hpp"

namespace herald {

struct HERALD_API ProxyOptions {
  /// Proxy for every target that has no more specific entry below. Accepted forms:
  /// `http://[user:password@]host[:port]` (CONNECT, default port 1080 as curl),
  /// `https://...` (CONNECT over TLS to the proxy, default port 443),
  /// `socks5://` (the target's name is resolved locally, curl's meaning),
  /// `socks5h://` (the proxy resolves the name), both default port 1080.
  /// A URL without a scheme is taken as http:// (as curl does). User and password are
  /// percent-decoded. Default: "" (no proxy: connect directly).
  std::string url;
  /// Proxy for ws:// targets only; wins over `url`. Default: "" (use `url`).
  std::string ws_url;
  /// Proxy for wss:// targets only; wins over `url`. Default: "" (use `url`).
  std::string wss_url;
  /// Targets reached directly, in NO_PROXY syntax: a host name matches itself and its
  /// subdomains (a leading dot is optional, case-insensitive), an IP literal matches that
  /// address, `a.b.c.d/n` or `v6/n` a CIDR block, `*` everything. Ports are ignored.
  /// Default: empty (every target goes through the proxy).
  std::vector<std::string> no_proxy;

  /// Reads the proxy environment with curl's precedence: wss:// targets use
  /// `https_proxy`, else `HTTPS_PROXY`; ws:// targets use `http_proxy` (lower case only:
  /// an upper-case HTTP_PROXY can be injected by CGI as the `Proxy:` request header);
  /// then `all_proxy`, else `ALL_PROXY`, for both; `no_proxy`, else `NO_PROXY`,
  /// comma-separated. An empty variable counts as unset. Nothing in the SDK reads the
  /// environment unless the application calls this.
  static ProxyOptions from_environment();
};

/// A readable summary for logs, e.g. "wss: http://<credentials>@proxy:3128, ws: direct,
/// no_proxy: localhost". Credentials are replaced by `<credentials>`; a URL that
/// cannot be parsed is shown as `<invalid proxy URL>` (it might hold a secret).
HERALD_API std::string to_string(const ProxyOptions& options);

}  // namespace herald
