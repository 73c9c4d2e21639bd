#include "reauth.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <string>

namespace herald::server::detail {

ReauthResult check_reauth(ServerCore& core, const nlohmann::json& msg, std::string_view user_id) {
  constexpr std::uint16_t kCloseForbidden = 4003;
  constexpr std::uint16_t kCloseInternalError = 1011;
  const auto token = msg.find("token");
  if (token == msg.end() || !token->is_string()) {
    return ReauthRefusal{"invalid_token", "reauth needs a string member token", kCloseForbidden};
  }
  TokenResult verified = core.tokens().verify(token->get_ref<const std::string&>());
  if (const auto* err = std::get_if<TokenError>(&verified)) {
    if (*err == TokenError::expired) return ReauthRefusal{"token_expired", "token expired", kCloseForbidden};
    return ReauthRefusal{"invalid_token", "token refused", kCloseForbidden};
  }
  TokenClaims& claims = std::get<TokenClaims>(verified);
  if (claims.user_id != user_id) {
    return ReauthRefusal{"forbidden", "token is for another user", kCloseForbidden};
  }
  try {
    if (core.is_revoked(claims)) return ReauthRefusal{"token_revoked", "token revoked", kCloseForbidden};
  } catch (const std::exception& e) {
    spdlog::error("revocation lookup failed: {}", e.what());
    return ReauthRefusal{"internal_error", "revocation lookup failed", kCloseInternalError};
  }
  return std::move(claims);
}

}  // namespace herald::server::detail
