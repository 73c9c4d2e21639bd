// The door between a client and the callbacks it gave to the application's dispatcher
// (ClientOptions::callback_dispatcher). A dispatched callback runs only through an open
// gate; the application's stop() closes it and waits for a callback that is running on
// another thread, so no callback runs after stop() returns — while a callback that calls
// stop() itself is not waited for, and its notification is reported as taken.
//
// Shared by the client and every task it dispatched (a task may run, or be dropped,
// after the client is gone).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

namespace herald::detail {

class CallbackGate {
 public:
  /// Before a dispatched callback: false once closed (the callback must not run).
  /// `notification`: the id of the notification it hands over, if it does.
  bool enter(std::optional<std::uint64_t> notification) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    inside_ = Inside{std::this_thread::get_id(), notification};
    return true;
  }

  /// After it returned.
  void leave() {
    std::lock_guard lock(mutex_);
    inside_.reset();
    cv_.notify_all();
  }

  /// Closes the gate. Called from inside the running callback: returns its
  /// notification's id, if any. Otherwise, with `wait`, returns once the callback
  /// running on another thread (if any) has left.
  std::optional<std::uint64_t> close(bool wait) {
    std::unique_lock lock(mutex_);
    closed_ = true;
    if (inside_ && inside_->thread == std::this_thread::get_id()) return inside_->notification;
    if (wait) cv_.wait(lock, [this] { return !inside_; });
    return std::nullopt;
  }

 private:
  struct Inside {
    std::thread::id thread;
    std::optional<std::uint64_t> notification;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  bool closed_ = false;
  std::optional<Inside> inside_;  // the callback running now
};

}  // namespace herald::detail
