// Every open connection of the server, and the live WebSocket streams by user.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
  /// The server started draining: a stream announces `drain` with this window.
  virtual void on_drain_started(std::chrono::milliseconds /*reconnect_within*/) {}
  /// The drain window is over: a stream closes with 1001. HTTP keeps working.
  virtual void on_drain_ended() {}
};

/// What a connection is, for counting (wait_drained() waits for streams only).
enum class ConnectionKind { http, stream };

/// An authenticated stream that receives the user's live notifications.
class LiveStream {
 public:
  virtual ~LiveStream() = default;
  virtual void on_live(const StoredNotification& n) = 0;
  /// Tokens of the user issued at or before `revoked_at_ms` were revoked.
  virtual void on_revoked(std::int64_t revoked_at_ms) = 0;
};

/// Thread safety: every member except live_count(), stream_count() and
/// wait_live_count() runs on the I/O thread only.
class ConnectionRegistry {
 public:
  std::uint64_t add(std::weak_ptr<Connection> c, ConnectionKind kind = ConnectionKind::http);
  void remove(std::uint64_t id);

  void subscribe(const std::string& user_id, std::uint64_t id, std::weak_ptr<LiveStream> s);
  void unsubscribe(const std::string& user_id, std::uint64_t id);

  /// Hands `n` to every live stream of its user, in subscription order.
  void fan_out(const StoredNotification& n);
  /// Hands a revocation to every live stream of `user_id`.
  void revoke(const std::string& user_id, std::int64_t revoked_at_ms);
  /// on_drain_started() / on_drain_ended() on every connection.
  void drain_started(std::chrono::milliseconds reconnect_within);
  void drain_ended();
  /// shutdown() on every connection; new ones are refused from now on.
  void shutdown_all();
  bool shutting_down() const noexcept { return shutting_down_; }

  /// Subscribed streams; safe from any thread.
  std::size_t live_count() const noexcept { return live_count_.load(); }
  /// Blocks (any thread, not the I/O thread) until live_count() == n or `deadline`;
  /// true if reached. Woken by each change of the count, no polling.
  bool wait_live_count(std::size_t n, std::chrono::steady_clock::time_point deadline) const;
  /// WebSocket connections of any phase (also before authentication); any thread.
  std::size_t stream_count() const noexcept { return stream_count_.load(); }
  /// Called (I/O thread) each time stream_count() drops to zero. Set before use.
  void on_streams_gone(std::function<void()> f) { on_streams_gone_ = std::move(f); }

 private:
  struct Entry {
    std::weak_ptr<Connection> connection;
    ConnectionKind kind = ConnectionKind::http;
  };
  template <class F>
  void for_each_connection(F f);

  std::uint64_t next_id_ = 1;
  bool shutting_down_ = false;
  std::map<std::uint64_t, Entry> all_;
  std::unordered_map<std::string, std::map<std::uint64_t, std::weak_ptr<LiveStream>>> by_user_;
  void live_count_changed();

  std::atomic<std::size_t> live_count_{0};
  mutable std::mutex live_mutex_;  // only for waking wait_live_count()
  mutable std::condition_variable live_changed_;
  std::atomic<std::size_t> stream_count_{0};
  std::function<void()> on_streams_gone_;
};

}  // namespace herald::server::detail
