// Notification storage: the durable history every stream replays from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace herald::server::detail {

struct StoredNotification {
  std::uint64_t id = 0;  ///< global, strictly increasing, never reused, < 2^53
  std::string user_id;
  std::int64_t created_at_ms = 0;  ///< unix milliseconds
  std::string topic;
  std::string data_json;  ///< compact JSON object text
};

/// What a resuming stream needs to know about one user's history.
struct UserStreamState {
  std::uint64_t head_id = 0;         ///< newest id ever stored for the user (0: none)
  std::uint64_t pruned_through = 0;  ///< highest id pruned by retention (0: none)
};

/// Thread safety: every member may be called from any thread (implementations lock).
/// Errors: std::runtime_error on storage failure (message names the operation only).
class NotificationStore {
 public:
  virtual ~NotificationStore() = default;

  /// Stores a notification, then prunes the user's history to the retention limit.
  virtual StoredNotification append(const std::string& user_id, const std::string& topic, const std::string& data_json,
                                    std::int64_t created_at_ms) = 0;

  /// Up to `limit` retained notifications of `user_id` with id > `after_id`, by id.
  virtual std::vector<StoredNotification> read_after(const std::string& user_id, std::uint64_t after_id,
                                                     std::size_t limit) = 0;

  virtual UserStreamState state(const std::string& user_id) = 0;

  /// The history's epoch (welcome.resume.epoch): created once with the store, kept across
  /// restarts, new for a new (or emptied and recreated) database. Ids are comparable only
  /// within one epoch.
  virtual std::string epoch() = 0;

  /// Records that every token of `user_id` issued at or before `at_ms` (unix ms) is
  /// revoked. Never moves an earlier revoke back; returns the instant now in effect.
  virtual std::int64_t revoke_tokens(const std::string& user_id, std::int64_t at_ms) = 0;

  /// The instant recorded by revoke_tokens() for `user_id`; nullopt: never revoked.
  virtual std::optional<std::int64_t> tokens_revoked_at(const std::string& user_id) = 0;

  /// The latest instant recorded by revoke_tokens() for any user (0: none).
  virtual std::int64_t latest_revoke() = 0;
};

/// SQLite store (WAL mode for a file; ":memory:" for a private in-memory database).
/// Keeps the newest `retention` notifications per user (retention >= 1).
std::unique_ptr<NotificationStore> open_sqlite_store(const std::string& path, std::uint64_t retention);

}  // namespace herald::server::detail
