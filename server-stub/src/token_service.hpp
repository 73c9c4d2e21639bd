// Access tokens: HS256 JWTs, verified with the algorithm pinned, issued for tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace herald::server::detail {

struct TokenClaims {
  std::string user_id;         ///< `sub`
  std::int64_t expires_at = 0; ///< `exp`, unix seconds
};

/// Why a token was refused; maps to the handshake's 401 codes.
enum class TokenError {
  expired,  ///< signature fine, `exp` (+ leeway) passed -> "token_expired"
  invalid,  ///< anything else -> "invalid_token"
};
const char* to_code(TokenError e) noexcept;

using TokenResult = std::variant<TokenClaims, TokenError>;

struct TokenPolicy {
  std::string secret;
  std::chrono::seconds leeway{5};
  std::optional<std::string> issuer;
  std::optional<std::string> audience;
};

/// Thread safety: const members are safe to call concurrently.
class TokenService {
 public:
  /// Tokens longer than this are refused before any parsing.
  static constexpr std::size_t kMaxTokenBytes = 8 * 1024;

  explicit TokenService(TokenPolicy policy);

  /// Verifies signature (HS256 only), exp (required), nbf, iss/aud (when configured)
  /// and `sub` (required, a valid user id). A forged token is never told "expired".
  TokenResult verify(std::string_view token) const;

  /// Signs claims sub, iat, exp (= now + ttl), iss/aud when configured.
  std::string issue(const std::string& user_id, std::chrono::seconds ttl,
                    std::int64_t* expires_at = nullptr) const;

 private:
  bool signature_ok(std::string_view token) const;
  TokenPolicy policy_;
};

}  // namespace herald::server::detail
