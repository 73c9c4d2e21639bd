// Lifecycle, retry policy: reconnect_now(), max_attempts / max_elapsed, backoff without
// jitter, idle pings and the liveness deadline, and last_delay(). Exact delays come from
// the scripted random source (which answers `upper` once its script runs out).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

detail::LifecycleConfig with_max_attempts(std::uint32_t n) {
  detail::LifecycleConfig c;
  c.max_attempts = n;
  return c;
}

detail::LifecycleConfig with_max_elapsed(std::chrono::milliseconds d) {
  detail::LifecycleConfig c;
  c.max_elapsed = d;
  return c;
}

void expect_retries_exhausted(const Actions& acts) {
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::stopped);
  EXPECT_EQ(state->reason, errc::retries_exhausted) << state->reason.message();
  EXPECT_FALSE(state->next_attempt_at);
  EXPECT_FALSE(armed_at(acts, TimerKind::reconnect));
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
  EXPECT_EQ(count<detail::FetchToken>(acts), 0u);
}

/// Brings `h` to a connection that caught up and stayed up for stable_after.
void stable_connection(LifecycleHarness& h) {
  h.connected();
  h.frame(welcome_json());
  h.frame(caught_up_json());
  h.clock.advance(h.config().stable_after);
}

// ---- reconnect_now -----------------------------------------------------------------

struct ReconnectNowTest : ::testing::Test {
  LifecycleHarness h;
};

TEST_F(ReconnectNowTest, WhileWaitingCancelsTheTimerAndTriesAtOnceWithTheBackoffReset) {
  h.start();
  h.token();
  for (int i = 0; i < 3; ++i) {
    h.connect_failed();
    h.fire_reconnect();
  }
  h.connect_failed();  // waiting with ceiling 4000 drawn
  ASSERT_THAT(h.random().uppers(), ElementsAre(500u, 1000u, 2000u, 4000u));
  h.clock.advance(100ms);
  const auto acts = h.reconnect_now();
  EXPECT_THAT(names(acts), ElementsAre("Cancel(reconnect)", "Open#5"));
  EXPECT_EQ(h.lifecycle().attempts(), 0u);
  EXPECT_EQ(h.lifecycle().state(), State::reconnecting) << "no state report: still reconnecting";

  h.random().clear_uppers();
  h.random().script({111});
  const auto fail = h.connect_failed();
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u)) << "the next failure starts from the base again";
  EXPECT_EQ(delay_ms(fail, h.clock.now()), 111);
}

TEST(TokenProviderVerdict, APermanentFailureBeforeTheFirstConnectionStopsWithoutAnAttempt) {
  LifecycleHarness h;
  h.start();
  const auto failed = h.token_failed("", make_error_code(errc::auth_failed));
  const auto stopped = last_state(failed);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->state, State::stopped);
  EXPECT_EQ(stopped->reason, make_error_code(errc::auth_failed));
  for (const auto& n : names(failed)) EXPECT_NE(n, "Arm(reconnect)") << "no retry";
  EXPECT_TRUE(h.start().empty()) << "stopped for good";
}

TEST_F(ReconnectNowTest, WhileWaitingWithoutAUsableTokenFetchesOneFirst) {
  h.start();
  h.token_failed("provider down");
  const auto acts = h.reconnect_now();
  EXPECT_THAT(names(acts), ElementsAre("Cancel(reconnect)", "FetchToken", "Arm(token_timeout)"));
  EXPECT_EQ(armed_at(acts, TimerKind::token_timeout), h.clock.now() + 30s);
  EXPECT_THAT(names(h.token("t")), ElementsAre("Cancel(token_timeout)", "Open#1"));
}

TEST_F(ReconnectNowTest, WhileConnectedSwitchesToANewConnectionWithoutAStateChange) {
  LifecycleHarness c(std::uint64_t{7});
  c.start();
  c.token("tok");
  c.connected();
  c.frame(welcome_json());
  c.frame(notification_json(8));
  const auto acts = c.reconnect_now();
  EXPECT_THAT(names(acts), ElementsAre("Open#2", "Arm(handover_timeout)"));
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("reconnect requested")));
  const auto open = find<detail::OpenConnection>(acts);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "tok");
  EXPECT_EQ(open->last_seen_id, 8u);
  EXPECT_EQ(c.lifecycle().handover_conn(), 2u);
  EXPECT_THAT(c.random().uppers(), IsEmpty());

  EXPECT_THAT(c.reconnect_now(), IsEmpty()) << "one switch at a time";
  c.connected(2);
  c.frame(2, welcome_json());
  const auto sw = c.frame(2, caught_up_json());
  EXPECT_THAT(names(sw), ElementsAre("Close#1/1000", "Cancel(handover)", "Cancel(handover_timeout)", "Arm(liveness)"));
  EXPECT_EQ(count<detail::ReportState>(sw), 0u);
  EXPECT_EQ(c.lifecycle().state(), State::connected);
}

