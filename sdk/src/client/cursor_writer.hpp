// The client's writes to the application's CursorStore, on the client's strand: when the
// cursor may move (after the callback returned, or once acknowledged: DeliveryReceipt),
// saves buffered and flushed within ClientOptions::cursor_flush_interval, and a store
// that throws logged, never taking the client down.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "client/acknowledged_cursor.hpp"
#include "herald/cursor_store.hpp"
#include "herald/events.hpp"

namespace herald::detail {

class CursorWriter : public std::enable_shared_from_this<CursorWriter> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  using Log = std::function<void(LogLevel, const std::string&)>;

  /// `follow_acknowledgements`: the cursor moves only over taken() notifications;
  /// otherwise over those whose callback returned (handed_over()).
  CursorWriter(std::shared_ptr<CursorStore> store, std::chrono::milliseconds flush_interval, const Strand& strand,
               bool follow_acknowledgements, Log log);

  /// Notification `id` of `epoch` is about to be handed to the application.
  void handing_over(std::uint64_t id, const std::string& epoch);
  /// Its callback returned (a no-op when following acknowledgements).
  void handed_over(std::uint64_t id, const std::string& epoch);
  /// The application took notification `id` and everything before it (following
  /// acknowledgements only).
  void taken(std::uint64_t id);
  /// The lifecycle set the cursor (a history reset, joining at the head): stored and
  /// flushed once nothing delivered before it waits for an acknowledgement.
  void set(const Cursor& cursor);

  /// The client stopped: saves `in_flight` (the notification whose callback called
  /// stop(), when the callback's return is the receipt) and flushes. Acknowledgements
  /// still count, each flushed at once, until close().
  void stop(std::optional<Cursor> in_flight);
  /// The application's stop(): the store is not called any more.
  void close() { phase_ = Phase::closed; }

 private:
  enum class Phase { running, stopped, closed };

  void store(const std::optional<Cursor>& cursor);  // by phase: buffered, at once, or not
  void save(const Cursor& cursor);
  void flush();

  std::shared_ptr<CursorStore> store_;
  std::chrono::milliseconds flush_interval_;
  boost::asio::steady_timer flush_timer_;
  bool flush_pending_ = false;
  std::optional<AcknowledgedCursor> acknowledged_;
  Log log_;
  Phase phase_ = Phase::running;
};

}  // namespace herald::detail
