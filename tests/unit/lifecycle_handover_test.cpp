// Lifecycle, make-before-break: a drain (or reconnect_now) opens a second connection
// with the current token and cursor while the first keeps delivering; the switch happens
// at the new connection's caught_up, invisibly to the application. Also: every way the
// new connection can fail, the old one ending first, and the drain window afterwards.
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

constexpr detail::ConnId kOld = 1;
constexpr detail::ConnId kNew = 2;

struct HandoverTest : ::testing::Test {
  LifecycleHarness h{std::uint64_t{10}};

  /// Connection 1: token "tok-1" (no known expiry), welcome (heartbeat 25 s unless
  /// given), caught_up.
  void live(unsigned heartbeat_s = 25) {
    h.start();
    h.token("tok-1");
    h.connected();
    h.frame(welcome_json("ok", heartbeat_s));
    h.frame(kOld, caught_up_json());
  }
  /// A drain of `window` on connection 1 with the switch `delay` into it; moves the
  /// clock there and fires the handover timer. Returns the timer's actions.
  Actions drain_and_fire(std::chrono::milliseconds window = 30s, std::chrono::milliseconds delay = 5s) {
    h.random().script({static_cast<std::uint64_t>(delay.count())});
    const auto at = armed_at(h.frame(kOld, drain_json(window)), TimerKind::handover);
    EXPECT_TRUE(at);
    if (at) h.clock.set(*at);
    return h.timer(TimerKind::handover);
  }
  /// The new connection opens and is welcomed (not yet caught up).
  void new_welcomed(unsigned heartbeat_s = 25) {
    h.connected(kNew);
    h.frame(kNew, welcome_json("ok", heartbeat_s));
  }
  std::vector<std::uint64_t> delivered(const Actions& acts) {
    std::vector<std::uint64_t> ids;
    for (const auto& d : all<detail::Deliver>(acts)) ids.push_back(d.notification.id);
    return ids;
  }
  /// The old connection still works: a new id on it is delivered.
  void expect_old_still_delivers(std::uint64_t id) {
    EXPECT_THAT(names(h.frame(kOld, notification_json(id))), ElementsAre("Deliver#" + std::to_string(id)));
    EXPECT_EQ(h.lifecycle().state(), State::connected);
  }
};

// ---- drain → switch ----------------------------------------------------------------

TEST_F(HandoverTest, DrainArmsTheHandoverTimerAtARandomMomentOfTheWindow) {
  live();
  h.random().script({12'345});
  const auto acts = h.frame(kOld, drain_json(30s));
  EXPECT_THAT(names(acts), ElementsAre("Arm(handover)"));
  EXPECT_EQ(armed_at(acts, TimerKind::handover), h.clock.now() + 12'345ms);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u))
      << "upper = the window less its last fifth (at most 5 s), left for the switch";
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  EXPECT_FALSE(h.lifecycle().handover_conn());
}

TEST_F(HandoverTest, HandoverTimerOpensANewConnectionWithTheCurrentTokenAndCursor) {
  live();
  h.frame(kOld, notification_json(11));
  h.frame(kOld, notification_json(12));
  const auto acts = drain_and_fire();
  EXPECT_THAT(names(acts), ElementsAre("Open#2", "Arm(handover_timeout)"))
      << "the token is still usable: no FetchToken";
  const auto open = find<detail::OpenConnection>(acts);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->conn, kNew);
  EXPECT_EQ(open->token, "tok-1");
  EXPECT_EQ(open->last_seen_id, 12u);
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("server draining")));
  EXPECT_EQ(h.lifecycle().handover_conn(), kNew);
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u)) << "no backoff drawn";
  EXPECT_EQ(h.lifecycle().attempts(), 0u);
}

