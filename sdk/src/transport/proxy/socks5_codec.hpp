// SOCKS5 (RFC 1928) with username/password authentication (RFC 1929), the I/O-free
// half: every message the client sends, and decoders for every message it reads. Each
// reply has a length known from its first bytes, so the I/O reads exactly that much
// and never a byte of the tunnel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "transport/proxy/proxy_endpoint.hpp"
#include "transport/proxy/proxy_error.hpp"

namespace herald::detail {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

enum class Socks5Method : std::uint8_t { no_auth = 0x00, username_password = 0x02 };

/// VER=5 and the methods offered: "no authentication", plus username/password when
/// the client has credentials.
Bytes socks5_greeting(bool offer_username_password);

/// The 2-byte method selection. `offered_username_password` says what the greeting
/// offered; choosing a method that was not offered is an error. 0xFF ("no acceptable
/// method") is proxy_auth_failed: the proxy wants credentials we do not have.
std::variant<Socks5Method, ProxyError> decode_socks5_method(ByteView reply, bool offered_username_password);

/// RFC 1929 request; fails (proxy_auth_failed) if the user name is empty or either
/// field exceeds 255 bytes. The result holds the password: wipe it after writing.
std::variant<Bytes, ProxyError> socks5_auth_request(const ProxyCredentials& credentials);

/// The 2-byte RFC 1929 status: nullopt on success, else proxy_auth_failed.
std::optional<ProxyError> decode_socks5_auth_reply(ByteView reply);

/// CONNECT to `host`:`port`: ATYP IPv4 / IPv6 for IP literals, else ATYP domain name
/// (the proxy resolves it; at most 255 bytes, else proxy_failed).
std::variant<Bytes, ProxyError> socks5_connect_request(std::string_view host, std::uint16_t port);

/// A complete CONNECT reply.
struct Socks5Reply {
  std::uint8_t code = 0;      ///< REP: 0 succeeded, 1..8 RFC 1928's failures
  std::string bound_address;  ///< BND.ADDR as text (dotted, IPv6 or the name)
  std::uint16_t bound_port = 0;
  std::size_t size = 0;  ///< bytes the reply occupies
};

/// The reply is incomplete: `total` bytes are needed in all (always more than given).
struct Socks5NeedBytes {
  std::size_t total = 0;
};

/// Decodes the CONNECT reply from its first byte: VER 5, RSV 0, ATYP 1, 3 or 4 (else
/// proxy_failed), BND.ADDR and BND.PORT consumed exactly. Bytes after the reply are
/// not looked at.
std::variant<Socks5Reply, Socks5NeedBytes, ProxyError> decode_socks5_reply(ByteView bytes);

/// RFC 1928's REP meaning, e.g. "connection refused by the target" for 5.
std::string socks5_reply_text(std::uint8_t code);

}  // namespace herald::detail
