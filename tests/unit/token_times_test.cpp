// token_times: a token's expiry and issue time carried from the wall clock to the
// steady clock — the provider's expiry first, the JWT's claims otherwise, and no
// overflow whatever a token claims.
#include "token/token_times.hpp"

#include <gtest/gtest.h>

#include <string>

#include "jwt_text.hpp"

namespace herald::detail {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using std::chrono::system_clock;

// Readings taken "together": steady 1 h after boot, wall 2026-12-01T00:00:00Z.
const steady_clock::time_point kSteadyNow{1h};
const system_clock::time_point kWallNow{std::chrono::seconds{1796083200}};

std::string claims(std::int64_t iat, std::int64_t exp) {
  return jwt(R"({"sub":"alice","iat":)" + std::to_string(iat) + R"(,"exp":)" + std::to_string(exp) + "}");
}

TEST(TokenTimes, JwtClaimsAreCarriedOverToTheSteadyClock) {
  const auto t = token_times(Token{claims(1796083200 - 600, 1796083200 + 3000), std::nullopt}, kSteadyNow, kWallNow);
  ASSERT_TRUE(t.issued_at && t.expires_at);
  EXPECT_EQ(*t.issued_at, kSteadyNow - 10min);
  EXPECT_EQ(*t.expires_at, kSteadyNow + 50min);
}

TEST(TokenTimes, TheProvidersExpiryWinsOverTheJwtExp) {
  const auto t = token_times(Token{claims(1796083200, 1796083200 + 3600), kWallNow + 20min}, kSteadyNow, kWallNow);
  ASSERT_TRUE(t.expires_at);
  EXPECT_EQ(*t.expires_at, kSteadyNow + 20min);
  ASSERT_TRUE(t.issued_at);  // the issue time still comes from the JWT
  EXPECT_EQ(*t.issued_at, kSteadyNow);
}

TEST(TokenTimes, AnOpaqueTokenHasNoKnownTimes) {
  const auto t = token_times(Token{"not-a-jwt", std::nullopt}, kSteadyNow, kWallNow);
  EXPECT_FALSE(t.expires_at);
  EXPECT_FALSE(t.issued_at);
  const auto with_expiry = token_times(Token{"not-a-jwt", kWallNow + 1h}, kSteadyNow, kWallNow);
  ASSERT_TRUE(with_expiry.expires_at);
  EXPECT_EQ(*with_expiry.expires_at, kSteadyNow + 1h);
}

// A claim beyond what system_clock can hold (year 2262) used to be multiplied into
// nanoseconds unchecked: signed overflow. It now counts as absent.
TEST(TokenTimes, ClaimsTheClockCannotHoldCountAsAbsent) {
  for (const std::int64_t huge : {std::int64_t{10'000'000'000}, std::int64_t{9'223'372'036'854'775'807}}) {
    const auto t = token_times(Token{claims(huge, huge), std::nullopt}, kSteadyNow, kWallNow);
    EXPECT_FALSE(t.expires_at) << huge;
    EXPECT_FALSE(t.issued_at) << huge;
  }
  const auto before_1970 = token_times(Token{claims(-5, -5), std::nullopt}, kSteadyNow, kWallNow);
  EXPECT_FALSE(before_1970.expires_at);
  EXPECT_FALSE(before_1970.issued_at);
}

TEST(TokenTimes, ExtremeExpiriesAreClampedTo100Years) {
  const auto far = token_times(Token{"opaque", system_clock::time_point::max()}, kSteadyNow, kWallNow);
  ASSERT_TRUE(far.expires_at);
  EXPECT_EQ(*far.expires_at, kSteadyNow + 24h * 365 * 100);
  const auto past = token_times(Token{"opaque", system_clock::time_point::min()}, kSteadyNow, kWallNow);
  ASSERT_TRUE(past.expires_at);
  EXPECT_EQ(*past.expires_at, kSteadyNow - 24h * 365 * 100);
  // Year 2200 as a JWT exp: representable, and 174 years away, so clamped too.
  const auto y2200 = token_times(Token{claims(1796083200, 7258118400), std::nullopt}, kSteadyNow, kWallNow);
  ASSERT_TRUE(y2200.expires_at);
  EXPECT_EQ(*y2200.expires_at, kSteadyNow + 24h * 365 * 100);
}

}  // namespace
}  // namespace herald::detail