TEST_F(HandoverTest, HandoverFetchesATokenFirstWhenTheCachedOneIsNoLongerUsable) {
  const auto t0 = h.clock.now();
  h.start();
  h.token("short", t0 + 60s);
  h.connected();
  h.frame(welcome_json());
  h.frame(kOld, caught_up_json());
  h.random().script({56'000});  // switch at t0 + 56 s: inside the 5 s expiry margin
  h.frame(kOld, drain_json(60s));
  h.clock.set(t0 + 56s);
  const auto fire = h.timer(TimerKind::handover);
  EXPECT_THAT(names(fire), ElementsAre("FetchToken", "Arm(token_timeout)"));
  EXPECT_EQ(armed_at(fire, TimerKind::token_timeout), h.clock.now() + 30s);
  EXPECT_FALSE(h.lifecycle().handover_conn());

  h.frame(kOld, notification_json(11));  // the old connection keeps delivering meanwhile
  h.clock.advance(1s);
  const auto ready = h.token("fresh", h.clock.now() + 1h);
  EXPECT_THAT(names(ready), ElementsAre("Cancel(token_timeout)", "Arm(refresh)", "Open#2", "Arm(handover_timeout)"));
  const auto open = find<detail::OpenConnection>(ready);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->token, "fresh");
  EXPECT_EQ(open->last_seen_id, 11u);
  EXPECT_EQ(h.lifecycle().handover_conn(), kNew);
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(HandoverTest, HandoverTokenFetchFailureKeepsTheCurrentConnection) {
  const auto t0 = h.clock.now();
  h.start();
  h.token("short", t0 + 60s);
  h.connected();
  h.frame(welcome_json());
  h.clock.set(t0 + 56s);
  h.activity();
  h.random().clear_uppers();  // the refresh spread drawn when the token came
  ASSERT_THAT(names(h.reconnect_now()), ElementsAre("FetchToken", "Arm(token_timeout)"));
  const auto acts = h.token_failed("provider down");
  EXPECT_THAT(names(acts), ElementsAre("Cancel(token_timeout)"));
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("provider down")));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.random().uppers(), IsEmpty()) << "no backoff: nothing failed that the app can see";
  expect_old_still_delivers(11);
  EXPECT_THAT(names(h.reconnect_now()), ElementsAre("FetchToken", "Arm(token_timeout)"))
      << "a later switch may try again";
}

TEST_F(HandoverTest, HandoverTokenTimeoutKeepsTheCurrentConnectionAndALateTokenIsIgnored) {
  const auto t0 = h.clock.now();
  h.start();
  h.token("short", t0 + 60s);
  h.connected();
  h.frame(welcome_json());
  h.clock.set(t0 + 56s);
  h.activity();
  h.reconnect_now();
  h.clock.advance(30s);
  h.activity();
  EXPECT_THAT(names(h.timer(TimerKind::token_timeout)), IsEmpty());  // a Log line only
  EXPECT_THAT(h.token("late", h.clock.now() + 1h), IsEmpty());
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST_F(HandoverTest, SwitchAtTheNewConnectionsCaughtUpClosesTheOldOneWithoutAStateChange) {
  live();
  drain_and_fire();
  EXPECT_THAT(h.connected(kNew), IsEmpty()) << "the old connection's liveness timer stays in charge";
  EXPECT_THAT(h.frame(kNew, welcome_json("ok", 10)), IsEmpty()) << "no State(connected) again";
  h.clock.advance(2s);
  const auto acts = h.frame(kNew, caught_up_json(57));
  EXPECT_THAT(names(acts),
              ElementsAre("Close#1/1000", "Cancel(handover)", "Cancel(handover_timeout)", "Arm(liveness)"));
  EXPECT_EQ(count<detail::ReportState>(acts), 0u) << "the application sees no state change";
  const auto close = find<detail::CloseConnection>(acts);
  ASSERT_TRUE(close);
  EXPECT_FALSE(close->abort);
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), h.clock.now() + 10s) << "the new connection's heartbeat";
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  EXPECT_EQ(h.lifecycle().attempts(), 0u);

  // The old connection is stale from now on.
  EXPECT_THAT(h.frame(kOld, notification_json(11)), IsEmpty());
  EXPECT_THAT(h.frame(kOld, "not json"), IsEmpty());
  EXPECT_THAT(h.closed(kOld, 1000, "switched"), IsEmpty());
  EXPECT_THAT(h.closed(kOld, std::nullopt), IsEmpty());
  EXPECT_THAT(h.connect_failed_on(kOld), IsEmpty());
  EXPECT_THAT(h.refused_on(kOld, 403, "forbidden"), IsEmpty());
  EXPECT_THAT(h.connected(kOld), IsEmpty());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  // ... and the new one is the current connection.
  EXPECT_THAT(names(h.frame(kNew, notification_json(11))), ElementsAre("Deliver#11"));
}

