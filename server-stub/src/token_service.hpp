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
  std::string user_id;          ///< `sub`
  std::int64_t expires_at = 0;  ///< `exp`, unix seconds
  /// When the token was issued, unix milliseconds, for revocation checks: the custom
  /// claim `iat_ms` when present and consistent with `iat`; otherwise the first
  /// millisecond of the `iat` second (so a revoke in that second covers the token);
  /// nullopt without a usable `iat` (such a token counts as issued before any revoke).
  std::optional<std::int64_t> issued_at_ms;
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

  /// Signs claims sub, iat, iat_ms, exp (= iat + ttl), iss/aud when configured.
  /// `issued_at_ms` (unix ms) defaults to now; iat is its second.
  std::string issue(const std::string& user_id, std::chrono::seconds ttl, std::int64_t* expires_at = nullptr,
                    std::optional<std::int64_t> issued_at_ms = std::nullopt) const;

 private:
  bool signature_ok(std::string_view token) const;
  TokenPolicy policy_;
};

}  // namespace herald::server::detail
