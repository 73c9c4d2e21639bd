// read_jwt_times: the unverified iat/exp of a compact JWT; anything unreadable → empty.
#include "token/jwt_claims.hpp"

#include <gtest/gtest.h>

#include <string>

#include "jwt_text.hpp"

namespace herald::detail {
namespace {

TEST(Base64UrlHelper, MatchesKnownVectors) {  // RFC 4648 section 10, url alphabet, no padding
  EXPECT_EQ(b64url("f"), "Zg");
  EXPECT_EQ(b64url("fo"), "Zm8");
  EXPECT_EQ(b64url("foo"), "Zm9v");
  EXPECT_EQ(b64url("foob"), "Zm9vYg");
  EXPECT_EQ(b64url("\xfb\xff"), "-_8");
}

TEST(JwtClaims, ReadsIatAndExp) {
  const auto t = read_jwt_times(jwt(R"({"sub":"u1","iat":1767225600,"exp":1767229200})"));
  EXPECT_EQ(t.iat, 1767225600);
  EXPECT_EQ(t.exp, 1767229200);
}

TEST(JwtClaims, EveryPayloadLengthModuloThreeDecodes) {
  // Padding the payload by one and two bytes exercises both partial base64 quanta.
  for (const char* pad : {"", " ", "  "}) {
    const auto t = read_jwt_times(jwt(std::string(R"({"exp":1767229200})") + pad));
    EXPECT_EQ(t.exp, 1767229200) << "padding " << std::string(pad).size();
  }
}

TEST(JwtClaims, PaddedBase64IsAccepted) {
  const std::string payload = R"({"exp":42})";  // 10 bytes: one partial quantum
  const auto t = read_jwt_times("e30." + b64url(payload) + "==.sig");
  EXPECT_EQ(t.exp, 42);
}

TEST(JwtClaims, MissingClaimsAreEmpty) {
  const auto t = read_jwt_times(jwt(R"({"sub":"u1","exp":1767229200})"));
  EXPECT_FALSE(t.iat);
  EXPECT_EQ(t.exp, 1767229200);
}

TEST(JwtClaims, FractionalSecondsAreTruncated) {
  const auto t = read_jwt_times(jwt(R"({"iat":1767225600.75,"exp":1767229200.5})"));
  EXPECT_EQ(t.iat, 1767225600);
  EXPECT_EQ(t.exp, 1767229200);
}

TEST(JwtClaims, NonNumericClaimsAreEmpty) {
  const auto t = read_jwt_times(jwt(R"({"iat":"1767225600","exp":null})"));
  EXPECT_FALSE(t.iat);
  EXPECT_FALSE(t.exp);
  const auto huge = read_jwt_times(jwt(R"({"exp":1e300,"iat":18446744073709551615})"));
  EXPECT_FALSE(huge.exp);
  EXPECT_FALSE(huge.iat);
}

TEST(JwtClaims, UnreadableTokensAreEmpty) {
  const std::string payload = b64url(R"({"exp":1767229200})");
  for (const std::string& token : {
           std::string(),
           std::string("garbage"),
           std::string("...."),
           "e30." + payload,                                                  // two segments
           "e30." + payload.substr(0, 5) + "*" + payload.substr(5) + ".sig",  // '*' is not base64url
           "e30." + std::string("Zm9v+/") + ".sig",                           // standard alphabet, not url
           "e30." + b64url("not json at all") + ".sig",
           "e30." + b64url(R"(["exp",1767229200])") + ".sig",       // JSON, not an object
           "e30." + b64url(R"({"exp":1767229200)") + ".sig",        // truncated JSON
           "e30." + b64url("{\"exp\":1,\"s\":\"\xff\"}") + ".sig",  // invalid UTF-8
           "e30." + b64url(std::string(100, '[')) + ".sig",
       }) {
    const auto t = read_jwt_times(token);
    EXPECT_FALSE(t.iat) << token;
    EXPECT_FALSE(t.exp) << token;
  }
}

TEST(JwtClaims, OversizeTokenIsEmpty) {
  const std::string filler(20'000, 'x');
  const auto token = jwt(R"({"exp":1767229200,"pad":")" + filler + "\"}");
  ASSERT_GT(token.size(), 16u * 1024);
  EXPECT_FALSE(read_jwt_times(token).exp);
}

TEST(JwtClaims, LargeButAllowedTokenIsRead) {
  const auto token = jwt(R"({"exp":1767229200,"pad":")" + std::string(8'000, 'x') + "\"}");
  ASSERT_LT(token.size(), 16u * 1024);
  EXPECT_EQ(read_jwt_times(token).exp, 1767229200);
}

}  // namespace
}  // namespace herald::detail