TEST_F(HandoverTest, NotificationsFromBothConnectionsAreDeliveredOnceAndInOrder) {
  live();
  EXPECT_THAT(delivered(h.frame(kOld, notification_json(11))), ElementsAre(11u));
  drain_and_fire();  // Open#2 with cursor 11
  new_welcomed();
  std::vector<std::uint64_t> ids;
  const std::vector<std::pair<detail::ConnId, std::uint64_t>> interleaving{
      {kOld, 12}, {kNew, 12}, {kNew, 13}, {kOld, 13}, {kOld, 14}, {kOld, 15}, {kNew, 14},
      {kNew, 15}, {kNew, 16}, {kOld, 16}, {kOld, 9},  {kNew, 11}, {kOld, 17}, {kNew, 17}};
  for (const auto& [conn, id] : interleaving) {
    for (auto d : delivered(h.frame(conn, notification_json(id)))) ids.push_back(d);
  }
  EXPECT_THAT(ids, ElementsAre(12u, 13u, 14u, 15u, 16u, 17u));
  // Only the old connection's 9 and the new one's 11 (at the cursor it resumed from)
  // were sent twice by the server; the other six drops are the overlap of our two
  // connections (lifecycle_metrics_test.cpp).
  EXPECT_EQ(h.lifecycle().duplicates_dropped(), 2u);
  EXPECT_EQ(h.lifecycle().cursor(), 17u);

  h.frame(kNew, caught_up_json(17));
  EXPECT_THAT(h.frame(kOld, notification_json(18)), IsEmpty()) << "the old connection is stale after the switch";
  EXPECT_THAT(delivered(h.frame(kNew, notification_json(18))), ElementsAre(18u));
}

TEST_F(HandoverTest, NewConnectionReplayOfIdsAtOrBelowTheCursorIsDropped) {
  live();
  h.frame(kOld, notification_json(11));
  drain_and_fire();
  h.frame(kOld, notification_json(12));
  h.frame(kOld, notification_json(13));  // the old one ran ahead while the new one replays
  new_welcomed();
  for (std::uint64_t id : {12u, 13u}) EXPECT_THAT(h.frame(kNew, notification_json(id)), IsEmpty()) << id;
  EXPECT_THAT(names(h.frame(kNew, caught_up_json(13))),
              ElementsAre("Close#1/1000", "Cancel(handover)", "Cancel(handover_timeout)", "Arm(liveness)"));
  EXPECT_EQ(h.lifecycle().duplicates_dropped(), 0u) << "the overlap of our own two connections";
}

TEST_F(HandoverTest, GapOnTheNewConnectionIsReported) {
  live();
  drain_and_fire();
  h.connected(kNew);
  const auto acts = h.frame(kNew, welcome_json("gap", 25, 40, 57));
  EXPECT_THAT(names(acts), ElementsAre("Gap"));
  EXPECT_EQ(find<detail::ReportGap>(acts)->gap.last_seen_id, 10u);
  EXPECT_EQ(find<detail::ReportGap>(acts)->gap.first_available_id, 40u);
}

