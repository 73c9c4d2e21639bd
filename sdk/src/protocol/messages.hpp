// Typed protocol v1 messages (see docs/protocol.md). Pure data, no I/O.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "herald/cursor.hpp"
#include "herald/notification.hpp"

namespace herald::detail::protocol {

inline constexpr const char* kSubprotocol = "herald.v1";
inline constexpr const char* kStreamPath = "/v1/stream";
inline constexpr const char* kLastSeenHeader = "Herald-Last-Seen-Id";
/// Largest id the protocol allows (ids travel as JSON numbers, exact below 2^53).
inline constexpr std::uint64_t kMaxId = (std::uint64_t{1} << 53) - 1;

enum class ResumeStatus { ok, gap, fresh };

struct Welcome {
  std::string session_id;
  std::string user_id;
  std::uint32_t heartbeat_s = 25;
  std::optional<std::int64_t> token_expires_at;  ///< unix seconds
  std::vector<std::string> features;
  ResumeStatus resume = ResumeStatus::fresh;
  std::optional<std::uint64_t> from_id;
  /// The user's newest id (0: none); nullopt when the server did not say.
  std::optional<std::uint64_t> head_id;
  /// With status gap: how many notifications the server pruned after the cursor, when it
  /// says so (`resume.missed`, optional).
  std::optional<std::uint64_t> missed;
  /// The history's epoch; empty when the server sends none.
  std::string epoch;
};

struct CaughtUp {
  std::uint64_t head_id = 0;
};

struct ReauthOk {
  std::int64_t expires_at = 0;
};

struct Drain {
  std::chrono::milliseconds reconnect_within{0};
};

struct ServerError {
  std::string code;
  std::string message;
};

/// A message of a type this client does not know: ignored (forward compatibility).
struct Unknown {
  std::string type;
};

using ServerMessage = std::variant<Welcome, Notification, CaughtUp, ReauthOk, Drain, ServerError, Unknown>;

}  // namespace herald::detail::protocol
