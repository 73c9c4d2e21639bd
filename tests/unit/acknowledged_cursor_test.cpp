// DeliveryReceipt::acknowledged bookkeeping: what may be stored, and when.
#include "client/acknowledged_cursor.hpp"

#include <gtest/gtest.h>

namespace herald::detail {
namespace {

using C = std::optional<Cursor>;

TEST(AcknowledgedCursor, NothingIsStoredUntilAcknowledged) {
  AcknowledgedCursor a;
  EXPECT_EQ(a.delivered(4, "e1"), C{});
  EXPECT_EQ(a.delivered(7, "e1"), C{});
  EXPECT_EQ(a.delivered(9, "e1"), C{});
  EXPECT_EQ(a.acknowledge(7), (C{Cursor{7, "e1"}}));  // 4 and 7
  EXPECT_EQ(a.pending(), 1U);
  EXPECT_EQ(a.acknowledge(9), (C{Cursor{9, "e1"}}));
  EXPECT_EQ(a.pending(), 0U);
}

TEST(AcknowledgedCursor, AnIdNotWaitingDoesNothing) {
  AcknowledgedCursor a;
  EXPECT_EQ(a.acknowledge(3), C{});  // never delivered
  a.delivered(5, "e1");
  a.delivered(8, "e1");
  EXPECT_EQ(a.acknowledge(9), C{});  // not delivered yet: nothing moves
  EXPECT_EQ(a.acknowledge(4), C{});  // before the first
  EXPECT_EQ(a.pending(), 1U);
  EXPECT_EQ(a.acknowledge(8), (C{Cursor{8, "e1"}}));
  EXPECT_EQ(a.acknowledge(8), C{});  // twice
  EXPECT_EQ(a.acknowledge(5), C{});  // older than what was acknowledged
}

TEST(AcknowledgedCursor, ALifecycleWriteWithNothingWaitingIsStoredAtOnce) {
  AcknowledgedCursor a;
  EXPECT_EQ(a.set(Cursor{12, "e1"}), (C{Cursor{12, "e1"}}));  // joins at the head
  EXPECT_EQ(a.pending(), 0U);
}

TEST(AcknowledgedCursor, AResetWaitsBehindTheOldHistorysUnacknowledgedRuns) {
  AcknowledgedCursor a;
  a.delivered(6, "old");
  a.delivered(7, "old");
  EXPECT_EQ(a.set(Cursor{0, "new"}), C{});  // the history started over
  a.delivered(1, "new");
  a.delivered(2, "new");
  // Acknowledging the old history's last id releases the reset behind it.
  EXPECT_EQ(a.acknowledge(7), (C{Cursor{0, "new"}}));
  EXPECT_EQ(a.acknowledge(1), (C{Cursor{1, "new"}}));
  EXPECT_EQ(a.acknowledge(2), (C{Cursor{2, "new"}}));
}

TEST(AcknowledgedCursor, AnAcknowledgementOfTheNewHistoryCoversTheOld) {
  AcknowledgedCursor a;
  a.delivered(6, "old");
  a.set(Cursor{0, "new"});
  a.delivered(1, "new");
  a.delivered(2, "new");
  EXPECT_EQ(a.acknowledge(2), (C{Cursor{2, "new"}}));  // id 6 and the reset with it
  EXPECT_EQ(a.pending(), 0U);
}

TEST(AcknowledgedCursor, TheSameIdInTwoHistoriesIsTakenInDeliveryOrder) {
  AcknowledgedCursor a;
  a.delivered(2, "old");
  a.delivered(3, "old");
  a.set(Cursor{0, "new"});
  a.delivered(2, "new");
  EXPECT_EQ(a.acknowledge(2), (C{Cursor{2, "old"}}));  // the first delivered 2
  EXPECT_EQ(a.pending(), 3U);                          // old 3, the reset, new 2
  EXPECT_EQ(a.acknowledge(2), (C{Cursor{2, "new"}}));  // now the new one, and all before it
  EXPECT_EQ(a.pending(), 0U);
}

TEST(AcknowledgedCursor, ConsecutiveWritesKeepTheLast) {
  AcknowledgedCursor a;
  a.delivered(6, "e1");
  a.set(Cursor{0, "e2"});
  a.set(Cursor{0, "e3"});
  EXPECT_EQ(a.pending(), 2U);
  EXPECT_EQ(a.acknowledge(6), (C{Cursor{0, "e3"}}));
}

TEST(AcknowledgedCursor, EntriesAreBoundedAndTheOldestRunIsForgotten) {
  AcknowledgedCursor a;
  for (std::uint64_t i = 0; i < AcknowledgedCursor::kMaxEntries * 3; ++i) {
    a.delivered(10, "e" + std::to_string(i));  // a new history each time, never acknowledged
    EXPECT_LE(a.pending(), AcknowledgedCursor::kMaxEntries);
  }
  EXPECT_EQ(a.pending(), AcknowledgedCursor::kMaxEntries);
}

TEST(AcknowledgedCursor, ForgettingARunReleasesTheWriteBehindIt) {
  AcknowledgedCursor a;
  a.delivered(1, "e0");
  a.set(Cursor{0, "e1"});
  C released;
  for (std::uint64_t i = 1; i < AcknowledgedCursor::kMaxEntries; ++i) {
    released = a.delivered(5, "e1-" + std::to_string(i));
    if (released) break;
  }
  EXPECT_EQ(released, (C{Cursor{0, "e1"}}));  // the run before it was forgotten
}

}  // namespace
}  // namespace herald::detail
