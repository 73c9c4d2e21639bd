// A CursorStore between the SDK and the application's store that persists only ids the
// Qt side actually emitted.
//
// The SDK saves a notification's id as soon as its callback returned, and the Qt
// binding's callback only posts the notification to the QObject's thread. If the
// QObject is stopped or destroyed before the posted notification is emitted, the SDK's
// cursor is already past it. This store makes the persisted cursor follow the
// application instead: save() from the SDK is only a trigger; what is written to the
// inner store is the last id the Qt side marked as handed over (mark_handed_over()).
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
  std::optional<std::uint64_t> load() override;
  void save(std::uint64_t id) override;
  void flush() override;

  /// The Qt side: notificationReceived returned (or its slot destroyed the client) for `id`.
  void mark_handed_over(std::uint64_t id);
  /// After the SDK client stopped (it no longer calls this store): writes and flushes
  /// what was handed over since the SDK's last flush.
  void final_flush();

 private:
  // Forwards the handed-over id to the inner store if it moved. Caller holds mutex_.
  void forward_locked();

  std::shared_ptr<herald::CursorStore> inner_;
  std::mutex mutex_;
  std::optional<std::uint64_t> handed_over_;
  std::optional<std::uint64_t> forwarded_;
};

}  // namespace herald::qt::detail
