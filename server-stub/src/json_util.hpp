// Small, I/O-free helpers shared by the admin API, the handshake and the frames.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace herald::server::detail {

/// Deepest JSON nesting accepted from the network (nlohmann 3.11 recurses when
/// dumping, so unbounded depth would overflow the stack).
inline constexpr int kMaxJsonDepth = 64;
/// Largest id the protocol allows: ids travel as JSON numbers, exact below 2^53.
inline constexpr std::uint64_t kMaxId = (std::uint64_t{1} << 53) - 1;

/// Thrown by parse_bounded_json; what() never quotes the input.
class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses `text` as JSON, refusing nesting deeper than `max_depth` (arrays and
/// objects). Throws JsonError with a short reason that does not quote the input.
nlohmann::json parse_bounded_json(std::string_view text, int max_depth = kMaxJsonDepth);

/// User ids: 1..128 characters from [A-Za-z0-9._@-].
bool is_valid_user_id(std::string_view id) noexcept;

/// Topics: 1..128 bytes of printable ASCII (0x21..0x7e).
bool is_valid_topic(std::string_view topic) noexcept;

/// RFC 3339 UTC with milliseconds: "2026-11-27T10:00:00.123Z".
std::string format_rfc3339_millis(std::int64_t unix_ms);

/// Milliseconds since the Unix epoch, system clock.
std::int64_t unix_now_ms();

/// Strict unsigned decimal (digits only, no sign or spaces, no overflow).
std::optional<std::uint64_t> parse_uint64(std::string_view text) noexcept;

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// {"error":"<code>"} and, when given, "message".
std::string error_body(std::string_view code, std::string_view message = {});

}  // namespace herald::server::detail
