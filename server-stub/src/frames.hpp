// Server -> client frames of protocol v1, as JSON text. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store.hpp"

namespace herald::server::detail {

enum class ResumeStatus { fresh, ok, gap };

/// How a stream starts: decided from the cursor and the user's stored history.
struct ResumePlan {
  ResumeStatus status = ResumeStatus::fresh;
  std::optional<std::uint64_t> from_id;  ///< first id that will be replayed
  std::uint64_t head_id = 0;             ///< user's newest id (0: none)
  std::uint64_t replay_after = 0;        ///< replay ids > this (fresh: head_id)
  bool replay = false;                   ///< false for fresh streams (live only)
};

/// `first_after_cursor` is the oldest retained id > cursor, if any.
ResumePlan plan_resume(std::optional<std::uint64_t> last_seen_id, const UserStreamState& state,
                       std::optional<std::uint64_t> first_after_cursor);

struct WelcomeFrame {
  std::string session_id;
  std::string user_id;
  std::uint32_t heartbeat_s = 25;
  std::int64_t token_expires_at = 0;
  std::vector<std::string> features;
  ResumePlan resume;
  std::string epoch;  ///< the history's epoch (NotificationStore::epoch())
};

std::string encode_welcome(const WelcomeFrame& w);
std::string encode_notification(const StoredNotification& n);
std::string encode_caught_up(std::uint64_t head_id);
std::string encode_error(std::string_view code, std::string_view message);
std::string encode_drain(std::int64_t reconnect_within_ms);
/// {"type":"reauth_ok","expires_at":<unix s>}: answer to an accepted in-band reauth.
std::string encode_reauth_ok(std::int64_t expires_at);

}  // namespace herald::server::detail
