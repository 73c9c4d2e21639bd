// Lifecycle, the happy path and what can go wrong while connected: token fetch, open,
// welcome, delivery and duplicates, gaps, protocol errors, liveness, token expiry,
// stale events and stop(). Time comes from a fake clock; nothing sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

struct LifecycleTest : ::testing::Test {
  LifecycleHarness h;
};

// ---- connecting --------------------------------------------------------------------

TEST_F(LifecycleTest, StartFetchesATokenUnderATimeout) {
  const auto acts = h.start();
  EXPECT_THAT(names(acts), ElementsAre("State(connecting)", "FetchToken", "Arm(token_timeout)"));
  EXPECT_EQ(armed_at(acts, TimerKind::token_timeout), h.clock.now() + 30s);
  EXPECT_EQ(h.lifecycle().state(), State::connecting);
}

TEST_F(LifecycleTest, StartTwiceDoesNothingTheSecondTime) {
  h.start();
  EXPECT_THAT(h.start(), IsEmpty());
}

TEST_F(LifecycleTest, TokenOpensAConnectionWithTheCursor) {
  LifecycleHarness c(std::uint64_t{41});
  c.start();
  const auto acts = c.token("jwt-1");
  EXPECT_THAT(names(acts), ElementsAre("Cancel(token_timeout)", "Open#1"));
  const auto open = find<detail::OpenConnection>(acts);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "jwt-1");
  EXPECT_EQ(open->last_seen_id, 41u);
}

TEST_F(LifecycleTest, NewDeviceOpensWithoutACursor) {
  h.start();
  const auto open = find<detail::OpenConnection>(h.token());
  ASSERT_TRUE(open);
  EXPECT_FALSE(open->last_seen_id);
}

TEST_F(LifecycleTest, ConnectedArmsLivenessAndWelcomeReportsConnected) {
  h.start();
  h.token();
  const auto on_open = h.connected();
  EXPECT_THAT(names(on_open), ElementsAre("Arm(liveness)"));
  EXPECT_EQ(armed_at(on_open, TimerKind::liveness), h.clock.now() + 25s) << "first check after one heartbeat";
  EXPECT_EQ(h.lifecycle().state(), State::connecting) << "not connected before welcome";

  h.clock.advance(1s);
  const auto on_welcome = h.frame(welcome_json("ok", 10));
  EXPECT_THAT(names(on_welcome), ElementsAre("Arm(liveness)", "State(connected)"));
  EXPECT_EQ(armed_at(on_welcome, TimerKind::liveness), h.clock.now() + 10s) << "the welcome's heartbeat_s";
  const auto state = last_state(on_welcome);
  ASSERT_TRUE(state);
  EXPECT_FALSE(state->reason);
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(LifecycleTest, TokenProviderFailureRetriesWithBackoff) {
  h.start();
  const auto acts = h.token_failed("provider down");
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, errc::token_fetch_failed);
  EXPECT_THAT(state->detail, HasSubstr("provider down"));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 500ms);
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("FetchToken", "Arm(token_timeout)"));
}

TEST_F(LifecycleTest, TokenTimeoutReconnectsWithTokenFetchFailed) {
  h.start();
  h.clock.advance(30s);
  const auto acts = h.timer(TimerKind::token_timeout);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, errc::token_fetch_failed);
  EXPECT_EQ(state->next_attempt_at, h.clock.now() + 500ms);
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 500ms);
  EXPECT_THAT(h.token("too-late"), IsEmpty()) << "a token arriving after the timeout is stale";
}

// ---- tokens known to be expired ----------------------------------------------------

TEST_F(LifecycleTest, ExpiredTokenFromTheProviderIsNeverUsed) {
  h.start();
  // A 60 s token with 5 s left: inside the margin (5 s, or a fifth of a shorter life).
  const auto acts = h.token("old", h.clock.now() + 5s, h.clock.now() - 55s);
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->reason, errc::token_fetch_failed);
  EXPECT_THAT(names(h.fire_reconnect()), ElementsAre("FetchToken", "Arm(token_timeout)"));
}

