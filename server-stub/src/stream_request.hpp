// The I/O-free checks of an HTTP request line and headers: paths, query strings,
// subprotocol offers, the resume cursor header.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::server::detail {

inline constexpr std::string_view kStreamPath = "/v1/stream";
inline constexpr std::string_view kSubprotocol = "herald.v1";
inline constexpr std::string_view kLastSeenHeader = "Herald-Last-Seen-Id";

/// The path part of a request target (before '?').
std::string_view target_path(std::string_view target) noexcept;

/// True when the query string has a parameter named token, access_token or jwt
/// (names percent-decoded, compared case-insensitively): such URLs leak credentials.
bool query_carries_credentials(std::string_view target);

/// True when a comma-separated Sec-WebSocket-Protocol value lists `wanted` exactly.
bool offers_subprotocol(std::string_view header_value, std::string_view wanted) noexcept;

/// Percent-decodes a path segment; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text);

/// A Herald-Last-Seen-Id value: a decimal id (0 allowed: "nothing seen yet").
std::optional<std::uint64_t> parse_last_seen_id(std::string_view value) noexcept;

}  // namespace herald::server::detail
