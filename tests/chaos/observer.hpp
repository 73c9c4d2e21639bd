// Collects what a herald::Client hands the application (notifications, state events
// with the time they arrived) and lets a test wait on a predicate over it (condition
// variable; no sleeps). Unlike support/Recorder, the predicate sees the data itself, so
// it can count without re-locking.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "herald/client.hpp"

namespace herald::test {

struct Observed {
  std::vector<Notification> notifications;
  std::vector<StateEvent> states;
  std::vector<std::chrono::system_clock::time_point> state_times;  ///< when each state event arrived

  std::vector<std::uint64_t> ids() const {
    std::vector<std::uint64_t> v;
    v.reserve(notifications.size());
    for (const auto& n : notifications) v.push_back(n.id);
    return v;
  }
  std::size_t count_state(State s) const {
    std::size_t n = 0;
    for (const auto& e : states) n += e.state == s ? 1 : 0;
    return n;
  }
};

class Observer {
 public:
  void attach(Client& c) {
    c.on_notification([this](const Notification& n) {
      std::lock_guard l(m_);
      seen_.notifications.push_back(n);
      cv_.notify_all();
    });
    c.on_state([this](const StateEvent& e) {
      std::lock_guard l(m_);
      seen_.states.push_back(e);
      seen_.state_times.push_back(std::chrono::system_clock::now());
      cv_.notify_all();
    });
  }
  bool wait(const std::function<bool(const Observed&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    std::unique_lock l(m_);
    return cv_.wait_for(l, timeout, [&] { return pred(seen_); });
  }
  bool wait_delivered(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    return wait([n](const Observed& o) { return o.notifications.size() >= n; }, timeout);
  }
  bool wait_state(State s, std::size_t nth = 1, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    return wait([s, nth](const Observed& o) { return o.count_state(s) >= nth; }, timeout);
  }
  Observed snapshot() const {
    std::lock_guard l(m_);
    return seen_;
  }
  std::size_t delivered() const {
    std::lock_guard l(m_);
    return seen_.notifications.size();
  }
  std::vector<std::uint64_t> ids() const {
    std::lock_guard l(m_);
    return seen_.ids();
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  Observed seen_;
};

}  // namespace herald::test
