// Collects what a herald::Client hands the application (notifications, state events and
// gaps, with the time each arrived), and lets a test wait for it (condition variable; no
// sleeps). The one recorder of every suite.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "herald/client.hpp"

namespace herald::test {

/// For state that raises no event (a server's connection count, a metric): polls
/// `pred` every millisecond until it holds or `timeout` passes. Prefer Recorder::wait
/// wherever a callback announces the change.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

/// What a client handed over, in order. A snapshot of it is a plain value.
struct Recording {
  std::vector<Notification> notifications;
  std::vector<std::chrono::steady_clock::time_point> arrivals;  ///< when each notification arrived
  std::vector<StateEvent> states;
  std::vector<std::chrono::system_clock::time_point> state_times;  ///< when each state event arrived
  std::vector<GapEvent> gaps;

  std::vector<std::uint64_t> ids() const {
    std::vector<std::uint64_t> out;
    out.reserve(notifications.size());
    for (const auto& n : notifications) out.push_back(n.id);
    return out;
  }
  std::size_t count_state(State s) const {
    return static_cast<std::size_t>(
        std::count_if(states.begin(), states.end(), [s](const StateEvent& e) { return e.state == s; }));
  }
  /// The longest time between two consecutive notifications handed over.
  std::chrono::steady_clock::duration longest_pause() const {
    std::chrono::steady_clock::duration longest{};
    for (std::size_t i = 1; i < arrivals.size(); ++i) longest = std::max(longest, arrivals[i] - arrivals[i - 1]);
    return longest;
  }
  /// The delays of successive reconnect schedules: each `reconnecting` event's
  /// next_attempt_at minus the moment it arrived.
  std::vector<std::chrono::milliseconds> reconnect_delays() const {
    std::vector<std::chrono::milliseconds> out;
    for (std::size_t i = 0; i < states.size(); ++i) {
      if (states[i].state != State::reconnecting || !states[i].next_attempt_at) continue;
      out.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*states[i].next_attempt_at - state_times[i]));
    }
    return out;
  }
};

/// The mean of d[first..last], in milliseconds.
inline double mean_ms(const std::vector<std::chrono::milliseconds>& d, std::size_t first, std::size_t last) {
  double sum = 0;
  for (auto i = first; i <= last; ++i) sum += static_cast<double>(d[i].count());
  return sum / static_cast<double>(last - first + 1);
}

class Recorder {
 public:
  /// The callbacks share what they record with this Recorder: a Recorder may go out of
  /// scope before the client it is attached to (declared after it, say) while callbacks
  /// still arrive, and they then write to nothing that is gone.
  void attach(Client& c) {
    c.on_notification([s = shared_](const Notification& n) {
      std::lock_guard l(s->m);
      s->seen.notifications.push_back(n);
      s->seen.arrivals.push_back(std::chrono::steady_clock::now());
      s->cv.notify_all();
    });
    c.on_state([s = shared_](const StateEvent& e) {
      std::lock_guard l(s->m);
      s->seen.states.push_back(e);
      s->seen.state_times.push_back(std::chrono::system_clock::now());
      s->cv.notify_all();
    });
    c.on_gap([s = shared_](const GapEvent& g) {
      std::lock_guard l(s->m);
      s->seen.gaps.push_back(g);
      s->cv.notify_all();
    });
  }

  /// Waits until `pred` holds or `timeout` passes. `pred` runs under the recorder's
  /// lock: it may look at other things, or (the second form) at the recording itself,
  /// but must not call the recorder.
  bool wait(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    std::unique_lock l(shared_->m);
    return shared_->cv.wait_for(l, timeout, pred);
  }
  bool wait(const std::function<bool(const Recording&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    return wait([&] { return pred(shared_->seen); }, timeout);
  }
  bool wait_ids(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    return wait([n](const Recording& r) { return r.notifications.size() >= n; }, timeout);
  }
  bool wait_gaps(std::size_t n) {
    return wait([n](const Recording& r) { return r.gaps.size() >= n; });
  }
  bool wait_state(State s, std::size_t nth = 1, std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    return wait([s, nth](const Recording& r) { return r.count_state(s) >= nth; }, timeout);
  }
  /// The first state event whose reason is `reason`, waited for (bounded).
  std::optional<StateEvent> wait_reason(std::error_code reason) {
    std::optional<StateEvent> found;
    wait([&](const Recording& r) {
      const auto it =
          std::find_if(r.states.begin(), r.states.end(), [&](const StateEvent& e) { return e.reason == reason; });
      if (it != r.states.end()) found = *it;
      return found.has_value();
    });
    return found;
  }

  Recording snapshot() const {
    std::lock_guard l(shared_->m);
    return shared_->seen;
  }
  std::size_t delivered() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.notifications.size();
  }
  std::vector<std::uint64_t> ids() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.ids();
  }
  std::vector<Notification> notifications() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.notifications;
  }
  std::chrono::steady_clock::duration longest_pause() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.longest_pause();
  }
  std::vector<StateEvent> states() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.states;
  }
  std::vector<GapEvent> gaps() const {
    std::lock_guard l(shared_->m);
    return shared_->seen.gaps;
  }
  std::size_t count_state(State s) const {
    std::lock_guard l(shared_->m);
    return shared_->seen.count_state(s);
  }

 private:
  struct Shared {
    std::mutex m;
    std::condition_variable cv;
    Recording seen;
  };
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace herald::test
