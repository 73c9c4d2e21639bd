#include "lifecycle/close_reactions.hpp"

namespace herald::detail {
namespace {

struct CloseCodeRow {
  std::uint16_t code;
  CloseReaction reaction;
};

// docs/protocol.md §6.
constexpr CloseCodeRow kCloseCodes[] = {
    {1000, {Reaction::backoff, errc::closed_by_server}},              // normal
    {1001, {Reaction::within_drain_window, errc::closed_by_server}},  // going away (restart, drain)
    {1009, {Reaction::backoff, errc::closed_by_server}},              // message too big
    {4001, {Reaction::reconnect_at_once, errc::token_expired, TokenFate::discard_unless_newer}},
    {4003, {Reaction::stop, errc::auth_failed}},            // token revoked / forbidden / reauth refused
    {4004, {Reaction::backoff, errc::protocol_violation}},  // protocol error
    {4008, {Reaction::backoff, errc::closed_by_server}},    // slow consumer / rate limited
    {4401, {Reaction::backoff, errc::protocol_violation}},  // no auth frame in time
};
constexpr CloseReaction kOtherCloseCode{Reaction::backoff, errc::closed_by_server};
constexpr CloseReaction kTransportLost{Reaction::backoff, errc::connection_lost};

struct RefusalRow {
  unsigned status;
  std::string_view error;  ///< "": any (other) error
  RefusalReaction reaction;
};

// docs/protocol.md §2 "Refusals"; the first row that matches applies.
constexpr RefusalRow kRefusals[] = {
    {401,
     "token_expired",
     {Reaction::backoff, errc::token_expired, TokenFate::discard, false, FreshTokenRetry::expired_token, ""}},
    // invalid_token, and a 401 without a recognisable error
    {401,
     "",
     {Reaction::stop, errc::auth_failed, TokenFate::discard, false, FreshTokenRetry::invalid_token,
      " (retrying once with a fresh token)"}},
    {403, "", {Reaction::stop, errc::auth_failed}},
    {400, "", {Reaction::stop, errc::bad_request}},
    {429, "", {Reaction::backoff, errc::handshake_failed, TokenFate::keep, true}},
    {503, "", {Reaction::backoff, errc::handshake_failed, TokenFate::keep, true}},
};
constexpr RefusalReaction kOtherRefusal{Reaction::backoff, errc::handshake_failed};  // 404, other 5xx, ...

}  // namespace

CloseReaction close_reaction(std::optional<std::uint16_t> code) {
  if (!code) return kTransportLost;
  for (const auto& row : kCloseCodes) {
    if (row.code == *code) return row.reaction;
  }
  return kOtherCloseCode;
}

RefusalReaction refusal_reaction(unsigned status, std::string_view error) {
  for (const auto& row : kRefusals) {
    if (row.status == status && (row.error.empty() || row.error == error)) return row.reaction;
  }
  return kOtherRefusal;
}

}  // namespace herald::detail
