// Lifecycle, what the metrics count: connections opened, reconnects (a connection that
// replaces a lost one), switches (make-before-break), and duplicates — only ids the
// server sent twice on one connection, not the overlap of two of our own connections
// during a switch. Also: a switch completed because the old connection ended first does
// not count as caught up until the new connection says so (backoff forgiveness).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::ElementsAre;

struct MetricsTest : ::testing::Test {
  LifecycleHarness h{std::uint64_t{10}};

  /// reconnect_now() on the live connection, the new one opened and welcomed. Returns its id.
  detail::ConnId switch_opened() {
    h.reconnect_now();
    const auto id = h.conn();
    h.connected(id);
    h.frame(id, welcome_json());
    return id;
  }
};

TEST_F(MetricsTest, SwitchesCountAsConnectsNotAsReconnects) {
  h.bring_up();
  EXPECT_EQ(h.lifecycle().connects(), 1u);
  EXPECT_EQ(h.lifecycle().reconnects(), 0u);
  for (int i = 0; i < 3; ++i) {
    const auto id = switch_opened();
    h.frame(id, caught_up_json());
  }
  EXPECT_EQ(h.lifecycle().connects(), 4u);
  EXPECT_EQ(h.lifecycle().reconnects(), 0u);
  EXPECT_EQ(h.lifecycle().switches(), 3u);

  h.closed(std::nullopt);  // lost: the next connection is a reconnect
  h.fire_reconnect();
  h.connected();
  EXPECT_EQ(h.lifecycle().connects(), 5u);
  EXPECT_EQ(h.lifecycle().reconnects(), 1u);
  EXPECT_EQ(h.lifecycle().switches(), 3u);
}

TEST_F(MetricsTest, ASwitchThatFailsCountsNoSwitch) {
  h.bring_up();
  const auto id = switch_opened();
  h.closed(id, std::nullopt);
  EXPECT_EQ(h.lifecycle().switches(), 0u);
  EXPECT_EQ(h.lifecycle().reconnects(), 0u);
}

TEST_F(MetricsTest, OverlapOfTwoOwnConnectionsIsNotCountedAsDuplicates) {
  const auto old_conn = h.bring_up();
  h.frame(old_conn, notification_json(11));
  h.reconnect_now();  // opened with cursor 11
  const auto new_conn = h.conn();
  h.connected(new_conn);
  h.frame(new_conn, welcome_json());
  h.frame(old_conn, notification_json(12));
  h.frame(old_conn, notification_json(13));
  h.frame(new_conn, notification_json(12));  // the new one replays what the old one delivered
  h.frame(new_conn, notification_json(13));
  h.frame(new_conn, notification_json(14));  // and now runs ahead
  h.frame(old_conn, notification_json(14));
  EXPECT_EQ(h.lifecycle().duplicates_dropped(), 0u);
  EXPECT_EQ(h.lifecycle().cursor(), 14u);
}

TEST_F(MetricsTest, AServerSendingAnIdTwiceOnOneConnectionIsCounted) {
  const auto old_conn = h.bring_up();
  h.frame(old_conn, notification_json(11));
  h.frame(old_conn, notification_json(11));  // no switch: a real duplicate
  EXPECT_EQ(h.lifecycle().duplicates_dropped(), 1u);
  h.reconnect_now();  // opened with cursor 11
  const auto new_conn = h.conn();
  h.connected(new_conn);
  h.frame(new_conn, welcome_json());
  h.frame(new_conn, notification_json(11));  // at the cursor it resumed from: a server bug
  h.frame(old_conn, notification_json(12));
  h.frame(old_conn, notification_json(12));  // twice on the same connection
  h.frame(new_conn, notification_json(12));  // overlap: not counted
  EXPECT_EQ(h.lifecycle().duplicates_dropped(), 3u);
}

// Without the fix, the switch set caught_up_at_ when the old connection closed, so a
// new connection that never caught up was "stable" a minute later and reset the backoff.
struct PromotionTest : ::testing::Test {
  LifecycleHarness h;

  /// Three failed attempts (backoff ceilings 500, 1000, 2000), then a live connection
  /// that caught up, a switch to a new connection that is welcomed but not caught up,
  /// and the old connection closing at once (the new one takes over). Returns its id.
  detail::ConnId promoted_before_caught_up() {
    h.start();
    h.token();
    for (int i = 0; i < 3; ++i) {
      h.connect_failed();
      h.fire_reconnect();
    }
    const auto old_conn = h.conn();
    h.connected();
    h.frame(welcome_json());
    h.frame(caught_up_json());
    h.reconnect_now();
    const auto new_conn = h.conn();
    h.connected(new_conn);
    h.frame(new_conn, welcome_json());
    h.closed(old_conn, 1000);  // within stable_after of its caught_up: not forgiven
    EXPECT_FALSE(h.lifecycle().handover_conn());
    h.random().clear_uppers();
    return new_conn;
  }
};

TEST_F(PromotionTest, ANewConnectionThatNeverCaughtUpKeepsTheBackoff) {
  const auto new_conn = promoted_before_caught_up();
  h.clock.advance(1min);
  h.closed(new_conn, 1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(4000u)) << "not stable: it never caught up";
}

TEST_F(PromotionTest, ANewConnectionThatCaughtUpAfterThePromotionIsForgivenOnceStable) {
  const auto new_conn = promoted_before_caught_up();
  h.clock.advance(5s);
  h.frame(new_conn, caught_up_json());
  h.clock.advance(10s);
  h.closed(new_conn, 1000);
  EXPECT_THAT(h.random().uppers(), ElementsAre(500u));
}

}  // namespace
}  // namespace herald::test
