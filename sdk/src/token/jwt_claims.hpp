// Reads the time claims of a JWT without verifying it: the client treats tokens as
// opaque except to learn when they expire.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::detail {

struct JwtTimes {
  std::optional<std::int64_t> iat;  ///< unix seconds
  std::optional<std::int64_t> exp;  ///< unix seconds
};

/// The iat/exp claims of a compact JWT; empty when the token is not a readable JWT.
JwtTimes read_jwt_times(std::string_view token) noexcept;

}  // namespace herald::detail
