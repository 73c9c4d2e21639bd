// The connection lifecycle as a pure state machine: events in, actions out, no I/O.
// Time and randomness are inputs, so every rule is unit-tested with a fake clock.
// The Asio driver (client/client.cpp) feeds it events and carries out its actions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "herald/client.hpp"
#include "herald/error.hpp"
#include "lifecycle/backoff.hpp"
#include "protocol/codec.hpp"

namespace herald::detail {

using SteadyTime = std::chrono::steady_clock::time_point;
using ConnId = std::uint64_t;

struct LifecycleConfig {
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  /// A connection that stayed up this long after caught_up resets the backoff.
  std::chrono::milliseconds stable_after{10'000};
  std::chrono::milliseconds token_timeout{30'000};
  /// A token expiring sooner than this is treated as expired: fetch a fresh one first.
  std::chrono::milliseconds token_expiry_margin{5'000};
  /// Liveness: dead after 2 x heartbeat + this much silence.
  std::chrono::milliseconds liveness_slack{5'000};
};

enum class TimerKind { reconnect, token_timeout, liveness };

// ---- actions ---------------------------------------------------------------------
struct FetchToken {};
struct OpenConnection {
  ConnId conn = 0;
  std::string token;
  std::optional<std::uint64_t> last_seen_id;
};
struct CloseConnection {
  ConnId conn = 0;
  std::uint16_t code = 1000;
  std::string reason;
  bool abort = false;  ///< drop the transport without a close handshake (dead peer)
};
struct ArmTimer {
  TimerKind kind;
  SteadyTime at;
};
struct CancelTimer {
  TimerKind kind;
};
struct Deliver {
  Notification notification;
};
struct ReportState {
  State state;
  std::error_code reason;
  std::string detail;
  std::optional<SteadyTime> next_attempt_at;
};
struct ReportGap {
  GapEvent gap;
};
struct Log {
  LogLevel level;
  std::string message;
};
using Action = std::variant<FetchToken, OpenConnection, CloseConnection, ArmTimer, CancelTimer, Deliver,
                            ReportState, ReportGap, Log>;
using Actions = std::vector<Action>;

/// What ended a connection attempt or a connection.
struct HandshakeRefusal {
  unsigned status = 0;                              ///< HTTP status
  std::string error;                                ///< `error` of the JSON body
  std::optional<std::chrono::seconds> retry_after;  ///< Retry-After header
};

class Lifecycle {
 public:
  Lifecycle(LifecycleConfig config, RandomSource random, std::optional<std::uint64_t> cursor);

  Actions start(SteadyTime now);
  Actions stop(SteadyTime now);
  /// `expires_at` converted to the steady clock by the driver (nullopt: unknown).
  Actions token_ready(SteadyTime now, std::optional<std::string> token, std::optional<SteadyTime> expires_at,
                      std::string error);
  /// The TCP/TLS connection or the upgrade failed (no HTTP refusal).
  Actions connect_failed(SteadyTime now, ConnId conn, std::string detail);
  Actions handshake_refused(SteadyTime now, ConnId conn, const HandshakeRefusal& refusal);
  /// The upgrade succeeded; frames follow.
  Actions connected(SteadyTime now, ConnId conn);
  Actions frame(SteadyTime now, ConnId conn, protocol::DecodeResult decoded);
  /// Any sign of life on the connection (a frame, a ping, a pong).
  void activity(SteadyTime now, ConnId conn);
  /// The connection closed: by a close frame (`code` set) or by losing the transport.
  Actions closed(SteadyTime now, ConnId conn, std::optional<std::uint16_t> code, std::string reason);
  Actions timer(SteadyTime now, TimerKind kind);

  State state() const { return public_state_; }
  std::optional<std::uint64_t> cursor() const { return cursor_; }
  std::uint64_t duplicates_dropped() const { return duplicates_; }
  std::uint32_t attempts() const { return backoff_.attempts(); }

 private:
  enum class Phase { idle, fetching_token, connecting, open, waiting, stopped };

  Actions begin_attempt(SteadyTime now);
  Actions open_connection(SteadyTime now);
  void retry_later(Actions& out, SteadyTime now, std::error_code why, std::string detail,
                   std::optional<std::chrono::milliseconds> floor = std::nullopt);
  void retry_at(Actions& out, SteadyTime at, std::error_code why, std::string detail);
  void retry_now(Actions& out, SteadyTime now);
  void fail_permanently(Actions& out, std::error_code why, std::string detail);
  void set_state(Actions& out, State s, std::error_code why = {}, std::string detail = {},
                 std::optional<SteadyTime> next = std::nullopt);
  void end_connection(Actions& out);
  std::chrono::milliseconds liveness_limit() const;
  std::uint64_t backoff_random(std::uint64_t upper) { return random_(upper); }
  bool token_usable(SteadyTime now) const;

  LifecycleConfig config_;
  RandomSource random_;
  Backoff backoff_;
  Phase phase_ = Phase::idle;
  State public_state_ = State::idle;
  std::optional<std::uint64_t> cursor_;
  std::uint64_t duplicates_ = 0;

  ConnId conn_ = 0;  ///< the current connection attempt; events of others are stale
  std::optional<std::string> token_;
  std::optional<SteadyTime> token_expires_at_;
  bool fresh_token_retry_used_ = false;  ///< the one immediate retry after a 401
  bool refused_invalid_once_ = false;

  std::chrono::milliseconds heartbeat_{25'000};
  SteadyTime last_activity_{};
  bool welcomed_ = false;
  std::optional<SteadyTime> caught_up_at_;
  std::optional<std::chrono::milliseconds> drain_window_;
  bool ever_connected_ = false;
};

}  // namespace herald::detail
