// Lifecycle, a server's Retry-After (429/503): a floor for the next attempt, clamped to
// retry_after_max so a server cannot park a client for years, and shortened by
// reconnect_now() (the network changed) to at most reconnect_now_within after the call —
// which also bounds how often reconnect_now() can make a refused client try.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct RetryAfterTest : ::testing::Test {
  LifecycleHarness h;

  /// start → token → Open#1, refused with `status` and Retry-After `s`.
  Actions refused_with_retry_after(std::chrono::seconds s, unsigned status = 429) {
    h.start();
    h.token();
    return h.refused(status, status == 429 ? "rate_limited" : "draining", s);
  }
};

TEST_F(RetryAfterTest, TheDefaultBoundIsFiveMinutes) {
  EXPECT_EQ(detail::LifecycleConfig{}.retry_after_max, std::chrono::minutes{5});
  EXPECT_EQ(detail::LifecycleConfig{}.reconnect_now_within, std::chrono::seconds{5});
}

TEST_F(RetryAfterTest, ANineDigitRetryAfterIsClampedToRetryAfterMax) {
  const auto t0 = h.clock.now();
  const auto acts = refused_with_retry_after(std::chrono::seconds{999'999'999});
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), t0 + 5min);
  EXPECT_EQ(last_state(acts)->next_attempt_at, t0 + 5min);
  EXPECT_EQ(h.lifecycle().last_delay(), 5min);
  h.clock.advance(5min);
  EXPECT_THAT(names(h.timer(TimerKind::reconnect)), ElementsAre("Open#2")) << "back after the bound";
}

TEST_F(RetryAfterTest, TheBoundIsAnOption) {
  detail::LifecycleConfig c;
  c.retry_after_max = 60s;
  LifecycleHarness g(std::nullopt, c);
  g.start();
  g.token();
  const auto t0 = g.clock.now();
  EXPECT_EQ(armed_at(g.refused(503, "draining", 3600s), TimerKind::reconnect), t0 + 60s);
}

TEST_F(RetryAfterTest, ARetryAfterWithinTheBoundIsKept) {
  const auto t0 = h.clock.now();
  EXPECT_EQ(armed_at(refused_with_retry_after(299s), TimerKind::reconnect), t0 + 299s);
}

// protocol-v1.md: "never sooner than Retry-After seconds" — except that the application
// said the network changed. Then the attempt comes no later than reconnect_now_within
// (5 s) after the call, not at once: a fleet of apps coming to the foreground together
// still spreads over those seconds' worth of calls, and a refused client tries at most
// once per 5 s however often reconnect_now() is called.
TEST_F(RetryAfterTest, ReconnectNowInsideTheWindowBringsTheAttemptToAtMostFiveSecondsAway) {
  const auto t0 = h.clock.now();
  refused_with_retry_after(60s);
  h.clock.advance(1s);
  const auto acts = h.reconnect_now();
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u) << "not at once";
  EXPECT_EQ(count<detail::FetchToken>(acts), 0u);
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), t0 + 6s);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, make_error_code(errc::handshake_failed)) << "the reason is still the refusal";
  EXPECT_EQ(state->next_attempt_at, t0 + 6s);
  EXPECT_EQ(h.lifecycle().last_delay(), 5s);
  EXPECT_EQ(h.lifecycle().attempts(), 0u) << "the backoff starts over, as for any reconnect_now()";
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("network change")));

  // More calls inside the window change nothing: at most one attempt per 5 s.
  h.clock.advance(2s);
  const auto again = h.reconnect_now();
  EXPECT_FALSE(armed_at(again, TimerKind::reconnect));
  EXPECT_EQ(count<detail::OpenConnection>(again), 0u);

  h.clock.set(t0 + 6s);
  EXPECT_THAT(names(h.timer(TimerKind::reconnect)), ElementsAre("Open#2"));
}

TEST_F(RetryAfterTest, ARefusalAfterTheEarlyAttemptStartsANewWindowThatReconnectNowShortensAgain) {
  refused_with_retry_after(60s);
  h.clock.advance(1s);
  h.reconnect_now();
  h.clock.advance(5s);
  h.timer(TimerKind::reconnect);  // Open#2
  const auto t1 = h.clock.now();
  EXPECT_EQ(armed_at(h.refused(429, "rate_limited", 60s), TimerKind::reconnect), t1 + 60s);
  h.clock.advance(10s);
  EXPECT_EQ(armed_at(h.reconnect_now(), TimerKind::reconnect), t1 + 15s);
}

TEST_F(RetryAfterTest, ReconnectNowNearTheEndOfTheWindowKeepsTheEnd) {
  const auto t0 = h.clock.now();
  refused_with_retry_after(3s);
  h.clock.advance(1s);
  const auto acts = h.reconnect_now();
  EXPECT_FALSE(armed_at(acts, TimerKind::reconnect)) << "2 s left: sooner than 5 s anyway";
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
  EXPECT_EQ(h.reconnect_at(), t0 + 3s);
}

TEST_F(RetryAfterTest, ReconnectNowWithinZeroTriesAtOnce) {
  detail::LifecycleConfig c;
  c.reconnect_now_within = std::chrono::milliseconds{0};
  LifecycleHarness g(std::nullopt, c);
  g.start();
  g.token();
  g.refused(429, "rate_limited", 60s);
  g.clock.advance(1s);
  EXPECT_EQ(armed_at(g.reconnect_now(), TimerKind::reconnect), g.clock.now());
}

}  // namespace
}  // namespace herald::test
