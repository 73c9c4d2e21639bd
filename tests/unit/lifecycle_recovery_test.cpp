// Lifecycle, recovery: every close code and handshake refusal gets its documented
// reaction (protocol-v1.md), and reconnect delays follow the scripted random source
// exactly, resetting only after a connection proved stable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <ostream>
#include <string>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct RecoveryTest : ::testing::Test {
  LifecycleHarness h;

  /// start → token → Open#1, waiting for the upgrade.
  void open_attempt() {
    h.start();
    h.token();
  }
  /// A failed connection attempt (TCP refused) followed by the reconnect firing.
  void fail_attempt() {
    h.connect_failed();
    h.fire_reconnect();
  }
  static void expect_backoff(const Actions& acts, detail::SteadyTime now, std::chrono::milliseconds delay, errc why) {
    EXPECT_THAT(names(acts),
                ElementsAre("Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
    EXPECT_EQ(armed_at(acts, TimerKind::reconnect), now + delay);
    const auto state = last_state(acts);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state, State::reconnecting);
    EXPECT_EQ(state->reason, why) << state->reason.message();
    EXPECT_EQ(state->next_attempt_at, now + delay);
  }
  static void expect_stopped(const Actions& acts, errc why) {
    const auto state = last_state(acts);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state, State::stopped);
    EXPECT_EQ(state->reason, why) << state->reason.message();
    EXPECT_EQ(count<detail::FetchToken>(acts), 0u);
    EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
    EXPECT_FALSE(armed_at(acts, TimerKind::reconnect));
  }
};

// ---- close codes -------------------------------------------------------------------

struct BackoffClose {
  std::optional<std::uint16_t> code;
  errc reason;
};
void PrintTo(const BackoffClose& c, std::ostream* os) {
  *os << (c.code ? std::to_string(*c.code) : std::string("transport lost")) << " -> " << to_string(c.reason);
}

class CloseCodeTest : public RecoveryTest, public ::testing::WithParamInterface<BackoffClose> {};

TEST_P(CloseCodeTest, ReconnectsWithBackoff) {
  h.bring_up();
  h.random().script({321});
  const auto acts = h.closed(GetParam().code, "bye");
  expect_backoff(acts, h.clock.now(), 321ms, GetParam().reason);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
  EXPECT_EQ(count<detail::CloseConnection>(acts), 0u) << "the connection is already closed";
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("Open#2"));
}

INSTANTIATE_TEST_SUITE_P(
    ProtocolV1, CloseCodeTest,
    ::testing::Values(BackoffClose{1000, errc::closed_by_server}, BackoffClose{1001, errc::closed_by_server},
                      BackoffClose{1009, errc::closed_by_server}, BackoffClose{4004, errc::protocol_violation},
                      BackoffClose{4008, errc::closed_by_server}, BackoffClose{4401, errc::protocol_violation},
                      BackoffClose{std::nullopt, errc::connection_lost}),
    [](const auto& param_info) {
      return param_info.param.code ? "code_" + std::to_string(*param_info.param.code) : std::string("transport_lost");
    });

TEST_F(RecoveryTest, CloseWhileTheUpgradeIsPendingAlsoBacksOff) {
  open_attempt();
  expect_backoff(h.closed(std::nullopt), h.clock.now(), 500ms, errc::connection_lost);
}