TEST_F(ReconnectNowTest, DoesNothingBeforeStartWhileFetchingConnectingOrStopped) {
  EXPECT_THAT(h.reconnect_now(), IsEmpty()) << "idle";
  h.start();
  EXPECT_THAT(h.reconnect_now(), IsEmpty()) << "fetching a token";
  h.token();
  EXPECT_THAT(h.reconnect_now(), IsEmpty()) << "connecting";
  h.connected();
  EXPECT_THAT(h.reconnect_now(), IsEmpty()) << "upgraded, no welcome yet";
  h.frame(welcome_json());
  h.stop();
  EXPECT_THAT(h.reconnect_now(), IsEmpty()) << "stopped";
  EXPECT_EQ(h.lifecycle().state(), State::stopped);
}

TEST_F(ReconnectNowTest, DoesNothingAfterAPermanentFailure) {
  h.start();
  h.token();
  h.refused(403, "forbidden");
  EXPECT_THAT(h.reconnect_now(), IsEmpty());
}

// Retry-After and reconnect_now(): lifecycle_retry_after_test.cpp.

// ---- max_attempts ------------------------------------------------------------------

TEST(MaxAttemptsTest, TheThirdConsecutiveFailureStopsWithRetriesExhausted) {
  LifecycleHarness h(std::nullopt, with_max_attempts(3));
  h.start();
  h.token();
  EXPECT_EQ(count<detail::ArmTimer>(h.connect_failed()), 1u);
  h.fire_reconnect();
  EXPECT_TRUE(armed_at(h.refused(503, "draining"), TimerKind::reconnect));
  h.fire_reconnect();
  const auto acts = h.connect_failed("connection refused");
  // (Close#3 names the attempt that just failed; the driver ignores ids it forgot.)
  EXPECT_THAT(names(acts), ElementsAre("Close#3/1000", "Cancel(liveness)", "Cancel(handover)", "Cancel(reconnect)",
                                       "Cancel(token_timeout)", "Cancel(refresh)", "Cancel(reauth)",
                                       "Cancel(handover_timeout)", "State(stopped)"));
  expect_retries_exhausted(acts);
  EXPECT_THAT(last_state(acts)->detail, HasSubstr("connection refused"));
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u, 1000u)) << "no delay drawn for the failure that gives up";
  EXPECT_EQ(h.lifecycle().state(), State::stopped);
  EXPECT_THAT(h.fire_reconnect(), IsEmpty());
  EXPECT_THAT(h.reconnect_now(), IsEmpty());
}

TEST(MaxAttemptsTest, EveryKindOfFailureCounts) {
  LifecycleHarness h(std::nullopt, with_max_attempts(3));
  h.start();
  h.token_failed("provider down");  // 1
  h.fire_reconnect();
  h.token();
  h.connect_failed();  // 2
  h.fire_reconnect();
  h.connected();
  expect_retries_exhausted(h.closed(1000));  // 3: closed before welcome
}

TEST(MaxAttemptsTest, UnstableConnectionsDoNotResetTheCount) {
  LifecycleHarness h(std::nullopt, with_max_attempts(3));
  h.start();
  h.token();
  h.connect_failed();  // 1
  h.fire_reconnect();
  h.connect_failed();  // 2
  h.fire_reconnect();
  h.connected();
  h.frame(welcome_json());
  h.frame(caught_up_json());
  h.clock.advance(h.config().stable_after - 1ms);
  expect_retries_exhausted(h.closed(1000));  // 3
}

// "Stop after this many consecutive failed attempts": a connection that proved stable
// ends the run, and its closing is not itself a failed attempt. With the count left at
// one after the close, the client would stop after only two more failures here.
TEST(MaxAttemptsTest, StableConnectionInBetweenResetsTheCount) {
  LifecycleHarness h(std::nullopt, with_max_attempts(3));
  h.start();
  h.token();
  h.connect_failed();  // 1
  h.fire_reconnect();
  h.connect_failed();  // 2
  h.fire_reconnect();
  stable_connection(h);
  EXPECT_TRUE(armed_at(h.closed(1000), TimerKind::reconnect));
  h.fire_reconnect();
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect)) << "1st failure after the stable connection";
  h.fire_reconnect();
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect)) << "2nd failure after the stable connection";
  h.fire_reconnect();
  expect_retries_exhausted(h.connect_failed());  // 3rd
}

