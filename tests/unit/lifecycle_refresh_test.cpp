// Lifecycle, proactive token refresh: when it is scheduled (75 % of the lifetime, the
// spread, the 30 s deadline, fixed intervals, JWT iat), how the new token reaches the
// live connection (in-band reauth, else make-before-break), and what happens when
// fetching fails, times out, falls due while disconnected, or overlaps a reconnect.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr detail::ConnId kFirst = 1;
constexpr detail::ConnId kSecond = 2;

std::string welcome_without_reauth() {
  return R"({"type":"welcome","session_id":"s-2","user_id":"u1","protocol":1,"heartbeat_s":25,)"
         R"("features":["drain"],"resume":{"status":"ok"}})";
}

std::string reauth_ok_json() { return R"({"type":"reauth_ok","expires_at":1767229200})"; }

long long ms_from(detail::SteadyTime from, detail::SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t - from).count();
}

struct RefreshTest : ::testing::Test {
  LifecycleHarness h{std::uint64_t{10}};
  detail::SteadyTime t0 = h.clock.now();

  /// A connection with token "tok-1" (issued now, valid for `lifetime`), welcomed by a
  /// server with (or without) reauth, caught up. The spread is scripted to its middle,
  /// so the refresh falls exactly at 75 %.
  Actions live(std::chrono::milliseconds lifetime = 1h, bool reauth = true) {
    h.random().script({static_cast<std::uint64_t>(lifetime.count() / 20)});
    h.start();
    auto acts = h.token("tok-1", h.clock.now() + lifetime, h.clock.now());
    h.connected();
    h.frame(reauth ? welcome_json() : welcome_without_reauth());
    h.frame(kFirst, caught_up_json());
    h.random().clear_uppers();
    return acts;
  }
  /// Moves the clock to the refresh point and fires the refresh timer.
  Actions fire_refresh() {
    const auto at = h.lifecycle().refresh_at();
    EXPECT_TRUE(at);
    if (at) h.clock.set(*at);
    return h.timer(TimerKind::refresh);
  }
};

// ---- when ------------------------------------------------------------------------

struct LifetimeCase {
  std::chrono::milliseconds lifetime;
  std::chrono::milliseconds spread;    // ± 5 % of the lifetime
  std::chrono::milliseconds earliest;  // 75 % - spread
  std::chrono::milliseconds latest;    // min(75 % + spread, exp - min(30 s, lifetime / 4))
};

class RefreshScheduleTest : public ::testing::TestWithParam<LifetimeCase> {};

TEST_P(RefreshScheduleTest, FallsAt75PercentMovedByTheSpreadAndNeverAfterTheDeadline) {
  const auto c = GetParam();
  for (const auto draw : {std::uint64_t{0}, static_cast<std::uint64_t>(c.spread.count()),
                          static_cast<std::uint64_t>(2 * c.spread.count())}) {
    LifecycleHarness h;
    const auto t0 = h.clock.now();
    h.random().script({draw});
    h.start();
    const auto acts = h.token("tok", t0 + c.lifetime, t0);
    const auto at = armed_at(acts, TimerKind::refresh);
    ASSERT_TRUE(at);
    EXPECT_EQ(h.lifecycle().refresh_at(), at);
    EXPECT_THAT(h.random().uppers(), ElementsAre(static_cast<std::uint64_t>(2 * c.spread.count())));
    const auto expected = std::min(c.lifetime * 3 / 4 + std::chrono::milliseconds{draw} - c.spread, c.latest);
    EXPECT_EQ(ms_from(t0, *at), expected.count()) << "draw " << draw;
    EXPECT_GE(ms_from(t0, *at), c.earliest.count());
    EXPECT_LE(ms_from(t0, *at), c.latest.count());
  }
}

