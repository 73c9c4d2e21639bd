// Collects what a herald::Client hands the application, and lets a test wait for it
// (condition variable; no sleeps).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "herald/client.hpp"

namespace herald::test {

/// For state that raises no event (a server's connection count, a metric): polls
/// `pred` every millisecond until it holds or `timeout` passes. Prefer Recorder::wait
/// wherever a callback announces the change.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

class Recorder {
 public:
  void attach(Client& c) {
    c.on_notification([this](const Notification& n) {
      std::lock_guard l(m_);
      notifications_.push_back(n);
      arrivals_.push_back(std::chrono::steady_clock::now());
      cv_.notify_all();
    });
    c.on_state([this](const StateEvent& e) {
      std::lock_guard l(m_);
      states_.push_back(e);
      cv_.notify_all();
    });
    c.on_gap([this](const GapEvent& g) {
      std::lock_guard l(m_);
      gaps_.push_back(g);
      cv_.notify_all();
    });
  }

  /// Waits until `pred` holds (evaluated under the lock) or `timeout` passes.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, timeout, pred);
  }
  bool wait_ids(std::size_t n) {
    return wait([&] { return notifications_.size() >= n; });
  }
  bool wait_gaps(std::size_t n) {
    return wait([&] { return gaps_.size() >= n; });
  }
  bool wait_state(State s, std::size_t nth = 1) {
    return wait([&] { return count_state_locked(s) >= nth; });
  }
  /// The first state event whose reason is `reason`, waited for (bounded).
  std::optional<StateEvent> wait_reason(std::error_code reason) {
    std::optional<StateEvent> found;
    wait([&] {
      for (const auto& e : states_) {
        if (e.reason == reason) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<std::uint64_t> ids() const {
    std::lock_guard l(m_);
    std::vector<std::uint64_t> out;
    for (const auto& n : notifications_) out.push_back(n.id);
    return out;
  }
  std::vector<Notification> notifications() const {
    std::lock_guard l(m_);
    return notifications_;
  }
  /// The longest time between two consecutive notifications handed over.
  std::chrono::steady_clock::duration longest_pause() const {
    std::lock_guard l(m_);
    std::chrono::steady_clock::duration longest{};
    for (std::size_t i = 1; i < arrivals_.size(); ++i) longest = std::max(longest, arrivals_[i] - arrivals_[i - 1]);
    return longest;
  }
  std::vector<StateEvent> states() const {
    std::lock_guard l(m_);
    return states_;
  }
  std::vector<GapEvent> gaps() const {
    std::lock_guard l(m_);
    return gaps_;
  }
  std::size_t count_state(State s) const {
    std::lock_guard l(m_);
    return count_state_locked(s);
  }

 private:
  std::size_t count_state_locked(State s) const {
    std::size_t n = 0;
    for (const auto& e : states_) n += e.state == s ? 1 : 0;
    return n;
  }

  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<Notification> notifications_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
  std::vector<StateEvent> states_;
  std::vector<GapEvent> gaps_;
};

}  // namespace herald::test
