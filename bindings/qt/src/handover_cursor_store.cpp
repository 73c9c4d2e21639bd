#include "handover_cursor_store.hpp"

namespace herald::qt::detail {

HandoverCursorStore::HandoverCursorStore(std::shared_ptr<herald::CursorStore> inner) : inner_(std::move(inner)) {}

std::optional<herald::Cursor> HandoverCursorStore::load() {
  std::lock_guard lock(mutex_);
  auto v = inner_->load();
  handed_over_ = v;
  forwarded_ = v;
  if (v) sdk_last_id_ = v->id;
  return v;
}

void HandoverCursorStore::save(const herald::Cursor& cursor) {
  // The SDK's id may be ahead of what the application was handed: write the latter.
  std::lock_guard lock(mutex_);
  const bool reset =
      sdk_last_id_ && (cursor.id < *sdk_last_id_ || (handed_over_ && !handed_over_->epoch.empty() &&
                                                     !cursor.epoch.empty() && cursor.epoch != handed_over_->epoch));
  sdk_last_id_ = cursor.id;
  if (!reset) {  // a reset waits for restart(), in the order of the emitted signals
    if (!handed_over_) {
      handed_over_ = cursor;  // a new device joins at the head: nothing emitted is older
    } else if (handed_over_->epoch.empty()) {
      handed_over_->epoch = cursor.epoch;  // the same history, its epoch learnt just now
    }
  }
  forward_locked();
}

void HandoverCursorStore::flush() {
  std::lock_guard lock(mutex_);
  forward_locked();
  inner_->flush();
}

void HandoverCursorStore::mark_handed_over(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (!handed_over_) {
    handed_over_ = herald::Cursor{id, {}};
  } else if (id > handed_over_->id) {
    handed_over_->id = id;
  }
}

void HandoverCursorStore::restart(const herald::Cursor& cursor) {
  std::lock_guard lock(mutex_);
  handed_over_ = cursor;
  forward_locked();
}

void HandoverCursorStore::final_flush() { flush(); }

void HandoverCursorStore::forward_locked() {
  if (handed_over_ && handed_over_ != forwarded_) {
    inner_->save(*handed_over_);
    forwarded_ = handed_over_;
  }
}

}  // namespace herald::qt::detail
