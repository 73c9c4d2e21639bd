#include "handover_cursor_store.hpp"

namespace herald::qt::detail {

HandoverCursorStore::HandoverCursorStore(std::shared_ptr<herald::CursorStore> inner) : inner_(std::move(inner)) {}

std::optional<std::uint64_t> HandoverCursorStore::load() {
  std::lock_guard lock(mutex_);
  auto v = inner_->load();
  handed_over_ = v;
  forwarded_ = v;
  return v;
}

void HandoverCursorStore::save(std::uint64_t /*id*/) {
  // The SDK's id may be ahead of what the application was handed: write the latter.
  std::lock_guard lock(mutex_);
  forward_locked();
}

void HandoverCursorStore::flush() {
  std::lock_guard lock(mutex_);
  forward_locked();
  inner_->flush();
}

void HandoverCursorStore::mark_handed_over(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  if (!handed_over_ || id > *handed_over_) handed_over_ = id;
}

void HandoverCursorStore::final_flush() { flush(); }

void HandoverCursorStore::forward_locked() {
  if (handed_over_ && handed_over_ != forwarded_) {
    inner_->save(*handed_over_);
    forwarded_ = handed_over_;
  }
}

}  // namespace herald::qt::detail