TEST_F(HandoverTest, LivenessAfterTheSwitchWatchesTheNewConnection) {
  live();
  drain_and_fire();
  new_welcomed(10);
  h.frame(kNew, caught_up_json());
  const auto t0 = h.clock.now();
  h.clock.advance(9s);
  h.activity_on(kOld);  // the old connection's last frames do not count
  h.clock.set(t0 + 10s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#2", "Arm(liveness)"));
  h.clock.set(t0 + 25s);
  const auto acts = h.timer(TimerKind::liveness);
  EXPECT_THAT(names(acts),
              ElementsAre("Abort#2", "Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_EQ(last_state(acts)->reason, errc::liveness_timeout);
}

TEST_F(HandoverTest, SecondDrainOrReconnectNowDuringASwitchOpensNoThirdConnection) {
  live();
  drain_and_fire();
  h.random().script({1000});
  const auto drain = h.frame(kOld, drain_json(20s));
  h.clock.set(*armed_at(drain, TimerKind::handover));
  EXPECT_THAT(h.timer(TimerKind::handover), IsEmpty());
  EXPECT_THAT(h.reconnect_now(), IsEmpty());
  EXPECT_EQ(h.lifecycle().handover_conn(), kNew);
}

TEST_F(HandoverTest, HandoverTimerBeforeWelcomeOrAfterTheConnectionEndedDoesNothing) {
  h.start();
  h.token();
  EXPECT_THAT(h.timer(TimerKind::handover), IsEmpty()) << "connecting";
  h.connected();
  EXPECT_THAT(h.timer(TimerKind::handover), IsEmpty()) << "open, not welcomed";
  h.frame(welcome_json());
  h.closed(1000);
  EXPECT_THAT(h.timer(TimerKind::handover), IsEmpty()) << "waiting";
}

// ---- the new connection fails: stay on the old one ---------------------------------

TEST_F(HandoverTest, NewConnectionRefusedIsForgotten) {
  live();
  drain_and_fire();
  const auto acts = h.refused_on(kNew, 503, "draining", 5s);
  EXPECT_THAT(names(acts), ElementsAre("Cancel(handover_timeout)")) << "refused: nothing to close, no state change";
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("HTTP 503 draining")));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u)) << "no backoff";
  EXPECT_EQ(h.lifecycle().attempts(), 0u);
  EXPECT_EQ(h.lifecycle().last_delay(), 0ms);
  expect_old_still_delivers(11);
  EXPECT_THAT(h.connected(kNew), IsEmpty()) << "late events of the forgotten connection are stale";
  EXPECT_THAT(h.frame(kNew, welcome_json()), IsEmpty());
}

TEST_F(HandoverTest, NewConnectionRefusedPermanentlyIsOnlyForgottenToo) {
  live();
  drain_and_fire();
  EXPECT_THAT(names(h.refused_on(kNew, 403, "token_revoked")), ElementsAre("Cancel(handover_timeout)"));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  expect_old_still_delivers(11);
}

TEST_F(HandoverTest, NewConnectionConnectFailedIsForgotten) {
  live();
  drain_and_fire();
  const auto acts = h.connect_failed_on(kNew, "connection refused");
  EXPECT_THAT(names(acts), ElementsAre("Cancel(handover_timeout)"));
  EXPECT_THAT(log_messages(acts), Contains(HasSubstr("connection refused")));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u));
  expect_old_still_delivers(11);
}

struct NewConnectionClose {
  bool welcomed;
  std::optional<std::uint16_t> code;
};

class HandoverCloseTest : public HandoverTest, public ::testing::WithParamInterface<NewConnectionClose> {};

TEST_P(HandoverCloseTest, NewConnectionClosedBeforeCaughtUpIsForgotten) {
  live();
  drain_and_fire();
  h.connected(kNew);
  if (GetParam().welcomed) {
    h.frame(kNew, welcome_json());
    h.frame(kNew, notification_json(11));
  }
  const auto acts = h.closed(kNew, GetParam().code, "bye");
  EXPECT_THAT(names(acts), ElementsAre("Cancel(handover_timeout)"))
      << "already closed: no CloseConnection, no state change";
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().attempts(), 0u);
  expect_old_still_delivers(12);
  EXPECT_THAT(h.frame(kNew, caught_up_json()), IsEmpty()) << "stale";
}