// The sharpest form of the same rule: with max_attempts = 1 a healthy connection that the
// server closes (a deploy, 1000/1001) must get at least one reconnect attempt.
TEST(MaxAttemptsTest, HealthyConnectionClosedByTheServerIsRetriedEvenWithMaxAttemptsOne) {
  LifecycleHarness h(std::nullopt, with_max_attempts(1));
  h.start();
  h.token();
  stable_connection(h);
  h.clock.advance(1h);
  const auto acts = h.closed(1000, "restart");
  EXPECT_TRUE(armed_at(acts, TimerKind::reconnect));
  EXPECT_EQ(h.lifecycle().state(), State::reconnecting);
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("Open#2"));
  expect_retries_exhausted(h.connect_failed());
}

TEST(MaxAttemptsTest, ReconnectNowResetsTheCount) {
  LifecycleHarness h(std::nullopt, with_max_attempts(3));
  h.start();
  h.token();
  h.connect_failed();  // 1
  h.fire_reconnect();
  h.connect_failed();  // 2
  h.reconnect_now();
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect));  // 1
  h.fire_reconnect();
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect));  // 2
  h.fire_reconnect();
  expect_retries_exhausted(h.connect_failed());  // 3
}

TEST(MaxAttemptsTest, ZeroMeansRetryForever) {
  LifecycleHarness h;
  h.start();
  h.token();
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect)) << i;
    h.fire_reconnect();
  }
  EXPECT_EQ(h.lifecycle().state(), State::reconnecting);
}

TEST(MaxAttemptsTest, DrainGoingAwayIsNotAFailure) {
  LifecycleHarness h(std::nullopt, with_max_attempts(1));
  h.start();
  h.token();
  h.connected();
  h.frame(welcome_json());
  h.random().script({10'000, 2'000});
  h.frame(drain_json(30s));
  const auto acts = h.closed(1001);
  EXPECT_EQ(delay_ms(acts, h.clock.now()), 2'000);
  EXPECT_EQ(h.lifecycle().state(), State::reconnecting);
}

// ---- max_elapsed -------------------------------------------------------------------

TEST(MaxElapsedTest, FailureAtOrPastTheLimitSinceTheFirstFailureStops) {
  LifecycleHarness h(std::nullopt, with_max_elapsed(10s));
  h.start();
  h.token();
  const auto t0 = h.clock.now();
  h.random().script({0, 0, 0});
  h.connect_failed();  // the run of failures starts here
  h.fire_reconnect();
  h.clock.set(t0 + 10s - 1ms);
  EXPECT_EQ(delay_ms(h.connect_failed(), h.clock.now()), 0) << "9.999 s: keeps trying";
  h.fire_reconnect();
  h.clock.set(t0 + 10s);
  const auto acts = h.connect_failed();
  expect_retries_exhausted(acts);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u, 1000u));
}

TEST(MaxElapsedTest, TheClockStartsAtTheFirstFailureNotAtStart) {
  LifecycleHarness h(std::nullopt, with_max_elapsed(10s));
  h.start();
  h.clock.advance(20s);  // a slow token provider is not a failure
  h.token();
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect));
}

TEST(MaxElapsedTest, StableConnectionRestartsTheClock) {
  LifecycleHarness h(std::nullopt, with_max_elapsed(10s));
  h.start();
  h.token();
  h.random().script({0, 0, 0, 0, 0});
  h.connect_failed();  // the run starts at t0
  h.fire_reconnect();
  h.clock.advance(9s);
  stable_connection(h);  // caught up at t0 + 9 s, closes at t0 + 19 s
  h.closed(1000);
  h.fire_reconnect();
  h.clock.advance(9s);
  EXPECT_TRUE(armed_at(h.connect_failed(), TimerKind::reconnect)) << "9 s into the new run of failures";
}

TEST(MaxElapsedTest, UnstableConnectionDoesNotRestartTheClock) {
  LifecycleHarness h(std::nullopt, with_max_elapsed(10s));
  h.start();
  h.token();
  h.random().script({0, 0, 0});
  h.connect_failed();  // the run starts at t0
  h.fire_reconnect();
  h.clock.advance(5s);
  h.connected();
  h.frame(welcome_json());
  h.frame(caught_up_json());
  h.clock.advance(5s);  // up 5 s: not stable (stable_after 10 s); 10 s since the first failure
  expect_retries_exhausted(h.closed(1000));
}

// ---- jitter off --------------------------------------------------------------------

