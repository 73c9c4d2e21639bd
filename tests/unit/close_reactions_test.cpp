// The close-code and refusal tables against docs/protocol.md: §6 "Close codes" and §2
// "Refusals", row by row.
#include "lifecycle/close_reactions.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herald::test {
namespace {

using detail::close_reaction;
using detail::FreshTokenRetry;
using detail::Reaction;
using detail::refusal_reaction;
using detail::TokenFate;

void expect_close(std::optional<std::uint16_t> code, Reaction reaction, errc error, TokenFate token = TokenFate::keep) {
  const auto r = close_reaction(code);
  const auto name = code ? std::to_string(*code) : std::string("no close frame");
  EXPECT_EQ(r.reaction, reaction) << name;
  EXPECT_EQ(r.error, error) << name;
  EXPECT_EQ(r.token, token) << name;
}

TEST(CloseReactionsTest, EveryDocumentedCloseCode) {
  expect_close(1000, Reaction::backoff, errc::closed_by_server);              // normal
  expect_close(1001, Reaction::within_drain_window, errc::closed_by_server);  // drain window, else backoff
  expect_close(1009, Reaction::backoff, errc::closed_by_server);              // message too big: report, backoff
  // token expired on a live connection: fresh token, reconnect at once
  expect_close(4001, Reaction::reconnect_at_once, errc::token_expired, TokenFate::discard_unless_newer);
  expect_close(4003, Reaction::stop, errc::auth_failed);            // permanent: stop, report auth_failed
  expect_close(4004, Reaction::backoff, errc::protocol_violation);  // protocol error: report, backoff
  expect_close(4008, Reaction::backoff, errc::closed_by_server);    // slow consumer: backoff
  expect_close(4401, Reaction::backoff, errc::protocol_violation);  // as 4004
}

TEST(CloseReactionsTest, NoCloseFrameAndUnknownCodesBackOff) {
  expect_close(std::nullopt, Reaction::backoff, errc::connection_lost);  // reset, EOF
  expect_close(1011, Reaction::backoff, errc::closed_by_server);         // e.g. the revocation lookup failed
  expect_close(4999, Reaction::backoff, errc::closed_by_server);
}

TEST(CloseReactionsTest, OnlyARevocationStops) {
  for (std::uint32_t code = 1000; code < 5000; ++code) {
    const auto r = close_reaction(static_cast<std::uint16_t>(code));
    EXPECT_EQ(r.reaction == Reaction::stop, code == 4003) << code;
  }
}

/// What a refusal is expected to lead to; each field as in detail::RefusalReaction.
struct Expected {
  Reaction reaction;
  errc error;
  TokenFate token = TokenFate::keep;
  bool retry_after_is_floor = false;
  FreshTokenRetry fresh_token_retry = FreshTokenRetry::none;
  std::string_view retry_note = {};
};

void expect_refusal(unsigned status, std::string_view error, const Expected& e) {
  const auto r = refusal_reaction(status, error);
  const auto name = std::to_string(status) + " " + std::string(error);
  EXPECT_EQ(r.reaction, e.reaction) << name;
  EXPECT_EQ(r.error, e.error) << name;
  EXPECT_EQ(r.token, e.token) << name;
  EXPECT_EQ(r.retry_after_is_floor, e.retry_after_is_floor) << name;
  EXPECT_EQ(r.fresh_token_retry, e.fresh_token_retry) << name;
  EXPECT_EQ(r.retry_note, e.retry_note) << name;
}

TEST(RefusalReactionsTest, BadRequestIsPermanent) {
  expect_refusal(400, "bad_request", {Reaction::stop, errc::bad_request});
}

TEST(RefusalReactionsTest, ExpiredTokenRetriesOnceAtOnceThenBacksOff) {
  expect_refusal(401, "token_expired",
                 {Reaction::backoff, errc::token_expired, TokenFate::discard, false, FreshTokenRetry::expired_token});
}

TEST(RefusalReactionsTest, InvalidTokenRetriesOnceThenIsPermanent) {
  for (std::string_view error : {"invalid_token", "", "something_else"}) {  // a 401 without a known code too
    expect_refusal(401, error,
                   {Reaction::stop, errc::auth_failed, TokenFate::discard, false, FreshTokenRetry::invalid_token,
                    " (retrying once with a fresh token)"});
  }
}

TEST(RefusalReactionsTest, ForbiddenIsPermanentWithoutRetry) {
  for (std::string_view error : {"token_revoked", "forbidden", ""}) {
    expect_refusal(403, error, {Reaction::stop, errc::auth_failed});
  }
}

TEST(RefusalReactionsTest, RateLimitedAndDrainingBackOffNoSoonerThanRetryAfter) {
  expect_refusal(429, "rate_limited", {Reaction::backoff, errc::handshake_failed, TokenFate::keep, true});
  expect_refusal(503, "draining", {Reaction::backoff, errc::handshake_failed, TokenFate::keep, true});
}

TEST(RefusalReactionsTest, NotFoundAndOther5xxBackOff) {
  expect_refusal(404, "not_found", {Reaction::backoff, errc::handshake_failed});
  for (unsigned status : {500u, 502u, 504u}) expect_refusal(status, "", {Reaction::backoff, errc::handshake_failed});
}

}  // namespace
}  // namespace herald::test
