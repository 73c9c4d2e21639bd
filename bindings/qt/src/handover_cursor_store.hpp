// A CursorStore between the SDK and the application's store that persists only ids the
// Qt side actually emitted.
//
// The SDK saves a notification's id as soon as its callback returned, and the Qt
// binding's callback only posts the notification to the QObject's thread. If the
// QObject is stopped or destroyed before the posted notification is emitted, the SDK's
// cursor is already past it. This store makes the persisted cursor follow the
// application instead: save() from the SDK is only a trigger; what is written to the
// inner store is the last id the Qt side marked as handed over (mark_handed_over()).
//
// The epoch travels with it. The SDK's save() supplies it when the cursor first learns
// it (a new device joining at the head, or a cursor stored before epochs existed). A
// history reset is applied by the Qt side instead (restart()), when it reaches the gap
// event in the order of the emitted signals: notifications of the old history still
// queued before it are marked against the old epoch, those after it against the new one.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

#include "herald/cursor_store.hpp"

namespace herald::qt::detail {

class HandoverCursorStore final : public herald::CursorStore {
 public:
  explicit HandoverCursorStore(std::shared_ptr<herald::CursorStore> inner);

  // The SDK side (its I/O thread; load() on the thread that constructs the client).
  std::optional<herald::Cursor> load() override;
  void save(const herald::Cursor& cursor) override;
  void flush() override;

  /// The Qt side: notificationReceived returned (or its slot destroyed the client) for `id`.
  void mark_handed_over(std::uint64_t id);
  /// The Qt side reached a history reset (gap event of reason reset): the cursor starts
  /// over at `cursor` (id 0 and the new epoch).
  void restart(const herald::Cursor& cursor);
  /// After the SDK client stopped (it no longer calls this store): writes and flushes
  /// what was handed over since the SDK's last flush.
  void final_flush();

 private:
  // Forwards the handed-over cursor to the inner store if it moved. Caller holds mutex_.
  void forward_locked();

  std::shared_ptr<herald::CursorStore> inner_;
  std::mutex mutex_;
  std::optional<herald::Cursor> handed_over_;
  std::optional<herald::Cursor> forwarded_;
  std::optional<std::uint64_t> sdk_last_id_;  // the id of the SDK's last save() (or load())
};

}  // namespace herald::qt::detail
