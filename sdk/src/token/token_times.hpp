// When a token expires and when it was issued, on the steady clock the lifecycle runs
// on: the provider's expiry (Token::expires_at), else the JWT's `exp`; the issue time
// from the JWT's `iat`. Pure, so the conversion and its edge cases are unit-tested.
#pragma once

#include <chrono>
#include <optional>

#include "herald/token_provider.hpp"

namespace herald::detail {

struct TokenTimes {
  std::optional<std::chrono::steady_clock::time_point> expires_at;  ///< nullopt: unknown
  std::optional<std::chrono::steady_clock::time_point> issued_at;   ///< nullopt: unknown
};

/// Wall-clock times are carried over to the steady clock through the pair of readings
/// (`steady_now`, `wall_now`) taken together. A claim the clocks cannot represent (before
/// 1970, after 2262) counts as absent; a time further than 100 years from now counts as
/// 100 years away. Never overflows, whatever the token says.
TokenTimes token_times(const Token& token, std::chrono::steady_clock::time_point steady_now,
                       std::chrono::system_clock::time_point wall_now);

}  // namespace herald::detail
