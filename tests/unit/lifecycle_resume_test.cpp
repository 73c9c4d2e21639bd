// Lifecycle, resume: a server whose history started over (its epoch changed, or its
// newest id is below the cursor) is a reset — a gap event of reason `reset`, the cursor
// starts over at 0 and the new stream is handed over from its start, once each, in
// order. Before epochs, such a client dropped the new ids as duplicates, forever.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::uint64_t> delivered(const Actions& acts) {
  std::vector<std::uint64_t> ids;
  for (const auto& d : all<detail::Deliver>(acts)) ids.push_back(d.notification.id);
  return ids;
}

/// Up to the upgrade of connection 1: start → token → connected.
void opened(LifecycleHarness& h) {
  h.start();
  h.token();
  h.connected();
}

TEST(ResumeReset, ChangedEpochStartsTheCursorOverAndReplaysTheNewStreamFromItsStart) {
  LifecycleHarness h(5, {}, "e-1");
  opened(h);
  const auto acts = h.frame(welcome_json("ok", 25, std::nullopt, 3, "e-2"));
  // No "connected" for a stream that cannot be used; one new connection at once.
  EXPECT_THAT(names(acts),
              ElementsAre("Gap", "Save#0@e-2", "Close#1/1000", "Cancel(liveness)", "Cancel(handover)", "Open#2"));
  const auto gap = find<detail::ReportGap>(acts)->gap;
  EXPECT_EQ(gap.reason, GapReason::reset);
  EXPECT_EQ(gap.last_seen_id, 5u);
  EXPECT_EQ(gap.first_available_id, 0u);
  EXPECT_EQ(gap.previous_epoch, "e-1");
  EXPECT_EQ(gap.epoch, "e-2");
  EXPECT_EQ(h.last_open()->last_seen_id, 0u) << "the whole retained new stream is asked for";
  EXPECT_EQ(h.lifecycle().cursor(), 0u);
  EXPECT_EQ(h.lifecycle().epoch(), "e-2");

  // The old connection's late frames are ignored; the new one delivers 1..3 once.
  EXPECT_THAT(names(h.frame(1, notification_json(6))), IsEmpty());
  h.connected();
  const auto welcome = h.frame(welcome_json("ok", 25, 1, 3, "e-2"));
  EXPECT_THAT(names(welcome), ElementsAre("Arm(liveness)", "State(connected)"));
  Actions stream;
  for (std::uint64_t id : {1u, 2u, 3u, 2u}) append_actions(stream, h.frame(notification_json(id)));
  EXPECT_THAT(delivered(stream), ElementsAre(1u, 2u, 3u));
  EXPECT_EQ(h.lifecycle().state(), State::connected);
}

TEST(ResumeReset, HeadBelowTheCursorIsAResetEvenWithoutEpochs) {
  LifecycleHarness h(5);
  opened(h);
  const auto acts = h.frame(welcome_json("ok", 25, std::nullopt, 3));
  EXPECT_THAT(names(acts),
              ElementsAre("Gap", "Save#0", "Close#1/1000", "Cancel(liveness)", "Cancel(handover)", "Open#2"));
  const auto gap = find<detail::ReportGap>(acts)->gap;
  EXPECT_EQ(gap.reason, GapReason::reset);
  EXPECT_EQ(gap.last_seen_id, 5u);
  EXPECT_EQ(h.last_open()->last_seen_id, 0u);
}

TEST(ResumeReset, TheSameEpochWithTheHeadAtOrAboveTheCursorIsNoReset) {
  for (std::uint64_t head : {5u, 9u}) {
    LifecycleHarness h(5, {}, "e-1");
    opened(h);
    const auto acts = h.frame(welcome_json("ok", 25, std::nullopt, head, "e-1"));
    EXPECT_THAT(names(acts), ElementsAre("Arm(liveness)", "State(connected)")) << head;
    EXPECT_EQ(h.lifecycle().cursor(), 5u);
  }
}

TEST(ResumeReset, AServerThatSaysNothingOfItsHistoryIsTakenAsTheSame) {
  LifecycleHarness h(5, {}, "e-1");
  opened(h);
  EXPECT_THAT(names(h.frame(welcome_json("ok"))), ElementsAre("Arm(liveness)", "State(connected)"));
  EXPECT_EQ(h.lifecycle().epoch(), "e-1") << "kept for the next server that names its epoch";
}

TEST(ResumeReset, ACursorStoredWithoutAnEpochLearnsItWithoutAReset) {
  LifecycleHarness h(5);  // a cursor file written before epochs existed
  opened(h);
  EXPECT_THAT(names(h.frame(welcome_json("ok", 25, 6, 7, "e-1"))),
              ElementsAre("Arm(liveness)", "State(connected)", "Save#5@e-1"));
  EXPECT_EQ(h.lifecycle().epoch(), "e-1");
  EXPECT_THAT(delivered(h.frame(notification_json(6))), ElementsAre(6u));
}

TEST(ResumeReset, ANewDeviceJoinsAtTheHeadAndResumesFromThereAfterADisconnect) {
  LifecycleHarness h;
  opened(h);
  EXPECT_EQ(h.last_open()->last_seen_id, std::nullopt) << "live only, from now";
  EXPECT_THAT(names(h.frame(welcome_json("fresh", 25, std::nullopt, 42, "e-1"))),
              ElementsAre("Arm(liveness)", "State(connected)", "Save#42@e-1"));
  h.closed(std::nullopt, "reset by peer");
  h.fire_reconnect();
  ASSERT_TRUE(h.last_open());
  EXPECT_EQ(h.last_open()->last_seen_id, 42u) << "what was published while away is replayed";
}