INSTANTIATE_TEST_SUITE_P(Handover, HandoverCloseTest,
                         ::testing::Values(NewConnectionClose{false, 1000}, NewConnectionClose{false, std::nullopt},
                                           NewConnectionClose{true, 1001}, NewConnectionClose{true, 4008},
                                           NewConnectionClose{true, std::nullopt}),
                         [](const auto& param_info) {
                           return std::string(param_info.param.welcomed ? "welcomed_" : "open_") +
                                  (param_info.param.code ? "code_" + std::to_string(*param_info.param.code)
                                                         : std::string("transport_lost"));
                         });

// protocol-v1.md: a malformed frame "is a protocol error: the client reports it, closes
// with 4004". That holds for the connection being switched to as well: the server must
// learn that it sent garbage, not see a normal 1000.
TEST_F(HandoverTest, MalformedFrameOnTheNewConnectionClosesItWith4004AndKeepsTheOldOne) {
  live();
  drain_and_fire();
  new_welcomed();
  const auto acts = h.frame(kNew, R"({"type":"notification","id":"42"})");
  EXPECT_THAT(names(acts), ElementsAre("Close#2/4004", "Cancel(handover_timeout)"));
  EXPECT_EQ(count<detail::Deliver>(acts), 0u);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().attempts(), 0u);
  expect_old_still_delivers(11);
  EXPECT_THAT(h.frame(kNew, caught_up_json()), IsEmpty()) << "stale";
}

TEST_F(HandoverTest, MessageBeforeWelcomeOnTheNewConnectionClosesItWith4004AndKeepsTheOldOne) {
  live();
  drain_and_fire();
  h.connected(kNew);
  const auto acts = h.frame(kNew, notification_json(11));
  EXPECT_THAT(names(acts), ElementsAre("Close#2/4004", "Cancel(handover_timeout)"));
  EXPECT_EQ(count<detail::Deliver>(acts), 0u) << "nothing from an unwelcomed connection reaches the application";
  EXPECT_FALSE(h.lifecycle().handover_conn());
  expect_old_still_delivers(11);
}

// ---- the old connection ends first -------------------------------------------------

TEST_F(HandoverTest, OldConnectionGoingAwayWhileTheNewOneIsWelcomedPromotesItAtOnce) {
  live();
  drain_and_fire();
  new_welcomed(10);
  h.frame(kNew, notification_json(11));
  h.clock.advance(1s);
  const auto acts = h.closed(kOld, 1001, "going away");
  // (The Close#1 is for a connection that is gone already; the driver ignores ids it
  // has forgotten.)
  EXPECT_THAT(names(acts),
              ElementsAre("Close#1/1000", "Cancel(handover)", "Cancel(handover_timeout)", "Arm(liveness)"));
  EXPECT_EQ(count<detail::ReportState>(acts), 0u) << "no state change";
  EXPECT_FALSE(armed_at(acts, TimerKind::reconnect));
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), h.clock.now() + 10s);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().state(), State::connected);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u)) << "neither backoff nor drain delay drawn";

  EXPECT_THAT(names(h.frame(kNew, notification_json(12))), ElementsAre("Deliver#12"));
  EXPECT_THAT(names(h.frame(kNew, caught_up_json(12))), IsEmpty()) << "its caught_up is now an ordinary one";
  EXPECT_THAT(h.frame(kOld, notification_json(13)), IsEmpty());
}

