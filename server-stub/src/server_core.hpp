// State shared by the listener, the sessions and the public Server: options, store,
// token service, admin key and the connection registry.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "admin_key.hpp"
#include "connections.hpp"
#include "herald/server/server.hpp"
#include "store.hpp"
#include "token_service.hpp"

namespace boost::asio::ssl {
class context;
}

namespace herald::server::detail {

/// Largest `data` object accepted for one notification (compact JSON bytes).
inline constexpr std::size_t kMaxDataBytes = 64 * 1024;
/// Longest drain window (ServerOptions::drain_window, Server::drain, the admin API).
inline constexpr std::chrono::milliseconds kMaxDrainWindow = std::chrono::minutes(10);

class ServerCore {
 public:
  /// Validates `options` (std::invalid_argument naming the field) and opens the store.
  ServerCore(ServerOptions options, boost::asio::io_context& io);

  const ServerOptions& options() const noexcept { return options_; }
  NotificationStore& store() noexcept { return *store_; }
  const TokenService& tokens() const noexcept { return tokens_; }
  const AdminKey& admin_key() const noexcept { return admin_key_; }
  boost::asio::io_context& io() noexcept { return io_; }
  /// The TLS context when ServerOptions::tls_cert_file is set, else nullptr.
  boost::asio::ssl::context* tls_context() const noexcept { return tls_.get(); }
  /// I/O thread only (see ConnectionRegistry).
  ConnectionRegistry& connections() noexcept { return connections_; }

  /// Any thread. Validates, stores, then queues the fan-out on the I/O thread. Stores
  /// and queues under one lock, so fan-outs run in id order. Throws
  /// std::invalid_argument (bad user id, topic or data) or std::runtime_error (store).
  std::uint64_t publish(const std::string& user_id, const std::string& topic, const std::string& data_json);

  /// Any thread. Throws std::invalid_argument on a bad user id. The token's issue time
  /// (claim iat_ms) is later than every revoke this process recorded before the call.
  std::string issue_token(const std::string& user_id, std::chrono::seconds ttl,
                          std::int64_t* expires_at = nullptr) const;

  /// Any thread. Revokes every token of `user_id` issued until now (persisted), then
  /// has the user's live streams closed with 4003. Returns the revoke instant (unix ms).
  /// Throws std::invalid_argument (bad user id) or std::runtime_error (store).
  std::int64_t revoke(const std::string& user_id);
  /// Any thread. True when `claims` were issued at or before a revoke of their user.
  bool is_revoked(const TokenClaims& claims);

  /// Any thread. Starts draining (see Server::drain); a second call changes nothing.
  /// Returns the time left of the window in effect. Throws std::invalid_argument when
  /// `window` is outside 0..10 min.
  std::chrono::milliseconds drain(std::chrono::milliseconds window);
  /// Any thread.
  bool draining() const noexcept { return draining_.load(); }
  /// Any thread. Time left of the drain window (0 once over); nullopt when not draining.
  std::optional<std::chrono::milliseconds> drain_remaining() const;
  /// Any thread. Blocks until drained (see Server::wait_drained) or stopped, at most
  /// until `deadline`; returns whether that happened.
  bool wait_drained_until(std::chrono::steady_clock::time_point deadline);
  void wait_drained();

  /// I/O thread: stop() begins. Cancels the drain timer, closes every connection.
  void shutdown();
  /// Any thread: stop() finished or began; wakes wait_drained().
  void mark_stopped();

 private:
  bool drained_locked() const;
  void notify_drain_waiters();
  void on_drain_started();  // I/O thread

  ServerOptions options_;
  boost::asio::io_context& io_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // wss:// servers only
  std::unique_ptr<NotificationStore> store_;
  TokenService tokens_;
  AdminKey admin_key_;
  ConnectionRegistry connections_;
  std::mutex publish_mutex_;

  // Revocation: the latest revoke instant recorded by this process (unix ms).
  mutable std::mutex revoke_mutex_;
  std::atomic<std::int64_t> last_revoke_ms_{0};

  // Drain state, guarded by drain_mutex_ (draining_ is also readable without it).
  mutable std::mutex drain_mutex_;
  std::condition_variable drain_cv_;
  std::atomic<bool> draining_{false};
  std::chrono::steady_clock::time_point drain_deadline_{};
  std::chrono::milliseconds drain_window_{0};
  bool drain_window_over_ = false;
  bool stopped_ = false;
  boost::asio::steady_timer drain_timer_;  // I/O thread only
};

}  // namespace herald::server::detail
