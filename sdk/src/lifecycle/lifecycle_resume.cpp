// What a welcome's `resume` tells the client about the history it resumes in: a gap the
// server's retention left, a history that started over (a reset), and the epoch and
// position a cursor is stored with.
//
// A reset (the epoch changed, or the newest id is below the cursor) means the ids the
// cursor counts in belong to another history: the server would replay "after id 5" of
// a stream whose id 5 is not ours, and the client would drop ids 1-5 of the new stream
// as duplicates. So the cursor starts over at 0 and both connections (the current one
// and a handover one) are replaced by one that asks for the whole retained stream.
#include "lifecycle/lifecycle.hpp"

namespace herald::detail {
namespace {

std::string describe_reset(const GapEvent& g) {
  if (!g.previous_epoch.empty() && !g.epoch.empty() && g.previous_epoch != g.epoch) {
    return "epoch " + g.previous_epoch + " -> " + g.epoch;
  }
  return "server's newest id below the cursor " + std::to_string(g.last_seen_id.value_or(0));
}

}  // namespace

GapEvent Lifecycle::retention_gap(const protocol::Welcome& w, std::optional<std::uint64_t> cursor) {
  GapEvent g;
  g.reason = GapReason::retention;
  g.last_seen_id = cursor;
  g.first_available_id = w.from_id.value_or(w.head_id.value_or(0));
  g.missing = w.missed;
  g.epoch = w.epoch;
  return g;
}

std::optional<GapEvent> Lifecycle::reset_gap(const protocol::Welcome& w, std::uint64_t resumed_from) const {
  if (!cursor_) return std::nullopt;  // a new device: nothing to compare
  const bool epoch_changed = !w.epoch.empty() && !epoch_.empty() && w.epoch != epoch_;
  // Against the cursor this connection resumed from, not the current one: while a
  // switch connection is being welcomed, the old connection may already have delivered
  // ids published after the new one's head was read.
  const bool behind = w.head_id && *w.head_id < resumed_from;
  if (!epoch_changed && !behind) return std::nullopt;
  GapEvent g;
  g.reason = GapReason::reset;
  g.last_seen_id = cursor_;
  g.first_available_id = 0;
  g.previous_epoch = epoch_;
  g.epoch = w.epoch;
  return g;
}

void Lifecycle::restart_after_reset(Actions& out, SteadyTime now, GapEvent gap, bool was_handover) {
  const std::string detail = describe_reset(gap);
  out.emplace_back(Log{LogLevel::warn, "the server's history was reset (" + detail + "); the cursor starts over"});
  out.emplace_back(ReportGap{gap});
  cursor_ = 0;
  epoch_ = std::move(gap.epoch);
  out.emplace_back(SaveCursor{Cursor{0, epoch_}});
  // Neither stream can be used: each replays after an id of the old history.
  if (handover_) {
    out.emplace_back(CloseConnection{handover_->id, 1000, "history reset"});
    out.emplace_back(CancelTimer{TimerKind::handover_timeout});
    handover_.reset();
  }
  out.emplace_back(CloseConnection{current_->id, 1000, "history reset"});
  if (resets_in_a_row_++ > 0) {  // the epoch keeps changing: do not reconnect in a loop
    retry_later(out, now, make_error_code(errc::history_reset), detail);
    return;
  }
  end_connection(out);
  // Found on the current connection's welcome, the application still sees connecting
  // (or reconnecting); found on a handover's, it had seen connected.
  if (was_handover) set_state(out, State::reconnecting, make_error_code(errc::history_reset), detail);
  append_actions(out, begin_attempt(now));
}

void Lifecycle::adopt_resume(Actions& out, const protocol::Welcome& w) {
  resets_in_a_row_ = 0;
  bool changed = false;
  if (!w.epoch.empty() && w.epoch != epoch_) {  // first seen (reset_gap ruled out a change)
    epoch_ = w.epoch;
    changed = true;
  }
  if (!cursor_ && w.head_id) {
    // A new device joins the stream at its head: from now on it resumes from there, so
    // what is published while it is disconnected (or the app is closed) is replayed.
    cursor_ = *w.head_id;
    changed = true;
  }
  if (changed) out.emplace_back(SaveCursor{Cursor{*cursor_, epoch_}});
}

}  // namespace herald::detail