INSTANTIATE_TEST_SUITE_P(Lifetimes, RefreshScheduleTest,
                         ::testing::Values(
                             // one hour: 45 min ± 3 min (the 30 s deadline is far)
                             LifetimeCase{1h, 3min, 42min, 48min},
                             // ten minutes: 7.5 min ± 30 s
                             LifetimeCase{10min, 30s, 7min, 8min},
                             // two minutes: 90 s - 6 s .. capped at exp - 30 s = 90 s
                             LifetimeCase{2min, 6s, 84s, 90s},
                             // ten seconds (tests): 7.5 s - 0.5 s .. capped at exp - 2.5 s
                             LifetimeCase{10s, 500ms, 7s, 7500ms}),
                         [](const ::testing::TestParamInfo<LifetimeCase>& p) {
                           return std::to_string(p.param.lifetime.count() / 1000) + "s";
                         });

TEST(RefreshWhen, CountsTheLifetimeFromTheJwtIssueTime) {
  LifecycleHarness h;
  const auto t0 = h.clock.now();
  h.random().script({180'000});  // the middle of ±3 min
  h.start();
  // Issued 10 minutes ago, valid for an hour from then: refresh at iat + 45 min.
  const auto at = armed_at(h.token("tok", t0 + 50min, t0 - 10min), TimerKind::refresh);
  ASSERT_TRUE(at);
  EXPECT_EQ(ms_from(t0, *at), std::chrono::milliseconds{35min}.count());
}

TEST(RefreshWhen, ATokenWithoutIssueTimeCountsFromItsArrival) {
  LifecycleHarness h;
  const auto t0 = h.clock.now();
  h.random().script({180'000});
  h.start();
  const auto at = armed_at(h.token("tok", t0 + 1h), TimerKind::refresh);
  ASSERT_TRUE(at);
  EXPECT_EQ(ms_from(t0, *at), std::chrono::milliseconds{45min}.count());
}

TEST(RefreshWhen, AFixedIntervalReplacesTheFraction) {
  detail::LifecycleConfig config;
  config.refresh_interval = 10min;
  LifecycleHarness h(std::nullopt, config);
  const auto t0 = h.clock.now();
  h.random().script({180'000});
  h.start();
  const auto at = armed_at(h.token("tok", t0 + 1h, t0), TimerKind::refresh);
  ASSERT_TRUE(at);
  EXPECT_EQ(ms_from(t0, *at), std::chrono::milliseconds{10min}.count());
}

TEST(RefreshWhen, NeverLaterThanThirtySecondsBeforeExpiry) {
  detail::LifecycleConfig config;
  config.refresh_fraction = 0.999;
  LifecycleHarness h(std::nullopt, config);
  const auto t0 = h.clock.now();
  h.start();
  const auto at = armed_at(h.token("tok", t0 + 1h, t0), TimerKind::refresh);
  ASSERT_TRUE(at);
  EXPECT_EQ(ms_from(t0, *at), std::chrono::milliseconds{1h - 30s}.count());
}

TEST(RefreshWhen, ATokenArrivingPastItsRefreshPointIsRefreshedHalfWayThroughWhatIsLeft) {
  LifecycleHarness h;
  const auto t0 = h.clock.now();
  h.start();
  // Issued 50 minutes ago (a provider that caches): 10 min left, usable for 9:55.
  const auto at = armed_at(h.token("tok", t0 + 10min, t0 - 50min), TimerKind::refresh);
  ASSERT_TRUE(at);
  EXPECT_EQ(ms_from(t0, *at), (std::chrono::milliseconds{10min - 5s} / 2).count()) << "not at once: no fetch loop";
}

TEST(RefreshWhen, UnknownExpiryOrRefreshOffMeansNoRefresh) {
  LifecycleHarness h;
  h.start();
  EXPECT_FALSE(armed_at(h.token("opaque"), TimerKind::refresh)) << "no expiry known: nothing to schedule";
  EXPECT_FALSE(h.lifecycle().refresh_at());

  detail::LifecycleConfig config;
  config.refresh = false;
  LifecycleHarness off(std::nullopt, config);
  off.start();
  EXPECT_FALSE(armed_at(off.token("tok", off.clock.now() + 1h), TimerKind::refresh));
  EXPECT_THAT(off.random().uppers(), IsEmpty());
}

// ---- in-band -----------------------------------------------------------------------

TEST_F(RefreshTest, InBandWhenTheServerAdvertisesReauth) {
  live(1h);
  EXPECT_EQ(ms_from(t0, *h.lifecycle().refresh_at()), std::chrono::milliseconds{45min}.count());
  EXPECT_THAT(names(fire_refresh()), ElementsAre("FetchToken", "Arm(token_timeout)"));

  h.clock.advance(200ms);
  h.random().script({180'000});
  const auto ready = h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  EXPECT_THAT(names(ready), ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Reauth#1", "Arm(reauth)"));
  const auto reauth = find<detail::SendReauth>(ready);
  ASSERT_TRUE(reauth);
  EXPECT_EQ(reauth->token, "tok-2");
  EXPECT_EQ(armed_at(ready, TimerKind::reauth), h.clock.now() + 10s);
  EXPECT_EQ(armed_at(ready, TimerKind::refresh), h.clock.now() + 45min) << "the next refresh follows the new token";

  // Notifications keep flowing on the same connection meanwhile.
  EXPECT_THAT(names(h.frame(kFirst, notification_json(11))), ElementsAre("Deliver#11"));
  EXPECT_EQ(h.lifecycle().token_refreshes(), 0u);
  EXPECT_THAT(names(h.frame(kFirst, reauth_ok_json())), ElementsAre("Cancel(reauth)"));
  EXPECT_EQ(h.lifecycle().token_refreshes(), 1u);
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  EXPECT_FALSE(h.lifecycle().handover_conn());
}

TEST_F(RefreshTest, TheRefreshedTokenIsUsedByTheNextReconnect) {
  live(1h);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.frame(kFirst, reauth_ok_json());
  h.closed(std::nullopt, "reset");
  const auto acts = h.fire_reconnect();
  EXPECT_THAT(names(acts), ElementsAre("Open#2"));
  EXPECT_EQ(find<detail::OpenConnection>(acts)->token, "tok-2");
}

TEST_F(RefreshTest, NoReauthOkInTimeFallsBackToMakeBeforeBreak) {
  live(1h);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.clock.advance(10s);
  const auto acts = h.timer(TimerKind::reauth);
  EXPECT_THAT(names(acts), ElementsAre("Open#2", "Arm(handover_timeout)"));
  EXPECT_EQ(find<detail::OpenConnection>(acts)->token, "tok-2");
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("no reauth_ok")));
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(RefreshTest, ARefusedReauthEndsWithTheServers4003AsAPermanentAuthFailure) {
  live(1h);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.frame(kFirst, R"({"type":"error","code":"forbidden","message":"token refused"})");
  const auto acts = h.closed(kFirst, 4003, "forbidden");
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::stopped);
  EXPECT_EQ(state->reason, errc::auth_failed);
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u) << "no retry storm";
}

TEST_F(RefreshTest, AnUnexpectedReauthOkIsIgnored) {
  live(1h);
  EXPECT_THAT(names(h.frame(kFirst, reauth_ok_json())), IsEmpty());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

// ---- make-before-break -------------------------------------------------------------

TEST_F(RefreshTest, MakeBeforeBreakWhenTheServerHasNoReauth) {
  live(1h, /*reauth=*/false);
  h.frame(kFirst, notification_json(11));
  fire_refresh();
  const auto ready = h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  EXPECT_THAT(names(ready), ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Open#2", "Arm(handover_timeout)"));
  const auto open = find<detail::OpenConnection>(ready);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "tok-2");
  EXPECT_EQ(open->last_seen_id, 11u);

  h.connected(kSecond);
  h.frame(kSecond, welcome_without_reauth());
  EXPECT_THAT(names(h.frame(kFirst, notification_json(12))), ElementsAre("Deliver#12")) << "the old one still delivers";
  EXPECT_THAT(names(h.frame(kSecond, notification_json(12))), IsEmpty()) << "a duplicate on the new one is dropped";
  const auto sw = h.frame(kSecond, caught_up_json(12));
  EXPECT_THAT(names(sw), ElementsAre("Close#1/1000", "Cancel(handover)", "Cancel(handover_timeout)", "Arm(liveness)"));
  EXPECT_EQ(all<detail::ReportState>(sw).size(), 0u) << "no state change for the application";
  EXPECT_EQ(h.lifecycle().token_refreshes(), 1u);
  EXPECT_THAT(names(h.frame(kSecond, notification_json(13))), ElementsAre("Deliver#13"));
}

TEST_F(RefreshTest, AFailedSwitchIsRetriedLaterWhileTheTokenIsValid) {
  live(1h, /*reauth=*/false);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.random().clear_uppers();
  const auto acts = h.connect_failed_on(kSecond);
  EXPECT_THAT(names(acts), ElementsAre("Cancel(handover_timeout)", "Arm(refresh)"));
  EXPECT_THAT(h.random().uppers(), ElementsAre(250u)) << "half jitter over the first backoff step (500 ms)";
  h.clock.set(*armed_at(acts, TimerKind::refresh));
  const auto again = h.timer(TimerKind::refresh);
  EXPECT_THAT(names(again), ElementsAre("Open#3", "Arm(handover_timeout)"))
      << "the token we have is used, no new fetch";
  EXPECT_EQ(find<detail::OpenConnection>(again)->token, "tok-2");
}

// The switch that carries the refreshed token survives the old token's 4001: it is the
// way out of the expiry, so it takes over without a new fetch.
TEST_F(RefreshTest, TokenExpiredOnTheOldConnectionKeepsASwitchWithTheNewToken) {
  live(1h, /*reauth=*/false);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.connected(kSecond);
  const auto acts = h.closed(kFirst, 4001, "token expired");
  EXPECT_EQ(count<detail::FetchToken>(acts), 0u);
  EXPECT_EQ(count<detail::CloseConnection>(acts), 0u) << "the switch connection is kept";
  EXPECT_EQ(h.lifecycle().handover_conn(), std::nullopt) << "it took over";
  ASSERT_TRUE(last_state(acts));
  EXPECT_EQ(last_state(acts)->reason, errc::token_expired);
  EXPECT_THAT(names(h.frame(kSecond, welcome_without_reauth())), Contains("State(connected)"));
}

TEST_F(RefreshTest, ASwitchThatNeverCatchesUpIsAbandonedAfterTheHandoverTimeout) {
  live(1h, /*reauth=*/false);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  h.connected(kSecond);
  h.clock.advance(30s);
  const auto acts = h.timer(TimerKind::handover_timeout);
  EXPECT_THAT(names(acts), ElementsAre("Close#2/1000", "Cancel(handover_timeout)", "Arm(refresh)"));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

// ---- failures ----------------------------------------------------------------------

TEST_F(RefreshTest, ProviderFailuresAreRetriedWithGrowingDelaysWhileTheTokenIsValid) {
  live(1h);
  fire_refresh();
  std::vector<std::uint64_t> uppers;
  for (int i = 0; i < 4; ++i) {
    h.random().clear_uppers();
    const auto failed = h.token_failed("auth backend down");
    EXPECT_THAT(names(failed), ElementsAre("Cancel(token_timeout)", "Arm(refresh)"));
    EXPECT_THAT(log_messages(failed), Contains(HasSubstr("auth backend down")));
    ASSERT_EQ(h.random().uppers().size(), 1u);
    uppers.push_back(h.random().uppers().front());
    h.clock.set(*armed_at(failed, TimerKind::refresh));
    EXPECT_THAT(names(h.timer(TimerKind::refresh)), ElementsAre("FetchToken", "Arm(token_timeout)"));
  }
  EXPECT_THAT(uppers, ElementsAre(250u, 500u, 1000u, 2000u));
  EXPECT_EQ(h.lifecycle().state(), State::connected) << "invisible to the application";
  EXPECT_THAT(names(h.token("tok-2", h.clock.now() + 1h, h.clock.now())),
              ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Reauth#1", "Arm(reauth)"));
}

// TokenResult::code: a provider that knows no token will come (the user signed out)
// says so with a permanent code, and the client stops with it instead of retrying —
// here a refresh on a live connection, which is closed.
TEST_F(RefreshTest, APermanentProviderFailureStopsTheClientWithItsCode) {
  live(1h);
  fire_refresh();
  const auto failed = h.token_failed("signed out", make_error_code(errc::auth_failed));
  EXPECT_THAT(names(failed),
              ElementsAre("Cancel(token_timeout)", "Close#1/1000", "Cancel(liveness)", "Cancel(handover)",
                          "Cancel(reconnect)", "Cancel(token_timeout)", "Cancel(refresh)", "Cancel(reauth)",
                          "Cancel(handover_timeout)", "State(stopped)"));
  const auto stopped = last_state(failed);
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->reason, make_error_code(errc::auth_failed));
  EXPECT_THAT(stopped->detail, HasSubstr("signed out"));
  EXPECT_EQ(h.lifecycle().state(), State::stopped);
}

TEST_F(RefreshTest, ATransientProviderCodeIsRetriedAsBefore) {
  live(1h);
  fire_refresh();
  const auto failed = h.token_failed("", std::make_error_code(std::errc::timed_out));
  EXPECT_THAT(names(failed), ElementsAre("Cancel(token_timeout)", "Arm(refresh)"));
  EXPECT_THAT(log_messages(failed), Contains(HasSubstr(std::make_error_code(std::errc::timed_out).message())))
      << "without a message, the code's message is the reason";
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(RefreshTest, ATimedOutFetchIsRetriedAndItsLateAnswerIgnored) {
  live(1h);
  fire_refresh();
  h.clock.advance(30s);
  const auto timeout = h.timer(TimerKind::token_timeout);
  EXPECT_THAT(names(timeout), ElementsAre("Arm(refresh)"));
  EXPECT_FALSE(h.lifecycle().fetching_token());
  EXPECT_THAT(h.token("late", h.clock.now() + 1h), IsEmpty()) << "abandoned: its answer is not used";
}

TEST_F(RefreshTest, NoRetryOnceTheTokenHasExpired) {
  live(10s);
  fire_refresh();
  h.clock.set(t0 + 9s);  // past exp - margin (2 s for a 10 s token)
  const auto failed = h.token_failed("down");
  EXPECT_THAT(names(failed), ElementsAre("Cancel(token_timeout)"));
  EXPECT_THAT(log_messages(failed), Contains(HasSubstr("expires before a retry")));
  // The server then closes with 4001: a fresh token, at once.
  EXPECT_THAT(
      names(h.closed(kFirst, 4001, "token expired")),
      ElementsAre("State(reconnecting)", "Cancel(liveness)", "Cancel(handover)", "FetchToken", "Arm(token_timeout)"));
}

TEST_F(RefreshTest, A4001BeforeTheReauthWasAnsweredReconnectsAtOnceWithTheNewToken) {
  live(1h);
  fire_refresh();
  h.token("tok-2", h.clock.now() + 1h, h.clock.now());  // reauth sent, no answer yet
  const auto acts = h.closed(kFirst, 4001, "token expired");
  EXPECT_EQ(count<detail::FetchToken>(acts), 0u) << "the new token is good: no second fetch";
  const auto open = find<detail::OpenConnection>(acts);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "tok-2");
  EXPECT_EQ(last_state(acts)->reason, errc::token_expired);
}

TEST_F(RefreshTest, TheSameTokenAgainCountsAsAFailedRefresh) {
  live(1h);
  fire_refresh();
  const auto acts = h.token("tok-1", h.clock.now() + 15min, h.clock.now() - 45min);
  EXPECT_THAT(names(acts), ElementsAre("Cancel(token_timeout)", "Arm(refresh)"));
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("token in use again")));
  EXPECT_EQ(count<detail::SendReauth>(acts), 0u);
}

TEST_F(RefreshTest, AnExpiredTokenFromTheProviderKeepsTheCurrentOne) {
  live(1h);
  fire_refresh();
  const auto acts = h.token("stale", h.clock.now() + 1s, h.clock.now() - 59min);
  EXPECT_EQ(count<detail::SendReauth>(acts), 0u);
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("expired token")));
  h.closed(std::nullopt, "reset");
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("FetchToken", "Arm(token_timeout)")) << "the refresh is still due";
  h.token_failed("down");
  ASSERT_TRUE(h.last_open());
  EXPECT_EQ(h.last_open()->conn, kSecond);
  EXPECT_EQ(h.last_open()->token, "tok-1") << "the still-valid token, never the expired one";
}

// ---- disconnected, single flight ---------------------------------------------------

TEST_F(RefreshTest, DueWhileDisconnectedTheNextAttemptFetchesFirst) {
  live(1h);
  h.closed(std::nullopt, "reset");
  h.clock.set(*h.lifecycle().refresh_at());
  EXPECT_THAT(h.timer(TimerKind::refresh), IsEmpty()) << "nothing to refresh while waiting";
  h.clock.advance(1s);
  const auto acts = h.timer(TimerKind::reconnect);
  EXPECT_THAT(names(acts), ElementsAre("FetchToken", "Arm(token_timeout)")) << "not the old token, though still valid";
  EXPECT_THAT(names(h.token("tok-2", h.clock.now() + 1h, h.clock.now())),
              ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Open#2"));
  EXPECT_EQ(h.last_open()->token, "tok-2");
}

TEST_F(RefreshTest, DueWhileDisconnectedAndTheProviderDownTheStillValidTokenIsUsed) {
  live(1h);
  h.closed(std::nullopt, "reset");
  h.clock.set(*h.lifecycle().refresh_at() + 1s);
  h.timer(TimerKind::reconnect);
  const auto acts = h.token_failed("provider down");
  EXPECT_EQ(count<detail::OpenConnection>(acts), 1u);
  EXPECT_EQ(h.last_open()->token, "tok-1");
  EXPECT_TRUE(armed_at(acts, TimerKind::refresh)) << "and the refresh is retried later";
}

TEST_F(RefreshTest, SingleFlightAFetchUnderWayServesTheReconnectToo) {
  live(1h);
  EXPECT_THAT(names(fire_refresh()), ElementsAre("FetchToken", "Arm(token_timeout)"));
  h.closed(std::nullopt, "reset");  // the connection drops while the refresh fetch runs
  h.clock.set(*h.reconnect_at());
  const auto attempt = h.timer(TimerKind::reconnect);
  EXPECT_EQ(count<detail::FetchToken>(attempt), 0u) << "never two fetches at once";
  EXPECT_TRUE(h.lifecycle().fetching_token());
  const auto ready = h.token("tok-2", h.clock.now() + 1h, h.clock.now());
  EXPECT_EQ(count<detail::OpenConnection>(ready), 1u);
  EXPECT_EQ(h.last_open()->token, "tok-2");
  EXPECT_EQ(count<detail::SendReauth>(ready), 0u);
}

TEST_F(RefreshTest, SingleFlightADrainSwitchWaitsForTheRefreshFetch) {
  live(10min);
  fire_refresh();
  // Drain while the refresh fetch runs, with the cached token near its end.
  h.random().script({0});
  h.frame(kFirst, drain_json(30s));
  h.clock.set(t0 + 9min + 56s);
  EXPECT_THAT(names(h.timer(TimerKind::handover)), IsEmpty()) << "the fetch under way will serve it";
  const auto ready = h.token("tok-2", h.clock.now() + 10min, h.clock.now());
  EXPECT_THAT(names(ready), ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Open#2", "Arm(handover_timeout)"));
  EXPECT_EQ(count<detail::SendReauth>(ready), 0u) << "a drain needs a new connection, not a reauth";
}

}  // namespace
}  // namespace herald::test
