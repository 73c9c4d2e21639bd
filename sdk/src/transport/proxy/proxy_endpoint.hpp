// A parsed proxy URL: which protocol, where, and the credentials (a secret: describe()
// never shows them, and parse errors never repeat the URL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::detail {

enum class ProxyKind {
  http,    ///< HTTP CONNECT over plain TCP to the proxy
  https,   ///< HTTP CONNECT over TLS to the proxy
  socks5,  ///< SOCKS5 (RFC 1928), username/password auth (RFC 1929)
};

/// Who turns the target's name into an address (SOCKS5 only: CONNECT always sends the
/// name to the proxy).
enum class TargetNameResolution {
  by_proxy,  ///< the name travels to the proxy (socks5h://, and every CONNECT proxy)
  local,     ///< the dialer resolves and sends an address (socks5://, curl's meaning)
};

struct ProxyCredentials {
  std::string username;  ///< percent-decoded
  std::string password;  ///< percent-decoded; may be empty
};

struct ProxyEndpoint {
  ProxyKind kind = ProxyKind::http;
  TargetNameResolution name_resolution = TargetNameResolution::by_proxy;
  std::string host;  ///< a name or an IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  std::optional<ProxyCredentials> credentials;
};

/// Parses http://, https://, socks5://, socks5h:// URLs (scheme case-insensitive; none
/// means http://) with optional `user[:password]@` and port, and an optional "/" path.
/// On failure returns nullopt and sets `error`, which never contains any part of `url`.
std::optional<ProxyEndpoint> parse_proxy_url(std::string_view url, std::string& error);

/// "socks5h://<credentials>@[::1]:1080": the endpoint for logs and error details, with
/// the credentials replaced by a placeholder.
std::string describe(const ProxyEndpoint& proxy);

/// "host:port", IPv6 literals in brackets, as CONNECT's request target and Host want it.
std::string host_port(std::string_view host, std::uint16_t port);

/// True if `host` is an IPv4 or IPv6 literal (IPv6 without brackets).
bool is_ip_literal(std::string_view host);

}  // namespace herald::detail
