// HTTP CONNECT (RFC 9110 9.3.6), the I/O-free half: the request, how many bytes of the
// response may be read next without reading past its header (so no tunnel byte is ever
// swallowed), and what the response header means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "transport/proxy/proxy_endpoint.hpp"
#include "transport/proxy/proxy_error.hpp"

namespace herald::detail {

/// The longest response header accepted from a proxy (Beast's header_limit too).
inline constexpr std::size_t kMaxConnectResponseHeader = 8 * 1024;

/// "CONNECT host:port HTTP/1.1" with Host, and Proxy-Authorization: Basic when
/// `credentials` are given. The result holds the secret: wipe it after writing.
std::string connect_request(std::string_view target_host, std::uint16_t target_port,
                            const std::optional<ProxyCredentials>& credentials);

/// How many bytes may be read next so that the read cannot go past the "\r\n\r\n" that
/// ends the header: 0 once `received` ends with it, else 1..4 (4 minus the longest
/// suffix of `received` that begins the terminator).
std::size_t connect_header_bytes_wanted(std::string_view received);

/// Interprets a complete response header (`header` ends with "\r\n\r\n") with Beast's
/// HTTP parser: 2xx -> nullopt (the tunnel is up), 407 or 401 -> proxy_auth_failed, any other
/// status or a malformed header -> proxy_failed, the status in the detail.
std::optional<ProxyError> check_connect_response(std::string_view header);

}  // namespace herald::detail
