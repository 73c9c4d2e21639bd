// What Client::metrics() reports: written by the driver on the client's strand, read as
// one consistent snapshot from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

#include "herald/client.hpp"

namespace herald::detail {

class Lifecycle;

class MetricsBoard {
 public:
  /// `cursor`: the stored cursor the client starts from.
  explicit MetricsBoard(std::optional<std::uint64_t> cursor);

  /// The state reported to the application; a `why` becomes the last error.
  void state(State s, std::error_code why = {});
  /// A reconnect is pending: when (nullopt: none) and the delay chosen for it.
  void next_attempt(std::optional<std::chrono::system_clock::time_point> at, std::chrono::milliseconds backoff);
  /// The stream URL of the attempt being made.
  void endpoint(std::string text);
  /// Notification `id` was handed to the application.
  void delivered(std::uint64_t id);
  /// The stream's position moved without a delivery (a history reset, a new device).
  void cursor(std::uint64_t id);
  /// The lifecycle's counters (connects, reconnects, switches, duplicates, refreshes).
  void counters(const Lifecycle& lifecycle);

  ClientMetrics snapshot() const;

 private:
  mutable std::mutex mutex_;
  ClientMetrics metrics_;
};

}  // namespace herald::detail