TEST(NoJitterTest, DelaysAreTheExactCeilingsAndTheRandomSourceIsNeverCalled) {
  LifecycleHarness h(std::nullopt, without_jitter());
  h.start();
  h.token();
  std::vector<long long> delays;
  for (int i = 0; i < 9; ++i) {
    const auto acts = h.connect_failed();
    delays.push_back(delay_ms(acts, h.clock.now()));
    EXPECT_EQ(h.lifecycle().last_delay().count(), delays.back());
    h.fire_reconnect();
  }
  EXPECT_THAT(delays, ElementsAre(500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000));
  EXPECT_THAT(h.random().uppers(), IsEmpty());
}

TEST(NoJitterTest, RetryAfterFloorAndStableResetStillApply) {
  LifecycleHarness h(std::nullopt, without_jitter());
  h.start();
  h.token();
  EXPECT_EQ(delay_ms(h.refused(429, "rate_limited", 3s), h.clock.now()), 3000);
  h.fire_reconnect();
  EXPECT_EQ(delay_ms(h.refused(503, "draining", 0s), h.clock.now()), 1000);
  h.fire_reconnect();
  stable_connection(h);
  EXPECT_EQ(delay_ms(h.closed(std::nullopt), h.clock.now()), 500);
  EXPECT_THAT(h.random().uppers(), IsEmpty());
}

// ---- idle pings and the liveness deadline ------------------------------------------

struct LivenessTest : ::testing::Test {
  LifecycleHarness h;
  detail::SteadyTime t0;
  /// Connected, welcomed with heartbeat 10 s at t0: ping after 10 s, dead after 25 s.
  void live(unsigned heartbeat_s = 10) {
    h.start();
    h.token();
    h.connected();
    t0 = h.clock.now();
    const auto acts = h.frame(welcome_json("ok", heartbeat_s));
    ASSERT_EQ(armed_at(acts, TimerKind::liveness), t0 + std::chrono::seconds{heartbeat_s});
  }
  Actions fire_at(detail::SteadyTime at) {
    h.clock.set(at);
    return h.timer(TimerKind::liveness);
  }
};

TEST_F(LivenessTest, OneHeartbeatOfSilenceSendsAPingAndMovesTheCheckToTheDeadline) {
  live();
  const auto acts = fire_at(t0 + 10s);
  EXPECT_THAT(names(acts), ElementsAre("Ping#1", "Arm(liveness)"));
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), t0 + 25s) << "last activity + 2 x 10 s + 5 s";
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(LivenessTest, TotalSilenceUntilTheDeadlineAbortsAndReconnects) {
  live();
  fire_at(t0 + 10s);
  h.random().script({42});
  const auto acts = fire_at(t0 + 25s);
  EXPECT_THAT(names(acts),
              ElementsAre("Abort#1", "Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  const auto close = find<detail::CloseConnection>(acts);
  ASSERT_TRUE(close);
  EXPECT_TRUE(close->abort);
  EXPECT_EQ(last_state(acts)->reason, errc::liveness_timeout);
  EXPECT_THAT(last_state(acts)->detail, HasSubstr("25000 ms"));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), t0 + 25s + 42ms);
  EXPECT_EQ(h.lifecycle().last_delay(), 42ms);
  EXPECT_THAT(h.frame(1, notification_json(1)), IsEmpty()) << "the aborted connection is stale";
}

TEST_F(LivenessTest, AtMostOnePingPerSilence) {
  live();
  EXPECT_THAT(names(fire_at(t0 + 10s)), ElementsAre("Ping#1", "Arm(liveness)"));
  const auto early = fire_at(t0 + 15s);  // an early or repeated timer
  EXPECT_THAT(names(early), ElementsAre("Arm(liveness)"));
  EXPECT_EQ(armed_at(early, TimerKind::liveness), t0 + 25s);
  EXPECT_THAT(names(fire_at(t0 + 25s - 1ms)), ElementsAre("Arm(liveness)"));
  EXPECT_EQ(count<detail::CloseConnection>(fire_at(t0 + 25s)), 1u);
}

TEST_F(LivenessTest, ActivityClearsThePingAndStartsANewSilence) {
  live();
  fire_at(t0 + 10s);  // Ping#1
  h.clock.set(t0 + 12s);
  h.activity();                         // the pong
  const auto acts = fire_at(t0 + 25s);  // the old deadline: 13 s of new silence
  EXPECT_THAT(names(acts), ElementsAre("Ping#1", "Arm(liveness)")) << "a new silence gets its own ping";
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), t0 + 12s + 25s);
  EXPECT_EQ(last_state(fire_at(t0 + 37s))->reason, errc::liveness_timeout);
}