TEST_F(RecoveryTest, DrainSchedulesASwitchAtARandomMomentOfTheWindow) {
  h.bring_up();
  h.random().script({20'000});
  const auto acts = h.frame(R"({"type":"drain","reconnect_within_ms":30000})");
  EXPECT_THAT(names(acts), ElementsAre("Arm(handover)"));
  EXPECT_EQ(armed_at(acts, TimerKind::handover), h.clock.now() + 20'000ms);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u));
}

TEST_F(RecoveryTest, GoingAwayInsideADrainWindowReconnectsAtARandomMomentOfTheWindow) {
  h.bring_up();
  h.random().script({20'000, 12'345});
  h.frame(R"({"type":"drain","reconnect_within_ms":30000})");
  h.clock.advance(10s);
  const auto acts = h.closed(1001, "draining");
  EXPECT_THAT(names(acts),
              ElementsAre("Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 12'345ms);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u, 20'000u)) << "what is left of the window";
  EXPECT_EQ(h.lifecycle().attempts(), 0u) << "a drain is not a failure";
}

TEST_F(RecoveryTest, DrainWindowAppliesOnlyToTheConnectionThatAnnouncedIt) {
  h.bring_up();
  h.frame(R"({"type":"drain","reconnect_within_ms":30000})");
  h.closed(1001);
  h.fire_reconnect();
  h.connected();
  h.frame(welcome_json());
  h.random().clear_uppers();
  h.closed(1001);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u)) << "no drain announced on connection 2: plain backoff";
}

// The RandomSource contract is [0, upper]; Backoff clamps a source that breaks it,
// and the drain window must be just as robust: never later than the window.
TEST_F(RecoveryTest, DrainDelayStaysInsideTheWindowEvenWithABadRandomSource) {
  h.bring_up();
  h.random().script({1'000'000'000, 1'000'000'000});
  const auto drain = h.frame(R"({"type":"drain","reconnect_within_ms":30000})");
  const auto switch_at = armed_at(drain, TimerKind::handover);
  ASSERT_TRUE(switch_at);
  EXPECT_LE(*switch_at, h.clock.now() + 30'000ms) << "handover timer beyond the drain window";
  const auto at = armed_at(h.closed(1001), TimerKind::reconnect);
  ASSERT_TRUE(at);
  const auto delay_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*at - h.clock.now()).count();
  EXPECT_GE(delay_ms, 0);
  EXPECT_LE(delay_ms, 30'000) << "reconnect scheduled " << delay_ms << " ms after the close";
}

TEST_F(RecoveryTest, TokenExpiredOnALiveConnectionFetchesAFreshTokenAtOnce) {
  h.bring_up();
  const auto acts = h.closed(4001, "token expired");
  EXPECT_THAT(names(acts), ElementsAre("State(reconnecting)", "Cancel(liveness)", "Cancel(handover)", "FetchToken",
                                       "Arm(token_timeout)"));
  EXPECT_EQ(last_state(acts)->reason, errc::token_expired);
  EXPECT_FALSE(armed_at(acts, TimerKind::reconnect)) << "no backoff";
  EXPECT_THAT(h.random().uppers(), IsEmpty());
  const auto open = find<detail::OpenConnection>(h.token("fresh"));
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "fresh");
}

TEST_F(RecoveryTest, RevokedOnALiveConnectionStopsWithAuthFailed) {
  h.bring_up();
  const auto acts = h.closed(4003, "revoked");
  expect_stopped(acts, errc::auth_failed);
  EXPECT_EQ(h.lifecycle().state(), State::stopped);
  EXPECT_THAT(h.fire_reconnect(), IsEmpty());
  EXPECT_THAT(h.timer(TimerKind::token_timeout), IsEmpty());
}

// ---- handshake refusals ------------------------------------------------------------

TEST_F(RecoveryTest, TokenExpiredRefusalFetchesAFreshTokenAtOnceOnlyOnce) {
  open_attempt();
  const auto first = h.refused(401, "token_expired");
  EXPECT_THAT(names(first), ElementsAre("State(reconnecting)", "Cancel(liveness)", "Cancel(handover)", "FetchToken",
                                        "Arm(token_timeout)"));
  EXPECT_EQ(last_state(first)->reason, errc::token_expired);
  EXPECT_THAT(h.random().uppers(), IsEmpty());

  EXPECT_THAT(names(h.token("fresh")), ElementsAre("Cancel(token_timeout)", "Open#2"));
  h.random().script({77});
  expect_backoff(h.refused(401, "token_expired"), h.clock.now(), 77ms, errc::token_expired);
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("FetchToken", "Arm(token_timeout)"))
      << "the refused token is not reused";
}

TEST_F(RecoveryTest, TokenExpiredRetryIsAvailableAgainAfterASuccessfulWelcome) {
  open_attempt();
  h.refused(401, "token_expired");
  h.token("fresh");
  h.connected();
  h.frame(welcome_json());
  h.closed(1000);
  h.fire_reconnect();
  EXPECT_EQ(count<detail::FetchToken>(h.refused(401, "token_expired")), 1u);
}

TEST_F(RecoveryTest, InvalidTokenGetsOneFreshTokenThenStopsWithAuthFailed) {
  open_attempt();
  const auto first = h.refused(401, "invalid_token");
  EXPECT_THAT(names(first), ElementsAre("State(reconnecting)", "Cancel(liveness)", "Cancel(handover)", "FetchToken",
                                        "Arm(token_timeout)"));
  EXPECT_EQ(last_state(first)->reason, errc::auth_failed);
  h.token("second");
  expect_stopped(h.refused(401, "invalid_token"), errc::auth_failed);
  EXPECT_THAT(h.random().uppers(), IsEmpty());
}

TEST_F(RecoveryTest, Unauthorized401WithoutACodeIsTreatedAsInvalidToken) {
  open_attempt();
  EXPECT_EQ(count<detail::FetchToken>(h.refused(401, "")), 1u);
  h.token("second");
  expect_stopped(h.refused(401, ""), errc::auth_failed);
}

TEST_F(RecoveryTest, ForbiddenStopsAtOnce) {
  for (const char* code : {"token_revoked", "forbidden", ""}) {
    LifecycleHarness c;
    c.start();
    c.token();
    expect_stopped(c.refused(403, code), errc::auth_failed);
    EXPECT_THAT(c.random().uppers(), IsEmpty()) << code;
    EXPECT_THAT(c.fire_reconnect(), IsEmpty()) << code;
  }
}

TEST_F(RecoveryTest, BadRequestStopsWithBadRequest) {
  open_attempt();
  expect_stopped(h.refused(400, "bad_request"), errc::bad_request);
}

TEST_F(RecoveryTest, RateLimitedWaitsAtLeastRetryAfter) {
  open_attempt();
  h.random().script({250});
  expect_backoff(h.refused(429, "rate_limited", 2s), h.clock.now(), 2000ms, errc::handshake_failed);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u)) << "the backoff still counts the failure";
}