TEST_F(HandoverTest, OldConnectionLostWhileTheNewOneIsStillConnectingMakesItTheCurrentAttempt) {
  live();
  drain_and_fire();
  h.clock.advance(1s);
  const auto acts = h.closed(kOld, 1001, "going away");
  EXPECT_THAT(names(acts),
              ElementsAre("Cancel(liveness)", "Cancel(handover)", "Cancel(handover_timeout)", "State(reconnecting)"));
  EXPECT_EQ(last_state(acts)->reason, errc::closed_by_server);
  EXPECT_FALSE(last_state(acts)->next_attempt_at) << "the attempt is under way already";
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_EQ(h.lifecycle().state(), State::reconnecting);

  EXPECT_THAT(names(h.connected(kNew)), ElementsAre("Arm(liveness)"));
  const auto welcome = h.frame(kNew, welcome_json("ok", 10));
  EXPECT_THAT(names(welcome), ElementsAre("Arm(liveness)", "State(connected)"));
  EXPECT_EQ(armed_at(welcome, TimerKind::liveness), h.clock.now() + 10s);
  EXPECT_THAT(names(h.frame(kNew, notification_json(11))), ElementsAre("Deliver#11"));
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u));
}

TEST_F(HandoverTest, NewConnectionFailingAfterTakingOverBacksOff) {
  live();
  drain_and_fire();
  h.closed(kOld, std::nullopt);
  h.random().script({250});
  const auto acts = h.connect_failed_on(kNew);
  EXPECT_THAT(names(acts),
              ElementsAre("Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 250ms);
  EXPECT_EQ(last_state(acts)->reason, errc::connect_failed);
}

TEST_F(HandoverTest, OldConnectionLostWhileTheNewOneIsOpenButNotWelcomed) {
  live();
  drain_and_fire();
  h.connected(kNew);
  h.clock.advance(1s);
  const auto acts = h.closed(kOld, std::nullopt);
  EXPECT_THAT(names(acts), ElementsAre("Cancel(liveness)", "Cancel(handover)", "Cancel(handover_timeout)",
                                       "State(reconnecting)", "Arm(liveness)"));
  EXPECT_EQ(last_state(acts)->reason, errc::connection_lost)
      << "a lost transport is reported as connection_lost, as without a switch under way";
  EXPECT_EQ(armed_at(acts, TimerKind::liveness), h.clock.now() + 25s);
  EXPECT_THAT(names(h.frame(kNew, welcome_json())), ElementsAre("Arm(liveness)", "State(connected)"));
}

// Until its welcome says otherwise, a connection that takes over assumes the heartbeat
// of the one it replaces (here 2 s), not the protocol's 25 s default: a switch
// connection that is half-open must be found out as fast as the old one would have been.
TEST_F(HandoverTest, ConnectionThatTookOverBeforeItsWelcomeKeepsTheOldHeartbeat) {
  live(/*heartbeat_s=*/2);
  drain_and_fire();
  h.closed(kOld, std::nullopt);  // the new connection is still connecting: it takes over
  const auto liveness = armed_at(h.connected(kNew), TimerKind::liveness);
  ASSERT_TRUE(liveness);
  EXPECT_EQ(FakeClock::ms_since_origin(*liveness), FakeClock::ms_since_origin(h.clock.now() + 2s));
  h.clock.advance(2s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#2", "Arm(liveness)"));
  h.clock.advance(7s);  // 2 x 2 s + 5 s of silence since it opened
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), Contains("Abort#2")) << "dead: dropped";
}

TEST_F(HandoverTest, ConnectionThatTookOverOpenButNotWelcomedKeepsTheOldHeartbeat) {
  live(/*heartbeat_s=*/2);
  drain_and_fire();
  h.connected(kNew);
  const auto liveness = armed_at(h.closed(kOld, std::nullopt), TimerKind::liveness);
  ASSERT_TRUE(liveness);
  EXPECT_EQ(FakeClock::ms_since_origin(*liveness), FakeClock::ms_since_origin(h.clock.now() + 2s));
}

// An end of the old connection during a switch is reported with the close-code table's
// error, as it would be without a switch under way.
TEST_F(HandoverTest, OldConnectionsCloseCodeDuringASwitchIsReportedWithItsError) {
  live();
  drain_and_fire();
  const auto acts = h.closed(kOld, 4004, "protocol error");
  ASSERT_TRUE(last_state(acts));
  EXPECT_EQ(last_state(acts)->state, State::reconnecting);
  EXPECT_EQ(last_state(acts)->reason, errc::protocol_violation);
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u) << "the new connection carries on";
}

