// In-band token refresh on a live stream: {"type":"reauth","token":"<jwt>"}. The checks
// a new token must pass before it replaces the token the stream runs on.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <variant>

#include "server_core.hpp"
#include "token_service.hpp"

namespace herald::server::detail {

/// Why a reauth was refused: what the `error` frame says and how the stream closes.
struct ReauthRefusal {
  std::string_view code;     ///< invalid_token, token_expired, forbidden, token_revoked, internal_error
  std::string_view message;  ///< fixed text: never quotes the token
  std::uint16_t close_code;  ///< 4003; 1011 (internal error) when the revocation lookup failed
};

/// The new token's claims, or the refusal.
using ReauthResult = std::variant<TokenClaims, ReauthRefusal>;

/// Checks the `token` member of a reauth message `msg` for a stream of `user_id`: exactly
/// the handshake's checks (TokenService::verify: HS256 signature, exp/nbf with leeway,
/// iss/aud when configured, `sub`; then revocation by issue time) plus the same `sub`.
/// A missing or non-string `token` is invalid_token. Any thread; never throws.
ReauthResult check_reauth(ServerCore& core, const nlohmann::json& msg, std::string_view user_id);

}  // namespace herald::server::detail
