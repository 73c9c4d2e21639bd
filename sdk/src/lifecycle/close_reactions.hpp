// What the lifecycle does when the server ends a connection (a WebSocket close code, or
// none when the transport is lost) or refuses the upgrade (an HTTP status and the
// `error` of its body): the reactions of docs/protocol.md §2 "Refusals" and §6 "Close
// codes", as pure tables. The lifecycle looks them up and carries them out
// (lifecycle_retry.cpp); the tables' tests pin them to the documentation.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "herald/error.hpp"

namespace herald::detail {

/// When the next attempt starts.
enum class Reaction {
  reconnect_at_once,    ///< at once (with a fresh token: see TokenFate)
  backoff,              ///< after the backoff delay
  within_drain_window,  ///< at a random moment in what is left of an announced drain window, else backoff
  stop,                 ///< never: a permanent failure, reported with the error
};

/// What becomes of the token the ended connection (or refused attempt) used.
enum class TokenFate {
  keep,
  discard,  ///< the next attempt fetches a fresh one
  /// ... unless a newer one that is still usable came meanwhile (say the server closed
  /// just before our reauth with it).
  discard_unless_newer,
};

/// The reaction to a close code (or a lost transport).
struct CloseReaction {
  Reaction reaction = Reaction::backoff;
  errc error = errc::closed_by_server;  ///< what the state report says
  TokenFate token = TokenFate::keep;
};

/// `code`: of the server's close frame; nullopt: the connection ended without one.
CloseReaction close_reaction(std::optional<std::uint16_t> code);

/// The refusals after which one attempt (per welcome) is made at once with a fresh
/// token, before the table's reaction applies; each kind has its own allowance.
enum class FreshTokenRetry { none, expired_token, invalid_token };

/// The reaction to an HTTP refusal of the upgrade.
struct RefusalReaction {
  Reaction reaction = Reaction::backoff;  ///< (after the fresh-token retry, if any)
  errc error = errc::handshake_failed;    ///< what the state report says
  TokenFate token = TokenFate::keep;
  bool retry_after_is_floor = false;  ///< a Retry-After header is a floor on the delay
  FreshTokenRetry fresh_token_retry = FreshTokenRetry::none;
  std::string_view retry_note = {};  ///< appended to the detail reported with that retry
};

/// `status`: the HTTP status; `error`: the `error` of the JSON body ("" if none).
RefusalReaction refusal_reaction(unsigned status, std::string_view error);

}  // namespace herald::detail