TEST_F(LifecycleTest, TokenJustOutsideTheMarginIsUsed) {
  h.start();
  EXPECT_EQ(count<detail::OpenConnection>(h.token("ok", h.clock.now() + 5s + 1ms, h.clock.now() - 55s)), 1u);
}

TEST_F(LifecycleTest, CachedTokenIsReusedWhileValid) {
  h.start();
  h.token("cached", h.clock.now() + 1h);
  h.connected();
  h.frame(welcome_json());
  h.closed(1000);
  const auto acts = h.fire_reconnect();
  EXPECT_THAT(names(acts), ElementsAre("Open#2"));
  EXPECT_EQ(find<detail::OpenConnection>(acts)->token, "cached");
}

TEST_F(LifecycleTest, CachedTokenThatExpiredMeanwhileIsReplacedBeforeOpening) {
  const auto t0 = h.clock.now();
  h.start();
  h.token("short-lived", t0 + 60s);
  h.connected();
  h.frame(welcome_json());
  h.clock.advance(58s);
  h.closed(1000);  // reconnect at t0 + 58.5 s; the token is unusable from t0 + 55 s
  const auto acts = h.fire_reconnect();
  EXPECT_THAT(names(acts), ElementsAre("FetchToken", "Arm(token_timeout)"));
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
}

// ---- delivery ----------------------------------------------------------------------

TEST_F(LifecycleTest, NotificationsAreDeliveredInOrderAndDuplicatesDropped) {
  LifecycleHarness c(std::uint64_t{10});
  c.bring_up();
  std::vector<std::uint64_t> delivered;
  for (std::uint64_t id : {11u, 12u, 12u, 5u, 10u, 13u}) {
    for (const auto& d : all<detail::Deliver>(c.frame(notification_json(id)))) delivered.push_back(d.notification.id);
  }
  EXPECT_THAT(delivered, ElementsAre(11u, 12u, 13u));
  EXPECT_EQ(c.lifecycle().duplicates_dropped(), 3u);
  EXPECT_EQ(c.lifecycle().cursor(), 13u);
}

TEST_F(LifecycleTest, DeliveredNotificationCarriesItsContent) {
  h.bring_up();
  const auto acts = h.frame(notification_json(7));
  EXPECT_THAT(names(acts), ElementsAre("Deliver#7"));
  const auto n = find<detail::Deliver>(acts)->notification;
  EXPECT_EQ(n.topic, "comment");
  EXPECT_EQ(n.created_at, "2026-11-27T10:00:00.123Z");
  EXPECT_EQ(n.data()["n"], 7);
}

TEST_F(LifecycleTest, DuplicateProducesNoActionAtAll) {
  h.bring_up();
  h.frame(notification_json(3));
  EXPECT_THAT(h.frame(notification_json(3)), IsEmpty());
}

TEST_F(LifecycleTest, ReconnectResumesFromTheAdvancedCursor) {
  h.bring_up();
  h.frame(notification_json(21));
  h.frame(notification_json(22));
  h.closed(std::nullopt);
  const auto open = find<detail::OpenConnection>(h.fire_reconnect());
  ASSERT_TRUE(open);
  EXPECT_EQ(open->last_seen_id, 22u);
}

TEST_F(LifecycleTest, ResumeGapIsReportedWithLastSeenAndFirstAvailable) {
  LifecycleHarness c(std::uint64_t{10});
  c.start();
  c.token();
  c.connected();
  const auto acts = c.frame(welcome_json("gap", 25, 40, 57));
  EXPECT_THAT(names(acts), ElementsAre("Arm(liveness)", "State(connected)", "Gap"));
  const auto gap = find<detail::ReportGap>(acts);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->gap.last_seen_id, 10u);
  EXPECT_EQ(gap->gap.first_available_id, 40u);
}

