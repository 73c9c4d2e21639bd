#include "client/cursor_writer.hpp"

#include <exception>
#include <utility>

namespace herald::detail {

CursorWriter::CursorWriter(std::shared_ptr<CursorStore> store, std::chrono::milliseconds flush_interval,
                           const Strand& strand, bool follow_acknowledgements, Log log)
    : store_(std::move(store)), flush_interval_(flush_interval), flush_timer_(strand), log_(std::move(log)) {
  if (follow_acknowledgements) acknowledged_.emplace();
}

void CursorWriter::handing_over(std::uint64_t id, const std::string& epoch) {
  if (acknowledged_) store(acknowledged_->delivered(id, epoch));
}

void CursorWriter::handed_over(std::uint64_t id, const std::string& epoch) {
  if (!acknowledged_) store(Cursor{id, epoch});
}

void CursorWriter::taken(std::uint64_t id) {
  if (acknowledged_) store(acknowledged_->acknowledge(id));
}

void CursorWriter::set(const Cursor& cursor) {
  if (phase_ == Phase::closed) return;
  if (const auto now = acknowledged_ ? acknowledged_->set(cursor) : std::optional<Cursor>(cursor)) save(*now);
  flush();
}

void CursorWriter::stop(std::optional<Cursor> in_flight) {
  if (phase_ != Phase::running) return;
  phase_ = Phase::stopped;
  flush_timer_.cancel();
  if (in_flight && !acknowledged_) save(*in_flight);
  flush();
}

void CursorWriter::store(const std::optional<Cursor>& cursor) {
  if (!cursor || phase_ == Phase::closed) return;
  save(*cursor);
  if (phase_ == Phase::stopped) return flush();  // no timer any more
  if (flush_pending_) return;
  flush_pending_ = true;
  flush_timer_.expires_after(flush_interval_);
  flush_timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
    const auto self = w.lock();
    if (!self) return;
    self->flush_pending_ = false;
    if (!ec && self->phase_ == Phase::running) self->flush();
  });
}

void CursorWriter::save(const Cursor& cursor) {
  try {
    store_->save(cursor);
  } catch (const std::exception& e) {
    log_(LogLevel::error, std::string("cursor store save failed: ") + e.what());
  }
}

void CursorWriter::flush() {
  try {
    store_->flush();
  } catch (const std::exception& e) {
    log_(LogLevel::error, std::string("cursor store flush failed: ") + e.what());
  }
}

}  // namespace herald::detail