TEST(ResumeReset, ASecondResetInARowWaitsForTheBackoff) {
  LifecycleHarness h(5, {}, "e-1");
  opened(h);
  h.frame(welcome_json("ok", 25, std::nullopt, 3, "e-2"));
  h.connected();
  h.random().script({300});
  const auto acts = h.frame(welcome_json("ok", 25, std::nullopt, 3, "e-3"));
  EXPECT_EQ(count<detail::ReportGap>(acts), 1u);
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u) << "no reconnect loop against a flapping epoch";
  EXPECT_EQ(armed_at(acts, TimerKind::reconnect), h.clock.now() + 300ms);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, errc::history_reset);
  EXPECT_EQ(h.lifecycle().epoch(), "e-3");

  // Once a welcome names the same history again, the next reset reconnects at once.
  h.fire_reconnect();
  h.connected();
  h.frame(welcome_json("ok", 25, std::nullopt, 3, "e-3"));
  h.closed(1000);
  h.fire_reconnect();
  h.connected();
  EXPECT_EQ(count<detail::OpenConnection>(h.frame(welcome_json("ok", 25, std::nullopt, 3, "e-4"))), 1u);
}

TEST(ResumeReset, AResetSeenByAHandoverConnectionReplacesBothConnections) {
  LifecycleHarness h(10, {}, "e-1");
  opened(h);
  h.frame(welcome_json("ok", 25, std::nullopt, 10, "e-1"));
  h.frame(caught_up_json(10));
  const auto old_conn = h.conn();
  h.reconnect_now();
  const auto new_conn = h.conn();
  ASSERT_NE(new_conn, old_conn);
  h.connected(new_conn);
  const auto acts = h.frame(new_conn, welcome_json("ok", 25, std::nullopt, 2, "e-2"));
  const auto n = names(acts);
  EXPECT_THAT(n, ::testing::Contains("Gap"));
  EXPECT_THAT(n, ::testing::Contains("Close#" + std::to_string(new_conn) + "/1000"));
  EXPECT_THAT(n, ::testing::Contains("Close#" + std::to_string(old_conn) + "/1000"));
  EXPECT_EQ(count<detail::OpenConnection>(acts), 1u);
  EXPECT_EQ(h.last_open()->last_seen_id, 0u);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::reconnecting);
  EXPECT_EQ(state->reason, errc::history_reset);
  EXPECT_FALSE(h.lifecycle().handover_conn());
  // Neither of the two old connections delivers any more.
  EXPECT_THAT(names(h.frame(old_conn, notification_json(11))), IsEmpty());
  EXPECT_THAT(names(h.frame(new_conn, notification_json(1))), IsEmpty());
}

// A switch connection's welcome carries the head read when it opened; meanwhile the old
// connection may deliver newer ids. That head below the (newer) cursor is no reset.
TEST(ResumeReset, ASwitchWelcomedWithAHeadOlderThanWhatTheOldConnectionDeliveredSinceIsNoReset) {
  LifecycleHarness h(10, {}, "e-1");
  opened(h);
  h.frame(welcome_json("ok", 25, std::nullopt, 10, "e-1"));
  h.frame(caught_up_json(10));
  const auto old_conn = h.conn();
  h.reconnect_now();
  const auto new_conn = h.conn();
  EXPECT_EQ(h.last_open()->last_seen_id, 10u);
  h.connected(new_conn);
  EXPECT_THAT(delivered(h.frame(old_conn, notification_json(11))), ElementsAre(11u));
  EXPECT_THAT(delivered(h.frame(old_conn, notification_json(12))), ElementsAre(12u));
  const auto welcome = h.frame(new_conn, welcome_json("ok", 25, 11, 10, "e-1"));
  EXPECT_EQ(count<detail::ReportGap>(welcome), 0u) << "a false reset would replay the whole stream";
  EXPECT_EQ(count<detail::CloseConnection>(welcome), 0u);
  EXPECT_THAT(names(h.frame(new_conn, notification_json(11))), IsEmpty());
  EXPECT_THAT(names(h.frame(new_conn, notification_json(12))), IsEmpty());
  h.frame(new_conn, caught_up_json(12));
  EXPECT_FALSE(h.lifecycle().handover_conn()) << "switched";
  EXPECT_THAT(delivered(h.frame(new_conn, notification_json(13))), ElementsAre(13u));
  EXPECT_EQ(h.lifecycle().cursor(), 13u);
}

TEST(ResumeReset, ARetentionGapSaysSoAndCarriesTheMissedCountWhenTheServerGivesIt) {
  LifecycleHarness h(10, {}, "e-1");
  opened(h);
  const auto acts = h.frame(
      R"({"type":"welcome","session_id":"s","user_id":"u","heartbeat_s":25,"resume":{"status":"gap","from_id":40,"head_id":57,"missed":12,"epoch":"e-1"}})");
  const auto gap = find<detail::ReportGap>(acts);
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->gap.reason, GapReason::retention);
  EXPECT_EQ(gap->gap.last_seen_id, 10u);
  EXPECT_EQ(gap->gap.first_available_id, 40u);
  EXPECT_EQ(gap->gap.missing, 12u);
}

}  // namespace
}  // namespace herald::test
