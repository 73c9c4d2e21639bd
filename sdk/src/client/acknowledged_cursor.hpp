// The stored cursor under DeliveryReceipt::acknowledged: it moves only over
// notifications the application acknowledged, in the order they were delivered.
//
// Pure bookkeeping on the client's strand. What was delivered and not acknowledged yet
// is kept as runs of one epoch (ids rise within an epoch, so a run is its first and
// last id), and the lifecycle's own cursor writes (a history reset starting over at id
// 0 of a new epoch, a cursor that joins at the head or learns its epoch) wait behind the
// runs delivered before them: the stored cursor never moves past a notification the
// application has not acknowledged, and never back to an older history.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>

#include "herald/cursor.hpp"

namespace herald::detail {

class AcknowledgedCursor {
 public:
  /// More entries than this (a server resetting its history over and over while the
  /// application acknowledges nothing): the oldest run is forgotten, and acknowledging
  /// one of its ids does nothing (it is delivered again after a restart).
  static constexpr std::size_t kMaxEntries = 64;

  // Each returns the cursor to store now, if any.
  /// Notification `id` of `epoch` was handed to the application.
  std::optional<Cursor> delivered(std::uint64_t id, const std::string& epoch);
  /// The lifecycle set the cursor (SaveCursor): stored once everything delivered before
  /// it was acknowledged.
  std::optional<Cursor> set(const Cursor& cursor);
  /// The application acknowledged `id` and everything delivered before it. Nothing when
  /// `id` is not waiting for an acknowledgement (never delivered, or acknowledged).
  std::optional<Cursor> acknowledge(std::uint64_t id);

  /// Runs waiting for an acknowledgement, and cursor writes waiting behind them.
  std::size_t pending() const { return entries_.size(); }

 private:
  struct Run {  // delivered, not acknowledged: ids first..last of one epoch
    std::string epoch;
    std::uint64_t first = 0;
    std::uint64_t last = 0;
  };
  struct Write {  // a cursor write of the lifecycle
    Cursor cursor;
  };
  using Entry = std::variant<Run, Write>;

  // Pops the writes at the front; returns `stored` or the last of them.
  std::optional<Cursor> release_writes(std::optional<Cursor> stored);

  std::deque<Entry> entries_;  // in delivery order; never a Write at the front
};

}  // namespace herald::detail
