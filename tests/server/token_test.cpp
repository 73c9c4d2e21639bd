// Token verification: HS256 pinned, expiry with leeway, forged and malformed tokens.
#include <gtest/gtest.h>

#include <jwt/jwt.hpp>

#include "token_service.hpp"

namespace herald::server::detail {
namespace {

using namespace std::chrono_literals;

TokenService service(std::optional<std::string> iss = std::nullopt, std::optional<std::string> aud = std::nullopt) {
  return TokenService(TokenPolicy{"k1-secret", 5s, std::move(iss), std::move(aud)});
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string b64url(const std::string& s) {
  std::string b = jwt::base64_encode(s.data(), s.size());
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::string signed_with(const char* alg, const std::string& key, const std::string& sub, std::int64_t exp) {
  using namespace jwt::params;
  jwt::jwt_object obj{algorithm(alg), secret(key)};
  obj.add_claim("sub", sub).add_claim("exp", exp).add_claim("iat", now_s());
  return obj.signature();
}

TEST(TokenService, IssuedTokenVerifies) {
  const auto svc = service();
  std::int64_t exp = 0;
  const auto token = svc.issue("u1", 1h, &exp);
  const auto result = svc.verify(token);
  ASSERT_TRUE(std::holds_alternative<TokenClaims>(result));
  EXPECT_EQ(std::get<TokenClaims>(result).user_id, "u1");
  EXPECT_EQ(std::get<TokenClaims>(result).expires_at, exp);
}

TEST(TokenService, ExpiredBeyondLeewayIsExpired) {
  const auto svc = service();
  EXPECT_EQ(std::get<TokenError>(svc.verify(svc.issue("u1", -60s))), TokenError::expired);
  // Within the leeway it still passes.
  EXPECT_TRUE(std::holds_alternative<TokenClaims>(svc.verify(svc.issue("u1", -2s))));
}

TEST(TokenService, WrongKeyIsInvalidEvenWhenExpired) {
  const auto svc = service();
  EXPECT_EQ(std::get<TokenError>(svc.verify(signed_with("HS256", "other", "u1", now_s() + 3600))), TokenError::invalid);
  // A forged token must not learn "expired".
  EXPECT_EQ(std::get<TokenError>(svc.verify(signed_with("HS256", "other", "u1", now_s() - 3600))), TokenError::invalid);
}

TEST(TokenService, AlgorithmIsPinned) {
  const auto svc = service();
  EXPECT_EQ(std::get<TokenError>(svc.verify(signed_with("HS512", "k1-secret", "u1", now_s() + 3600))),
            TokenError::invalid);
  const std::string none = b64url(R"({"alg":"none","typ":"JWT"})") + "." +
                           b64url(R"({"sub":"u1","exp":)" + std::to_string(now_s() + 3600) + "}") + ".";
  EXPECT_EQ(std::get<TokenError>(svc.verify(none)), TokenError::invalid);
}

TEST(TokenService, GarbageAndOversizeAreInvalid) {
  const auto svc = service();
  for (const std::string& bad :
       {std::string(), std::string("garbage"), std::string("a.b.c"), std::string("..."),
        b64url(R"({"alg":5})") + "." + b64url("{}") + ".x", b64url(R"({"alg":"HS256"})") + "." + b64url("[1,2]") + ".x",
        std::string(TokenService::kMaxTokenBytes + 1, 'a')}) {
    EXPECT_EQ(std::get<TokenError>(svc.verify(bad)), TokenError::invalid) << bad.substr(0, 40);
  }
  // A valid token padded beyond the cap is refused before parsing.
  std::string long_sub(200, 'a');
  std::string big = svc.issue(long_sub, 1h);
  big.append(TokenService::kMaxTokenBytes, 'A');
  EXPECT_EQ(std::get<TokenError>(svc.verify(big)), TokenError::invalid);
}

TEST(TokenService, MissingSubOrExpIsInvalid) {
  using namespace jwt::params;
  const auto svc = service();
  jwt::jwt_object no_sub{algorithm("HS256"), secret("k1-secret")};
  no_sub.add_claim("exp", now_s() + 3600);
  EXPECT_EQ(std::get<TokenError>(svc.verify(no_sub.signature())), TokenError::invalid);
  jwt::jwt_object no_exp{algorithm("HS256"), secret("k1-secret")};
  no_exp.add_claim("sub", "u1");
  EXPECT_EQ(std::get<TokenError>(svc.verify(no_exp.signature())), TokenError::invalid);
  EXPECT_EQ(std::get<TokenError>(svc.verify(signed_with("HS256", "k1-secret", "bad user", now_s() + 60))),
            TokenError::invalid);
}

TEST(TokenService, IssuerAndAudienceWhenConfigured) {
  const auto strict = service("herald", "stream");
  const auto lax = service();
  EXPECT_TRUE(std::holds_alternative<TokenClaims>(strict.verify(strict.issue("u1", 1h))));
  EXPECT_EQ(std::get<TokenError>(strict.verify(lax.issue("u1", 1h))), TokenError::invalid);
  const auto other_iss = service("someone-else", "stream");
  EXPECT_EQ(std::get<TokenError>(strict.verify(other_iss.issue("u1", 1h))), TokenError::invalid);
}

}  // namespace
}  // namespace herald::server::detail

namespace herald::server::detail {
namespace {

std::string with_iat(std::int64_t iat, std::optional<std::int64_t> iat_ms) {
  using namespace jwt::params;
  jwt::jwt_object obj{algorithm("HS256"), secret("k1-secret")};
  obj.add_claim("sub", "u1").add_claim("exp", iat + 3600).add_claim("iat", iat);
  if (iat_ms) obj.add_claim("iat_ms", *iat_ms);
  return obj.signature();
}

TEST(TokenService, IssueTimeForRevocationChecks) {
  const TokenService svc(TokenPolicy{"k1-secret", std::chrono::seconds(5), std::nullopt, std::nullopt});
  const auto issued = svc.verify(svc.issue("u1", std::chrono::hours(1), nullptr, 1'800'000'000'123));
  ASSERT_TRUE(std::holds_alternative<TokenClaims>(issued));
  EXPECT_EQ(std::get<TokenClaims>(issued).issued_at_ms, 1'800'000'000'123);
  const std::int64_t iat = 1'800'000'000;
  // Without iat_ms, or with one that contradicts iat: the start of the iat second.
  for (const auto& ms : {std::optional<std::int64_t>{}, std::optional<std::int64_t>{iat * 1000 + 1000}}) {
    const auto r = svc.verify(with_iat(iat, ms));
    ASSERT_TRUE(std::holds_alternative<TokenClaims>(r));
    EXPECT_EQ(std::get<TokenClaims>(r).issued_at_ms, iat * 1000);
  }
  const auto precise = svc.verify(with_iat(iat, iat * 1000 + 999));
  ASSERT_TRUE(std::holds_alternative<TokenClaims>(precise));
  EXPECT_EQ(std::get<TokenClaims>(precise).issued_at_ms, iat * 1000 + 999);
}

}  // namespace
}  // namespace herald::server::detail