// 4001: the token expired. A switch connection opened with that same token is doomed (the
// server refuses or closes it too): it is abandoned and a fresh token fetched at once.
TEST_F(HandoverTest, TokenExpiredOnTheOldConnectionAbandonsASwitchWithTheSameToken) {
  live();
  drain_and_fire();
  h.connected(kNew);
  const auto acts = h.closed(kOld, 4001, "token expired");
  EXPECT_THAT(names(acts), Contains("Close#2/1000"));
  EXPECT_THAT(names(acts), Contains("FetchToken"));
  ASSERT_TRUE(last_state(acts));
  EXPECT_EQ(last_state(acts)->reason, errc::token_expired);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.frame(kNew, welcome_json()), IsEmpty()) << "the abandoned connection is forgotten";
}

// The drain window belongs to the connection that announced it
// (DrainWindowAppliesOnlyToTheConnectionThatAnnouncedIt): the connection that took over
// was never drained, so its own 1001 backs off normally.
TEST_F(HandoverTest, ConnectionThatTookOverDoesNotInheritTheOldDrainWindow) {
  live();
  drain_and_fire(30s, 5s);
  h.closed(kOld, 1001);  // new connection still connecting: it takes over
  h.connected(kNew);
  h.frame(kNew, welcome_json());
  h.clock.advance(1s);
  h.random().clear_uppers();
  const auto acts = h.closed(kNew, 1001, "restart");
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u)) << "plain backoff, not what is left of the old window";
  EXPECT_EQ(FakeClock::ms_since_origin(armed_at(acts, TimerKind::reconnect).value_or(FakeClock::kOrigin)),
            FakeClock::ms_since_origin(h.clock.now() + 500ms));
}

