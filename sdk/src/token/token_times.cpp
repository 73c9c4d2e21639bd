#include "token/token_times.hpp"

#include <algorithm>
#include <cstdint>

#include "token/jwt_claims.hpp"

namespace herald::detail {
namespace {

using std::chrono::steady_clock;
using std::chrono::system_clock;

constexpr auto kFarest = std::chrono::hours{24 * 365 * 100};

// Unix seconds as a system_clock time, when its duration can hold them.
std::optional<system_clock::time_point> from_unix_seconds(std::optional<std::int64_t> s) {
  constexpr auto kMax = std::chrono::duration_cast<std::chrono::seconds>(system_clock::duration::max()).count() - 1;
  if (!s || *s < 0 || *s > kMax) return std::nullopt;
  return system_clock::time_point{std::chrono::seconds{*s}};
}

}  // namespace

TokenTimes token_times(const Token& token, steady_clock::time_point steady_now, system_clock::time_point wall_now) {
  const auto to_steady = [&](system_clock::time_point t) {
    // Both clocks count nanoseconds here; clamp in the wider domain of the difference
    // of seconds so that neither the subtraction nor the addition can overflow.
    const auto seconds_away = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()) -
                              std::chrono::duration_cast<std::chrono::seconds>(wall_now.time_since_epoch());
    const auto farest = std::chrono::duration_cast<std::chrono::seconds>(kFarest);
    if (seconds_away >= farest) return steady_now + kFarest;
    if (seconds_away <= -farest) return steady_now - kFarest;
    return steady_now + std::chrono::duration_cast<steady_clock::duration>(t - wall_now);
  };
  const auto claims = read_jwt_times(token.value);
  TokenTimes out;
  auto expires = token.expires_at ? token.expires_at : from_unix_seconds(claims.exp);
  if (expires) out.expires_at = to_steady(*expires);
  if (auto issued = from_unix_seconds(claims.iat)) out.issued_at = to_steady(*issued);
  return out;
}

}  // namespace herald::detail
