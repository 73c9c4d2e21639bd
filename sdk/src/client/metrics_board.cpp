#include "client/metrics_board.hpp"

#include <utility>

#include "lifecycle/lifecycle.hpp"

namespace herald::detail {

MetricsBoard::MetricsBoard(std::optional<std::uint64_t> cursor) { metrics_.cursor = cursor; }

void MetricsBoard::state(State s, std::error_code why) {
  std::lock_guard lock(mutex_);
  metrics_.state = s;
  if (why) metrics_.last_error = why;
}

void MetricsBoard::next_attempt(std::optional<std::chrono::system_clock::time_point> at,
                                std::chrono::milliseconds backoff) {
  std::lock_guard lock(mutex_);
  metrics_.next_attempt_at = at;
  metrics_.current_backoff = backoff;
}

void MetricsBoard::endpoint(std::string text) {
  std::lock_guard lock(mutex_);
  metrics_.endpoint = std::move(text);
}

void MetricsBoard::delivered(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  ++metrics_.notifications_delivered;
  metrics_.cursor = id;
}

void MetricsBoard::cursor(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  metrics_.cursor = id;
}

void MetricsBoard::counters(const Lifecycle& lifecycle) {
  std::lock_guard lock(mutex_);
  metrics_.token_refreshes = lifecycle.token_refreshes();
  metrics_.connects = lifecycle.connects();
  metrics_.reconnects = lifecycle.reconnects();
  metrics_.switches = lifecycle.switches();
  metrics_.duplicates_dropped = lifecycle.duplicates_dropped();
}

ClientMetrics MetricsBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  return metrics_;
}

}  // namespace herald::detail
