// State shared by the listener, the sessions and the public Server: options, store,
// token service, admin key and the connection registry.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "admin_key.hpp"
#include "connections.hpp"
#include "herald/server/server.hpp"
#include "store.hpp"
#include "token_service.hpp"

namespace herald::server::detail {

/// Largest `data` object accepted for one notification (compact JSON bytes).
inline constexpr std::size_t kMaxDataBytes = 64 * 1024;

class ServerCore {
 public:
  /// Validates `options` (std::invalid_argument naming the field) and opens the store.
  ServerCore(ServerOptions options, boost::asio::io_context& io);

  const ServerOptions& options() const noexcept { return options_; }
  NotificationStore& store() noexcept { return *store_; }
  const TokenService& tokens() const noexcept { return tokens_; }
  const AdminKey& admin_key() const noexcept { return admin_key_; }
  boost::asio::io_context& io() noexcept { return io_; }
  /// I/O thread only (see ConnectionRegistry).
  ConnectionRegistry& connections() noexcept { return connections_; }

  /// Any thread. Validates, stores, then queues the fan-out on the I/O thread. Stores
  /// and queues under one lock, so fan-outs run in id order. Throws
  /// std::invalid_argument (bad user id, topic or data) or std::runtime_error (store).
  std::uint64_t publish(const std::string& user_id, const std::string& topic,
                        const std::string& data_json);

  /// Any thread. Throws std::invalid_argument on a bad user id.
  std::string issue_token(const std::string& user_id, std::chrono::seconds ttl,
                          std::int64_t* expires_at = nullptr) const;

 private:
  ServerOptions options_;
  boost::asio::io_context& io_;
  std::unique_ptr<NotificationStore> store_;
  TokenService tokens_;
  AdminKey admin_key_;
  ConnectionRegistry connections_;
  std::mutex publish_mutex_;
};

}  // namespace herald::server::detail
