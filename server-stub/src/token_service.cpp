#include "token_service.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <jwt/jwt.hpp>

#include "json_util.hpp"

namespace herald::server::detail {
namespace {

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// base64url without padding, the JWS signature encoding.
std::string base64url(const unsigned char* data, std::size_t n) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 2 < n; i += 3) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const unsigned v = unsigned{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const unsigned v = (unsigned{data[i]} << 16) | (unsigned{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// iat values beyond this (year ~2286) are ignored rather than overflow when scaled.
constexpr std::int64_t kMaxIatSeconds = std::int64_t{1} << 33;

}  // namespace

const char* to_code(TokenError e) noexcept { return e == TokenError::expired ? "token_expired" : "invalid_token"; }

TokenService::TokenService(TokenPolicy policy) : policy_(std::move(policy)) {}

// Recomputes HMAC-SHA256 over "header.payload" and compares in constant time. Used to
// decide between "expired" and "invalid": cpp-jwt checks exp before the signature.
bool TokenService::signature_ok(std::string_view token) const {
  const auto last_dot = token.rfind('.');
  if (last_dot == std::string_view::npos) return false;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha256(), policy_.secret.data(), static_cast<int>(policy_.secret.size()),
           reinterpret_cast<const unsigned char*>(token.data()), last_dot, mac.data(), &mac_len) == nullptr) {
    return false;
  }
  const std::string expected = base64url(mac.data(), mac_len);
  const std::string_view given = token.substr(last_dot + 1);
  return given.size() == expected.size() && CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

TokenResult TokenService::verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes) return TokenError::invalid;
  using namespace jwt::params;
  std::error_code ec;
  try {
    const auto leeway_s = static_cast<std::uint32_t>(policy_.leeway.count());
    jwt::jwt_object obj;
    if (policy_.issuer && policy_.audience) {
      obj = jwt::decode(token, algorithms({"HS256"}), ec, secret(policy_.secret), jwt::params::verify(true),
                        leeway(leeway_s), issuer(*policy_.issuer), aud(*policy_.audience));
    } else if (policy_.issuer) {
      obj = jwt::decode(token, algorithms({"HS256"}), ec, secret(policy_.secret), jwt::params::verify(true),
                        leeway(leeway_s), issuer(*policy_.issuer));
    } else if (policy_.audience) {
      obj = jwt::decode(token, algorithms({"HS256"}), ec, secret(policy_.secret), jwt::params::verify(true),
                        leeway(leeway_s), aud(*policy_.audience));
    } else {
      obj = jwt::decode(token, algorithms({"HS256"}), ec, secret(policy_.secret), jwt::params::verify(true),
                        leeway(leeway_s));
    }
    if (ec) {
      if (ec == jwt::VerificationErrc::TokenExpired && obj.header().algo() == jwt::algorithm::HS256 &&
          signature_ok(token)) {
        return TokenError::expired;
      }
      return TokenError::invalid;
    }
    if (obj.header().algo() != jwt::algorithm::HS256) return TokenError::invalid;
    const auto& claims = obj.payload().create_json_obj();
    const auto sub = claims.find("sub");
    const auto exp = claims.find("exp");
    if (sub == claims.end() || !sub->is_string() || exp == claims.end() || !exp->is_number_integer()) {
      return TokenError::invalid;
    }
    TokenClaims out;
    out.user_id = sub->get<std::string>();
    out.expires_at = exp->get<std::int64_t>();
    const auto iat = claims.find("iat");
    if (iat != claims.end() && iat->is_number_integer()) {
      const auto iat_s = iat->get<std::int64_t>();
      if (iat_s >= 0 && iat_s < kMaxIatSeconds) {
        out.issued_at_ms = iat_s * 1000;
        const auto iat_ms = claims.find("iat_ms");
        if (iat_ms != claims.end() && iat_ms->is_number_integer()) {
          const auto ms = iat_ms->get<std::int64_t>();
          if (ms >= 0 && ms / 1000 == iat_s) out.issued_at_ms = ms;
        }
      }
    }
    if (!is_valid_user_id(out.user_id)) return TokenError::invalid;
    if (out.expires_at + policy_.leeway.count() < unix_now_s()) return TokenError::expired;
    return out;
  } catch (...) {
    // cpp-jwt throws on some malformed input (e.g. a non-string "alg"); never leak it.
    return TokenError::invalid;
  }
}

std::string TokenService::issue(const std::string& user_id, std::chrono::seconds ttl, std::int64_t* expires_at,
                                std::optional<std::int64_t> issued_at_ms) const {
  using namespace jwt::params;
  const std::int64_t iat_ms = issued_at_ms ? *issued_at_ms : unix_now_ms();
  const std::int64_t now = iat_ms / 1000;
  const std::int64_t exp = now + ttl.count();
  jwt::jwt_object obj{algorithm("HS256"), secret(policy_.secret)};
  obj.add_claim("sub", user_id).add_claim("iat", now).add_claim("iat_ms", iat_ms).add_claim("exp", exp);
  if (policy_.issuer) obj.add_claim("iss", *policy_.issuer);
  if (policy_.audience) obj.add_claim("aud", *policy_.audience);
  if (expires_at != nullptr) *expires_at = exp;
  return obj.signature();
}

}  // namespace herald::server::detail