TEST_F(LivenessTest, AFrameClearsThePingToo) {
  live();
  fire_at(t0 + 10s);
  h.clock.set(t0 + 11s);
  h.frame(notification_json(5));
  const auto quiet = fire_at(t0 + 20s);
  EXPECT_THAT(names(quiet), ElementsAre("Arm(liveness)")) << "9 s of silence: not yet a heartbeat";
  EXPECT_EQ(armed_at(quiet, TimerKind::liveness), t0 + 21s);
  EXPECT_THAT(names(fire_at(t0 + 21s)), ElementsAre("Ping#1", "Arm(liveness)"));
}

TEST_F(LivenessTest, NoPingWhileTrafficFlows) {
  live();
  for (int s = 1; s <= 60; ++s) {
    h.clock.set(t0 + std::chrono::seconds{s});
    h.activity();
    if (s % 10 == 0) {
      const auto acts = h.timer(TimerKind::liveness);
      EXPECT_THAT(names(acts), ElementsAre("Arm(liveness)")) << s;
      EXPECT_EQ(armed_at(acts, TimerKind::liveness), h.clock.now() + 10s) << s;
    }
  }
}

TEST_F(LivenessTest, BeforeTheWelcomeTheDefaultHeartbeatApplies) {
  h.start();
  h.token();
  const auto t1 = h.clock.now();
  EXPECT_EQ(armed_at(h.connected(), TimerKind::liveness), t1 + 25s);
  EXPECT_THAT(names(fire_at(t1 + 25s)), ElementsAre("Ping#1", "Arm(liveness)"));
  EXPECT_EQ(last_state(fire_at(t1 + 55s))->reason, errc::liveness_timeout);
}

// ---- last_delay --------------------------------------------------------------------

struct LastDelayTest : ::testing::Test {
  LifecycleHarness h;
};

TEST_F(LastDelayTest, IsZeroBeforeAnyReconnect) {
  EXPECT_EQ(h.lifecycle().last_delay(), 0ms);
  h.start();
  h.token();
  h.connected();
  h.frame(welcome_json());
  EXPECT_EQ(h.lifecycle().last_delay(), 0ms);
}

TEST_F(LastDelayTest, EqualsTheBackoffDelayOfTheScheduledReconnect) {
  h.start();
  h.token();
  h.random().script({321, 987});
  const auto first = h.connect_failed();
  EXPECT_EQ(h.lifecycle().last_delay(), 321ms);
  EXPECT_EQ(delay_ms(first, h.clock.now()), 321);
  h.fire_reconnect();
  const auto second = h.connect_failed();
  EXPECT_EQ(h.lifecycle().last_delay(), 987ms);
  EXPECT_EQ(last_state(second)->next_attempt_at, h.clock.now() + 987ms);
}

TEST_F(LastDelayTest, EqualsTheRetryAfterFloorWhenTheBackoffIsShorter) {
  h.start();
  h.token();
  h.random().script({100});
  const auto acts = h.refused(503, "draining", 5s);
  EXPECT_EQ(h.lifecycle().last_delay(), 5000ms);
  EXPECT_EQ(delay_ms(acts, h.clock.now()), 5000);
}

TEST_F(LastDelayTest, EqualsTheBackoffWhenItIsLongerThanRetryAfter) {
  h.start();
  h.token();
  h.random().script({400, 900, 1800});
  for (int i = 0; i < 2; ++i) {
    h.connect_failed();
    h.fire_reconnect();
  }
  h.refused(429, "rate_limited", 1s);
  EXPECT_EQ(h.lifecycle().last_delay(), 1800ms);
}

TEST_F(LastDelayTest, EqualsTheDrainWindowDelay) {
  h.start();
  h.token();
  h.connected();
  h.frame(welcome_json());
  h.random().script({10'000, 3'333});
  h.frame(drain_json(30s));
  h.clock.advance(4s);
  const auto acts = h.closed(1001);
  EXPECT_EQ(h.lifecycle().last_delay(), 3'333ms);
  EXPECT_EQ(delay_ms(acts, h.clock.now()), 3'333);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u, 26'000u));
}

TEST_F(LastDelayTest, KeepsTheLastDelayAfterTheReconnectFired) {
  h.start();
  h.token();
  h.random().script({250});
  h.connect_failed();
  h.fire_reconnect();
  h.connected();
  h.frame(welcome_json());
  EXPECT_EQ(h.lifecycle().last_delay(), 250ms);
}

}  // namespace
}  // namespace herald::test
