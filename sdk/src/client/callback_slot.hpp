// One of the application's callbacks (on_notification, on_state, on_gap), replaceable
// from any thread at any time while the I/O thread calls it. The I/O thread takes a
// reference to the current callback for each call, so a replacement never destroys a
// callback that is running — not even when the callback replaces itself.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace herald::detail {

template <class Event>
class CallbackSlot {
 public:
  using Callback = std::function<void(const Event&)>;

  /// From now on, calls go to `cb` (empty: nowhere). A call already under way on the
  /// I/O thread finishes with the callback it started with.
  void set(Callback cb) {
    std::shared_ptr<const Callback> next = cb ? std::make_shared<const Callback>(std::move(cb)) : nullptr;
    std::lock_guard lock(mutex_);
    current_.swap(next);
  }  // the replaced callback is released here, outside the lock

  /// The callback to call now (null: none); it stays alive while the caller holds it.
  std::shared_ptr<const Callback> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Callback> current_;
};

/// Calls `cb(event)`. Whatever it throws is caught: returns the line to log about it.
template <class Callback, class Event>
std::optional<std::string> call_guarded(const Callback& cb, const Event& event, const char* what) {
  try {
    cb(event);
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string(what) + " callback threw: " + e.what();
  } catch (...) {
    return std::string(what) + " callback threw";
  }
}

}  // namespace herald::detail