// After taking over, the new connection must get a ping after one heartbeat of silence
// like any fresh connection, even if the old one had been pinged just before it went.
TEST_F(HandoverTest, ConnectionThatTookOverIsPingedAfterAHeartbeatOfSilence) {
  live();
  const auto t0 = h.clock.now();
  h.random().script({30'000});
  h.frame(kOld, drain_json(60s));
  h.clock.set(t0 + 25s);
  ASSERT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#1", "Arm(liveness)"));
  h.clock.set(t0 + 30s);
  h.timer(TimerKind::handover);  // Open#2
  h.connected(kNew);
  h.clock.set(t0 + 31s);
  h.closed(kOld, std::nullopt);  // takes over: liveness from t0 + 31 s
  h.clock.set(t0 + 56s);
  EXPECT_THAT(names(h.timer(TimerKind::liveness)), ElementsAre("Ping#2", "Arm(liveness)"));
}

// A drain announced on the connection being switched to is an announcement all the same:
// once it is the current connection, its 1001 moves within that window.
TEST_F(HandoverTest, DrainAnnouncedOnTheNewConnectionBeforeTheSwitchIsHonoured) {
  live();
  drain_and_fire();
  new_welcomed();
  h.random().script({4'000});
  h.frame(kNew, drain_json(20s));
  h.frame(kNew, caught_up_json());
  h.clock.advance(2s);
  h.random().clear_uppers();
  h.random().script({7'000, 7'000});
  const auto acts = h.closed(kNew, 1001, "draining");
  ASSERT_FALSE(h.random().uppers().empty());
  EXPECT_EQ(h.random().uppers().back(), 18'000u) << "what is left of the new connection's window";
  EXPECT_EQ(FakeClock::ms_since_origin(armed_at(acts, TimerKind::reconnect).value_or(FakeClock::kOrigin)),
            FakeClock::ms_since_origin(h.clock.now() + 7'000ms));
}

TEST_F(HandoverTest, OldConnectionRevokedDuringASwitchStopsAndClosesTheNewOne) {
  live();
  drain_and_fire();
  new_welcomed();
  const auto acts = h.closed(kOld, 4003, "revoked");
  EXPECT_THAT(names(acts), Contains("Close#2/1000"));
  EXPECT_EQ(last_state(acts)->state, State::stopped);
  EXPECT_EQ(last_state(acts)->reason, errc::auth_failed);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.frame(kNew, caught_up_json()), IsEmpty());
}

TEST_F(HandoverTest, ProtocolErrorOnTheOldConnectionDuringASwitchAbandonsBoth) {
  live();
  drain_and_fire();
  h.random().script({300});
  const auto acts = h.frame(kOld, "not json");
  EXPECT_THAT(names(acts), ElementsAre("Close#1/4004", "Cancel(liveness)", "Cancel(handover)", "Close#2/1000",
                                       "Cancel(handover_timeout)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 300ms);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.connected(kNew), IsEmpty());
}

TEST_F(HandoverTest, StopDuringASwitchClosesBothConnections) {
  live();
  drain_and_fire();
  EXPECT_THAT(names(h.stop()), ElementsAre("Close#1/1000", "Close#2/1000", "Cancel(reconnect)", "Cancel(token_timeout)",
                                           "Cancel(liveness)", "Cancel(handover)", "Cancel(refresh)", "Cancel(reauth)",
                                           "Cancel(handover_timeout)", "State(stopped)"));
  EXPECT_FALSE(h.lifecycle().handover_conn());
  EXPECT_THAT(h.connected(kNew), IsEmpty());
  EXPECT_THAT(h.frame(kNew, welcome_json()), IsEmpty());
}

// ---- 1001 inside a drain window without a successful switch ------------------------

TEST_F(HandoverTest, GoingAwayAfterAFailedSwitchReconnectsWithinWhatIsLeftOfTheWindow) {
  live();
  const auto t0 = h.clock.now();
  drain_and_fire(30s, 5s);  // switch at t0 + 5 s
  h.clock.set(t0 + 6s);
  h.refused_on(kNew, 503, "draining");
  h.clock.set(t0 + 8s);
  h.random().script({7'000});
  const auto acts = h.closed(kOld, 1001, "draining");
  EXPECT_THAT(names(acts),
              ElementsAre("Cancel(liveness)", "Cancel(handover)", "Arm(reconnect)", "State(reconnecting)"));
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u, 22'000u)) << "upper = deadline - now";
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), t0 + 15s);
  EXPECT_EQ(last_state(acts)->next_attempt_at, t0 + 15s);
  EXPECT_EQ(last_state(acts)->reason, errc::closed_by_server);
  EXPECT_EQ(h.lifecycle().last_delay(), 7'000ms);
  EXPECT_EQ(h.lifecycle().attempts(), 0u) << "not the backoff";

  const auto open = find<detail::OpenConnection>(h.fire_reconnect());
  ASSERT_TRUE(open);
  EXPECT_EQ(open->conn, 3u) << "ids are never reused";
}

TEST_F(HandoverTest, GoingAwayBeforeTheSwitchTimerReconnectsWithinWhatIsLeftOfTheWindow) {
  live();
  const auto t0 = h.clock.now();
  h.random().script({25'000, 800});
  h.frame(kOld, drain_json(30s));
  h.clock.set(t0 + 29s);
  const auto acts = h.closed(kOld, 1001);
  EXPECT_THAT(h.random().uppers(), ElementsAre(25'000u, 1'000u));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), t0 + 29s + 800ms);
  EXPECT_EQ(h.lifecycle().last_delay(), 800ms);
}

TEST_F(HandoverTest, GoingAwayAtTheEndOfTheWindowBacksOff) {
  live();
  const auto t0 = h.clock.now();
  drain_and_fire(30s, 5s);
  h.refused_on(kNew, 503, "draining");
  h.clock.set(t0 + 30s);
  h.random().clear_uppers();
  h.random().script({100});
  const auto acts = h.closed(kOld, 1001);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 100ms);
  EXPECT_EQ(h.lifecycle().last_delay(), 100ms);
}

}  // namespace
}  // namespace herald::test
