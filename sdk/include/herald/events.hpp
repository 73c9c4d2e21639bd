// What a client tells the application besides notifications: its state, gaps in the
// stream, and log lines. Apart from client.hpp so that code which only renders or
// records these (bindings, lower layers of the SDK) does not include the client.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "herald/export.hpp"

namespace herald {

enum class LogLevel { trace, debug, info, warn, error, off };

/// Receives the SDK's log lines. Called from the I/O thread. Lines never contain tokens.
using LogSink = std::function<void(LogLevel, std::string_view message)>;

/// The connection's state as an application would render it.
enum class State {
  idle,          ///< constructed, not started
  connecting,    ///< first connection attempt (or a token fetch before it)
  connected,     ///< authenticated; live notifications flow (replay may still run)
  reconnecting,  ///< waiting for the next attempt after a failure
  stopped,       ///< stop() was called, or a permanent failure occurred
};
HERALD_API const char* to_string(State s) noexcept;

/// A state change, with the reason where there is one.
struct StateEvent {
  State state = State::idle;
  std::error_code reason;  ///< why we left `connected` or stopped (empty after stop())
  std::string detail;      ///< human detail for `reason` (never a token)
  /// When reconnecting: the moment of the next attempt.
  std::optional<std::chrono::system_clock::time_point> next_attempt_at;
};

/// Why a gap event was raised.
enum class GapReason {
  /// The server's retention pruned notifications after the cursor: those in
  /// (last_seen_id, first_available_id) are lost to this client.
  retention,
  /// The server's history started over (a restored or replaced database: its epoch
  /// changed, or its newest id is below the cursor). The cursor starts over too: the
  /// application is handed the new stream from its start, once each, in order. What the
  /// old history held after last_seen_id is lost to this client.
  reset,
};
HERALD_API const char* to_string(GapReason r) noexcept;

/// The server could no longer replay everything after the cursor. Resynchronise by
/// other means (for example reload the inbox over HTTP). Raised before the first
/// notification that follows the gap is handed over.
struct GapEvent {
  GapReason reason = GapReason::retention;
  /// The cursor the client resumed from (nullopt: none).
  std::optional<std::uint64_t> last_seen_id;
  /// retention: the oldest id the server still has after the cursor (0: none yet).
  /// reset: 0 — the new stream is handed over from its first retained id.
  std::uint64_t first_available_id = 0;
  /// How many notifications are lost, where the server says so (nullopt: unknown; ids
  /// are not dense, so a count cannot be inferred from them).
  std::optional<std::uint64_t> missing;
  /// reset: the epoch stored with the cursor and the server's new one ("" when unknown).
  std::string previous_epoch;
  std::string epoch;
};

}  // namespace herald