TEST_F(RecoveryTest, BackoffLongerThanRetryAfterWins) {
  open_attempt();
  h.random().script({400, 900, 1900, 3500});
  for (int i = 0; i < 3; ++i) fail_attempt();  // ceilings 500, 1000, 2000
  expect_backoff(h.refused(503, "draining", 1s), h.clock.now(), 3500ms, errc::handshake_failed);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u, 1000u, 2000u, 4000u));
}

TEST_F(RecoveryTest, ServiceUnavailableWithoutRetryAfterBacksOff) {
  open_attempt();
  h.random().script({123});
  expect_backoff(h.refused(503, "draining"), h.clock.now(), 123ms, errc::handshake_failed);
}

TEST_F(RecoveryTest, OtherServerErrorsBackOff) {
  for (unsigned status : {500u, 502u, 504u}) {
    LifecycleHarness c;
    c.start();
    c.token();
    c.random().script({42});
    expect_backoff(c.refused(status, ""), c.clock.now(), 42ms, errc::handshake_failed);
  }
}

TEST_F(RecoveryTest, ConnectFailureBacksOff) {
  open_attempt();
  h.random().script({99});
  expect_backoff(h.connect_failed("connection refused"), h.clock.now(), 99ms, errc::connect_failed);
}

// ---- backoff growth and reset ------------------------------------------------------

TEST_F(RecoveryTest, ReconnectDelaysFollowTheScriptedRandomExactly) {
  open_attempt();
  h.random().script({100, 700, 1500, 3999, 0, 15'999, 30'000});
  std::vector<long long> delays;
  for (int i = 0; i < 7; ++i) {
    const auto now = h.clock.now();
    const auto at = armed_at(h.connect_failed(), TimerKind::reconnect);
    ASSERT_TRUE(at);
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*at - now).count());
    EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("Open#" + std::to_string(i + 2)));
  }
  EXPECT_THAT(delays, ElementsAre(100, 700, 1500, 3999, 0, 15'999, 30'000));
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u, 1000u, 2000u, 4000u, 8000u, 16000u, 30000u));
}

struct StabilityTest : RecoveryTest {
  /// Three failed attempts (ceilings 500, 1000, 2000), then a connection with welcome.
  void three_failures_then_connect() {
    open_attempt();
    for (int i = 0; i < 3; ++i) fail_attempt();
    h.connected();
    h.frame(welcome_json());
    h.random().clear_uppers();
  }
};

TEST_F(StabilityTest, ConnectionStableForStableAfterPastCaughtUpResetsTheBackoff) {
  three_failures_then_connect();
  h.frame(R"({"type":"caught_up","head_id":0})");
  h.clock.advance(10s);
  h.closed(1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
}

TEST_F(StabilityTest, ConnectionClosingJustBeforeStableAfterKeepsTheBackoff) {
  three_failures_then_connect();
  h.frame(R"({"type":"caught_up","head_id":0})");
  h.clock.advance(10s - 1ms);
  h.closed(1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(4000u));
}

TEST_F(StabilityTest, ConnectionClosingRightAfterConnectingKeepsTheBackoff) {
  three_failures_then_connect();
  h.frame(R"({"type":"caught_up","head_id":0})");
  h.closed(1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(4000u));
}

TEST_F(StabilityTest, ConnectionThatNeverCaughtUpKeepsTheBackoff) {
  three_failures_then_connect();
  h.clock.advance(50s);
  h.closed(std::nullopt);
  EXPECT_THAT(h.random().uppers(), ElementsAre(4000u));
}

TEST_F(StabilityTest, ConnectionClosedBeforeWelcomeKeepsTheBackoff) {
  open_attempt();
  for (int i = 0; i < 3; ++i) fail_attempt();
  h.connected();
  h.random().clear_uppers();
  h.clock.advance(1h);
  h.closed(1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(4000u));
}

// A connection that stayed up for a minute past caught_up and then went half-open
// proved stable just as much as one the server closed: the next delay starts small.
TEST_F(StabilityTest, LivenessTimeoutAfterAStableConnectionResetsTheBackoff) {
  three_failures_then_connect();
  h.frame(R"({"type":"caught_up","head_id":0})");
  h.clock.advance(20s);
  h.activity();
  h.clock.advance(55s);
  const auto acts = h.timer(TimerKind::liveness);
  ASSERT_EQ(last_state(acts)->reason, errc::liveness_timeout);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
}

TEST_F(StabilityTest, BackoffKeepsGrowingAcrossUnstableConnections) {
  open_attempt();
  h.random().clear_uppers();
  for (int i = 0; i < 4; ++i) {
    h.connected();
    h.frame(welcome_json());
    h.frame(R"({"type":"caught_up","head_id":0})");
    h.clock.advance(1s);
    h.closed(1000);
    h.fire_reconnect();
  }
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u, 1000u, 2000u, 4000u));
}

}  // namespace
}  // namespace herald::test