TEST_F(LifecycleTest, ResumeOkAndFreshReportNoGap) {
  for (const char* status : {"ok", "fresh"}) {
    LifecycleHarness c(std::uint64_t{10});
    c.start();
    c.token();
    c.connected();
    EXPECT_EQ(count<detail::ReportGap>(c.frame(welcome_json(status, 25, 11, 57))), 0u) << status;
  }
}

TEST_F(LifecycleTest, OtherMessagesOnlyLog) {
  h.bring_up();
  for (const char* frame : {R"({"type":"caught_up","head_id":5})", R"({"type":"error","code":"x","message":"y"})",
                            R"({"type":"future_type"})", R"({"type":"reauth_ok","expires_at":1})"}) {
    const auto acts = h.frame(frame);
    EXPECT_THAT(names(acts), IsEmpty()) << frame;  // Log lines only
  }
  EXPECT_THAT(names(h.frame(welcome_json()), /*with_logs=*/true), ElementsAre("Log")) << "second welcome";
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

// ---- protocol errors ---------------------------------------------------------------

TEST_F(LifecycleTest, FrameBeforeWelcomeClosesWith4004AndReconnects) {
  h.start();
  h.token();
  h.connected();
  const auto acts = h.frame(notification_json(1));
  EXPECT_THAT(names(acts), ElementsAre("Close#1/4004", "Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)",
                                       "State(reconnecting)"));
  EXPECT_EQ(count<detail::Deliver>(acts), 0u);
  EXPECT_EQ(last_state(acts)->reason, errc::protocol_violation);
  EXPECT_EQ(h.lifecycle().cursor(), std::nullopt) << "nothing was handed to the application";
}

TEST_F(LifecycleTest, MalformedFrameClosesWith4004AndReconnectsWithBackoff) {
  h.bring_up();
  const auto acts = h.frame(R"({"type":"notification","id":"42"})");
  EXPECT_THAT(names(acts), ElementsAre("Close#1/4004", "Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)",
                                       "State(reconnecting)"));
  const auto state = last_state(acts);
  EXPECT_EQ(state->reason, errc::protocol_violation);
  EXPECT_THAT(state->detail, HasSubstr("notification.id"));
  EXPECT_EQ(state->next_attempt_at, h.clock.now() + 500ms);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
  EXPECT_THAT(h.frame(notification_json(1)), IsEmpty()) << "the closed connection's frames are stale";
}

TEST_F(LifecycleTest, NotJsonFrameIsAProtocolViolation) {
  h.bring_up();
  const auto acts = h.frame("not json");
  EXPECT_EQ(find<detail::CloseConnection>(acts)->code, 4004);
  EXPECT_EQ(last_state(acts)->reason, errc::protocol_violation);
}

// ---- liveness ----------------------------------------------------------------------

TEST_F(LifecycleTest, SilenceForTwoHeartbeatsPlusSlackAbortsAndReconnects) {
  h.bring_up();  // heartbeat 25 s: limit 55 s
  h.clock.advance(55s);
  const auto acts = h.timer(TimerKind::liveness);
  EXPECT_THAT(names(acts),
              ElementsAre("Abort#1", "Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_TRUE(find<detail::CloseConnection>(acts)->abort);
  EXPECT_EQ(last_state(acts)->reason, errc::liveness_timeout);
}

TEST_F(LifecycleTest, ActivityPostponesTheLivenessDeadline) {
  h.bring_up();
  const auto t0 = h.clock.now();
  h.clock.advance(30s);
  h.activity();
  h.clock.advance(25s);  // t0 + 55 s: one heartbeat of silence: ping, and wait up to the limit
  const auto rearm = h.timer(TimerKind::liveness);
  EXPECT_THAT(names(rearm), ElementsAre("Ping#1", "Arm(liveness)"));
  EXPECT_EQ(armed_at(rearm, TimerKind::liveness), t0 + 30s + 55s) << "last activity + 2 x heartbeat + 5 s";
  h.clock.set(t0 + 85s - 1ms);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Arm(liveness)")) << "early timer: re-armed";
  h.clock.set(t0 + 85s);
  EXPECT_EQ(last_state(h.timer(TimerKind::liveness))->reason, errc::liveness_timeout);
}

TEST_F(LifecycleTest, OneHeartbeatOfSilenceSendsOnePing) {
  h.bring_up();
  const auto t0 = h.clock.now();
  h.clock.advance(25s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#1", "Arm(liveness)"));
  h.clock.advance(10s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Arm(liveness)")) << "one ping per silence";
  h.activity();  // the pong
  h.clock.set(t0 + 35s + 25s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#1", "Arm(liveness)"));
}

TEST_F(LifecycleTest, FramesCountAsActivity) {
  h.bring_up();
  const auto t0 = h.clock.now();
  h.clock.advance(50s);
  h.frame(notification_json(1));
  h.clock.set(t0 + 55s);
  const auto acts = h.timer(TimerKind::liveness);
  EXPECT_THAT(names(acts), ElementsAre("Arm(liveness)")) << "not idle for a heartbeat: no ping, no abort";
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), t0 + 50s + 25s);
}

TEST_F(LifecycleTest, LivenessUsesTheWelcomeHeartbeat) {
  h.bring_up(welcome_json("ok", 10));  // limit 25 s
  h.clock.advance(25s);
  EXPECT_EQ(last_state(h.timer(TimerKind::liveness))->reason, errc::liveness_timeout);
}

// ---- stale events and stop ---------------------------------------------------------

TEST_F(LifecycleTest, EventsOfAnOldConnectionAreIgnored) {
  h.bring_up();
  h.closed(1000);
  h.fire_reconnect();
  ASSERT_EQ(h.conn(), 2u);
  auto& lc = h.lifecycle();
  const auto now = h.clock.now();
  EXPECT_THAT(lc.connected(now, 1), IsEmpty());
  EXPECT_THAT(lc.connect_failed(now, 1, "x"), IsEmpty());
  EXPECT_THAT(lc.handshake_refused(now, 1, {403, "forbidden", std::nullopt}), IsEmpty());
  EXPECT_THAT(lc.closed(now, 1, 4003, "old"), IsEmpty());
  EXPECT_THAT(h.frame(1, notification_json(9)), IsEmpty());
  EXPECT_EQ(lc.state(), State::reconnecting);
  EXPECT_THAT(names(h.connected()), ElementsAre("Arm(liveness)")) << "the current connection still works";
}

TEST_F(LifecycleTest, ActivityOfAnOldConnectionDoesNotKeepTheNewOneAlive) {
  h.bring_up();
  h.closed(1000);
  h.fire_reconnect();
  h.connected();
  const auto t0 = h.clock.now();
  h.clock.advance(54s);
  h.lifecycle().activity(h.clock.now(), 1);
  h.clock.set(t0 + 55s);
  EXPECT_EQ(last_state(h.timer(TimerKind::liveness))->reason, errc::liveness_timeout);
}

TEST_F(LifecycleTest, TimersOutsideTheirPhaseAreIgnored) {
  h.bring_up();
  EXPECT_THAT(h.timer(TimerKind::reconnect), IsEmpty());
  EXPECT_THAT(h.timer(TimerKind::token_timeout), IsEmpty());
  h.closed(1000);
  EXPECT_THAT(h.timer(TimerKind::liveness), IsEmpty());
  EXPECT_THAT(h.timer(TimerKind::token_timeout), IsEmpty());
}

TEST_F(LifecycleTest, StopClosesTheConnectionAndReportsStopped) {
  h.bring_up();
  const auto acts = h.stop();
  EXPECT_THAT(names(acts), ElementsAre("Close#1/1000", "Cancel(reconnect)", "Cancel(token_timeout)", "Cancel(liveness)",
                                       "Cancel(handover)", "Cancel(refresh)", "Cancel(reauth)",
                                       "Cancel(handover_timeout)", "State(stopped)"));
  EXPECT_FALSE(last_state(acts)->reason) << "stop() is not an error";
  EXPECT_EQ(h.lifecycle().state(), State::stopped);
}

TEST_F(LifecycleTest, StopWhileFetchingATokenHasNoConnectionToClose) {
  h.start();
  EXPECT_THAT(names(h.stop()),
              ElementsAre("Cancel(reconnect)", "Cancel(token_timeout)", "Cancel(liveness)", "Cancel(handover)",
                          "Cancel(refresh)", "Cancel(reauth)", "Cancel(handover_timeout)", "State(stopped)"));
}

TEST_F(LifecycleTest, StopBeforeStartStopsForGood) {
  EXPECT_THAT(names(h.stop()),
              ElementsAre("Cancel(reconnect)", "Cancel(token_timeout)", "Cancel(liveness)", "Cancel(handover)",
                          "Cancel(refresh)", "Cancel(reauth)", "Cancel(handover_timeout)", "State(stopped)"));
  EXPECT_THAT(h.start(), IsEmpty());
}

TEST_F(LifecycleTest, NothingHappensAfterStop) {
  h.bring_up();
  h.stop();
  const auto now = h.clock.now();
  auto& lc = h.lifecycle();
  EXPECT_THAT(h.stop(), IsEmpty());
  EXPECT_THAT(h.start(), IsEmpty());
  EXPECT_THAT(h.frame(notification_json(1)), IsEmpty());
  EXPECT_THAT(h.closed(1000), IsEmpty());
  EXPECT_THAT(h.closed(std::nullopt), IsEmpty());
  EXPECT_THAT(h.connected(), IsEmpty());
  EXPECT_THAT(lc.connect_failed(now, h.conn(), "x"), IsEmpty());
  EXPECT_THAT(h.refused(503, "draining"), IsEmpty());
  EXPECT_THAT(h.token("late"), IsEmpty());
  for (auto k : {TimerKind::reconnect, TimerKind::token_timeout, TimerKind::liveness, TimerKind::handover}) {
    h.clock.advance(1h);
    EXPECT_THAT(h.timer(k), IsEmpty()) << timer_name(k);
  }
  EXPECT_EQ(lc.state(), State::stopped);
  EXPECT_EQ(lc.cursor(), std::nullopt);
}

TEST_F(LifecycleTest, StopWhileWaitingToReconnectCancelsTheTimer) {
  h.bring_up();
  h.closed(std::nullopt);
  const auto acts = h.stop();
  EXPECT_THAT(names(acts),
              ElementsAre("Cancel(reconnect)", "Cancel(token_timeout)", "Cancel(liveness)", "Cancel(handover)",
                          "Cancel(refresh)", "Cancel(reauth)", "Cancel(handover_timeout)", "State(stopped)"));
  EXPECT_THAT(h.fire_reconnect(), IsEmpty());
}

}  // namespace
}  // namespace herald::test

namespace herald::test {
namespace {

// The server did not select herald.v1: reported as a protocol violation (the protocol
// says "fails the attempt as a protocol error"), retried with backoff.
TEST(LifecycleSubprotocol, MissingSubprotocolIsAProtocolViolationRetriedWithBackoff) {
  LifecycleHarness h;
  h.start();
  h.token("jwt");
  const auto acts = h.lifecycle().connect_failed(h.clock.now(), h.conn(), "no herald.v1", errc::protocol_violation);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, errc::protocol_violation);
  EXPECT_TRUE(armed_at(acts, TimerKind::reconnect).has_value());
}

}  // namespace
}  // namespace herald::test
