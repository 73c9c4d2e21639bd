#include "client/acknowledged_cursor.hpp"

#include <algorithm>

namespace herald::detail {

std::optional<Cursor> AcknowledgedCursor::delivered(std::uint64_t id, const std::string& epoch) {
  if (!entries_.empty()) {
    if (auto* run = std::get_if<Run>(&entries_.back()); run && run->epoch == epoch && id > run->last) {
      run->last = id;
      return std::nullopt;
    }
  }
  entries_.push_back(Run{epoch, id, id});
  if (entries_.size() <= kMaxEntries) return std::nullopt;
  entries_.pop_front();  // a Run: writes never wait at the front
  return release_writes(std::nullopt);
}

std::optional<Cursor> AcknowledgedCursor::set(const Cursor& cursor) {
  if (entries_.empty()) return cursor;
  if (auto* write = std::get_if<Write>(&entries_.back())) {
    write->cursor = cursor;  // the later write replaces the earlier: nothing between them
  } else {
    entries_.push_back(Write{cursor});
  }
  return std::nullopt;
}

std::optional<Cursor> AcknowledgedCursor::acknowledge(std::uint64_t id) {
  const auto holds = [id](const Entry& e) {
    const auto* run = std::get_if<Run>(&e);
    return run && run->first <= id && id <= run->last;
  };
  const auto it = std::find_if(entries_.begin(), entries_.end(), holds);
  if (it == entries_.end()) return std::nullopt;
  auto& run = std::get<Run>(*it);
  Cursor stored{id, run.epoch};
  if (id == run.last) {
    entries_.erase(entries_.begin(), std::next(it));
  } else {
    run.first = id + 1;
    entries_.erase(entries_.begin(), it);
  }
  return release_writes(std::move(stored));
}

std::optional<Cursor> AcknowledgedCursor::release_writes(std::optional<Cursor> stored) {
  while (!entries_.empty()) {
    const auto* write = std::get_if<Write>(&entries_.front());
    if (!write) break;
    stored = write->cursor;
    entries_.pop_front();
  }
  return stored;
}

}  // namespace herald::detail
