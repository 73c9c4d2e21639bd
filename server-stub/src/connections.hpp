// Every open connection of the server, and the live WebSocket streams by user.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "store.hpp"

namespace herald::server::detail {

/// Anything stop() must close: HTTP sessions and WebSocket sessions.
class Connection {
 public:
  virtual ~Connection() = default;
  /// Ends the connection soon (WebSocket: close 1001, cut after a short grace period).
  virtual void shutdown() = 0;
};

/// An authenticated stream that receives the user's live notifications.
class LiveStream {
 public:
  virtual ~LiveStream() = default;
  virtual void on_live(const StoredNotification& n) = 0;
};

/// Thread safety: every member except live_count() runs on the I/O thread only.
class ConnectionRegistry {
 public:
  std::uint64_t add(std::weak_ptr<Connection> c);
  void remove(std::uint64_t id);

  void subscribe(const std::string& user_id, std::uint64_t id, std::weak_ptr<LiveStream> s);
  void unsubscribe(const std::string& user_id, std::uint64_t id);

  /// Hands `n` to every live stream of its user, in subscription order.
  void fan_out(const StoredNotification& n);
  /// shutdown() on every connection; new ones are refused from now on.
  void shutdown_all();
  bool shutting_down() const noexcept { return shutting_down_; }

  /// Subscribed streams; safe from any thread.
  std::size_t live_count() const noexcept { return live_count_.load(); }

 private:
  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  std::map<std::uint64_t, std::weak_ptr<Connection>> all_;
  std::unordered_map<std::string, std::map<std::uint64_t, std::weak_ptr<LiveStream>>> by_user_;
  std::atomic<std::size_t> live_count_{0};
};

}  // namespace herald::server::detail
