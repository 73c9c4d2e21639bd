// The connection lifecycle as a pure state machine: events in, actions out, no I/O.
// Time and randomness are inputs, so every rule is unit-tested with a fake clock.
// The Asio driver (client/client.cpp) feeds it events and carries out its actions.
#pragma once

#include <chrono>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "herald/cursor.hpp"
#include "herald/error.hpp"
#include "herald/events.hpp"
#include "herald/notification.hpp"
#include "lifecycle/backoff.hpp"
#include "lifecycle/close_reactions.hpp"
#include "lifecycle/retry_budget.hpp"
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
  /// Liveness: dead after 2 x heartbeat + this much silence; after one heartbeat of
  /// silence the client pings to provoke a pong.
  std::chrono::milliseconds liveness_slack{5'000};
  /// Give up (errc::retries_exhausted) after this many consecutive failed attempts;
  /// 0: never.
  std::uint32_t max_attempts = 0;
  /// Give up after failing for this long without a stable connection; 0: never.
  std::chrono::milliseconds max_elapsed{0};
  /// Full jitter on every reconnect delay. Off only to demonstrate reconnect storms.
  bool jitter = true;

  // ---- proactive token refresh (see schedule_refresh) ----
  bool refresh = true;
  /// Refresh at this fraction of the token's lifetime (iat → exp) ...
  double refresh_fraction = 0.75;
  /// ... or, when positive, this long after the token was issued.
  std::chrono::milliseconds refresh_interval{0};
  /// Random offset in ±(this fraction of the lifetime), so a fleet spreads out.
  double refresh_spread = 0.05;
  /// Never later than this before expiry (for tokens of at least 4 × this; a shorter
  /// token is refreshed no later than three quarters into its life).
  std::chrono::milliseconds refresh_deadline{30'000};
  /// An in-band reauth without reauth_ok in this time falls back to make-before-break.
  std::chrono::milliseconds reauth_timeout{10'000};
  /// A connection being switched to that is not caught up in this time is abandoned.
  std::chrono::milliseconds handover_timeout{30'000};
  /// A server's Retry-After longer than this counts as this long.
  std::chrono::milliseconds retry_after_max{300'000};
  /// Inside a Retry-After window, reconnect_now() moves the attempt to no later than
  /// this after the call.
  std::chrono::milliseconds reconnect_now_within{5'000};
};

enum class TimerKind { reconnect, token_timeout, liveness, handover, refresh, reauth, handover_timeout };
inline constexpr std::size_t kTimerKinds = 7;

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
struct SendPing {
  ConnId conn = 0;
};
/// Send {"type":"reauth","token":...} on `conn` (in-band token refresh).
struct SendReauth {
  ConnId conn = 0;
  std::string token;
};
/// Hand the notification to the application, then save the cursor (its id, with
/// `Lifecycle::epoch()`).
struct Deliver {
  Notification notification;
};
/// Save this cursor and flush the store now: the stream's position changed without a
/// delivery (a history reset starts over at 0; a new device adopts the head it joined at).
struct SaveCursor {
  Cursor cursor;
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
using Action = std::variant<FetchToken, OpenConnection, CloseConnection, ArmTimer, CancelTimer, SendPing, SendReauth,
                            Deliver, SaveCursor, ReportState, ReportGap, Log>;
using Actions = std::vector<Action>;

inline void append_actions(Actions& out, Actions&& more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

/// What ended a connection attempt or a connection.
struct HandshakeRefusal {
  unsigned status = 0;                              ///< HTTP status
  std::string error;                                ///< `error` of the JSON body
  std::optional<std::chrono::seconds> retry_after;  ///< Retry-After header
};

/// One connection as the lifecycle sees it, from its OpenConnection until it ends: the
/// current one, and the one being switched to (make-before-break) while it catches up;
/// a switch moves the latter into the place of the former. At namespace scope, not
/// nested in Lifecycle: clang 14 cannot default-construct a nested struct with default
/// member initialisers inside std::optional of its enclosing class.
struct Connection {
  ConnId id = 0;
  bool open = false;      ///< the upgrade succeeded (frames may follow)
  bool welcomed = false;  ///< its welcome was accepted
  /// The server's heartbeat, from the welcome. Before it: that of the connection it
  /// follows (see Lifecycle::next_heartbeat_) or, for a switch connection, replaces.
  std::chrono::milliseconds heartbeat{25'000};
  SteadyTime last_activity{};  ///< its last inbound sign of life (tracked while current)
  bool pinged = false;         ///< a ping went out since the last inbound activity
  /// Its caught_up, while current: stable_after counts from here (backoff forgiveness).
  std::optional<SteadyTime> caught_up_at;
  std::optional<SteadyTime> drain_deadline;  ///< a drain announced on it
  bool reauth = false;                       ///< its server advertised "reauth"
  std::uint64_t token_gen = 0;               ///< the token it authenticated with (generation)
  /// The highest id this connection sent, or the cursor it resumed from: an id at or
  /// below it that is dropped was sent twice by the server (a duplicate); one above
  /// it was delivered first by our other connection (overlap, not counted).
  std::uint64_t sent_up_to = 0;
};

class Lifecycle {
 public:
  /// `cursor`: what the application's CursorStore holds (nullopt: a new device).
  Lifecycle(LifecycleConfig config, RandomSource random, std::optional<Cursor> cursor);

  Actions start(SteadyTime now);
  Actions stop(SteadyTime now);
  /// The answer to FetchToken. `expires_at` and `issued_at` converted to the steady
  /// clock by the driver (nullopt: unknown; an unknown issue time counts as `now`).
  /// Without a token: `error` says why and `code` what kind (TokenResult::code); a
  /// permanent code stops the client with it, anything else is retried.
  Actions token_ready(SteadyTime now, std::optional<std::string> token, std::optional<SteadyTime> expires_at,
                      std::optional<SteadyTime> issued_at, std::string error, std::error_code code = {});
  /// The TCP/TLS connection or the upgrade failed (no HTTP refusal). `why` is
  /// connect_failed, or protocol_violation when the server did not select herald.v1.
  Actions connect_failed(SteadyTime now, ConnId conn, std::string detail, errc why = errc::connect_failed);
  Actions handshake_refused(SteadyTime now, ConnId conn, const HandshakeRefusal& refusal);
  /// The upgrade succeeded; frames follow.
  Actions connected(SteadyTime now, ConnId conn);
  Actions frame(SteadyTime now, ConnId conn, protocol::DecodeResult decoded);
  /// Any sign of life on the connection (a frame, a ping, a pong).
  void activity(SteadyTime now, ConnId conn);
  /// The connection closed: by a close frame (`code` set) or by losing the transport.
  Actions closed(SteadyTime now, ConnId conn, std::optional<std::uint16_t> code, std::string reason);
  Actions timer(SteadyTime now, TimerKind kind);
  /// The application learned that the network changed (or the app came to the
  /// foreground): a waiting client tries at once with its backoff reset; a connected
  /// one opens a new connection and switches to it once caught up (make-before-break).
  Actions reconnect_now(SteadyTime now);

  State state() const { return public_state_; }
  std::optional<std::uint64_t> cursor() const { return cursor_; }
  /// The epoch of the history the cursor belongs to ("" while unknown).
  const std::string& epoch() const { return epoch_; }
  /// Ids dropped because the same connection had sent them (or the cursor it resumed
  /// from) already; the overlap of two of our connections during a switch is not counted.
  std::uint64_t duplicates_dropped() const { return duplicates_; }
  /// Connections that completed their upgrade, switch connections included.
  std::uint64_t connects() const { return connects_; }
  /// Connections opened to replace a lost one (after the first; switches are not).
  std::uint64_t reconnects() const { return reconnects_; }
  /// Completed make-before-break switches (drain, reconnect_now(), token refresh).
  std::uint64_t switches() const { return switches_; }
  std::uint32_t attempts() const { return backoff_.attempts(); }
  /// The delay chosen for the pending (or last) reconnect.
  std::chrono::milliseconds last_delay() const { return last_delay_; }
  /// The connection being switched to (make-before-break), if any.
  std::optional<ConnId> handover_conn() const;
  /// When the current token is due for its proactive refresh (nullopt: never/unknown).
  std::optional<SteadyTime> refresh_at() const { return refresh_at_; }
  /// True while a FetchToken is outstanding.
  bool fetching_token() const { return fetching_; }
  /// Tokens handed to a live connection without a reconnect (reauth or switch).
  std::uint64_t token_refreshes() const { return token_refreshes_; }

 private:
  /// `connection`: current_ is set (an attempt, or open once Connection::open); in every
  /// other phase it is not (see enter()).
  enum class Phase { idle, fetching_token, connection, waiting, stopped };

  void enter(Phase phase);  ///< leaving Phase::connection retires current_
  void retire_current();    ///< current_ ends; its heartbeat is the next one's first guess
  bool is_open() const { return current_ && current_->open; }
  bool is_live() const { return is_open() && current_->welcomed; }  ///< open and welcomed
  Connection new_connection();                            ///< a new id, with the current token, cursor and heartbeat
  void close_all(Actions& out);                           ///< close the current and the switch connection
  static void heard_from(Connection& c, SteadyTime now);  ///< inbound activity on `c`
  static void accept_welcome(Connection& c, const protocol::Welcome& w);

  Actions begin_attempt(SteadyTime now);
  Actions open_connection(SteadyTime now);
  void set_state(Actions& out, State s, std::error_code why = {}, std::string detail = {},
                 std::optional<SteadyTime> next = std::nullopt);
  void end_connection(Actions& out);
  std::chrono::milliseconds liveness_limit() const;
  std::uint64_t random_upto(std::uint64_t upper);    ///< random_ clamped to [0, upper]
  void schedule_move(Actions& out, SteadyTime now);  ///< at a random moment before current_'s drain_deadline
  // endings and retries (lifecycle_retry.cpp)
  /// Carries out a reaction of close_reactions.hpp. `floor`: a Retry-After (backoff only).
  void react(Actions& out, SteadyTime now, Reaction reaction, std::error_code why, std::string detail,
             std::optional<std::chrono::milliseconds> floor = std::nullopt);
  void discard_token(TokenFate fate, SteadyTime now);
  /// True (once per welcome and kind) when a refusal is to be retried at once with a fresh token.
  bool take_fresh_token_retry(FreshTokenRetry kind);
  void retry_later(Actions& out, SteadyTime now, std::error_code why, std::string detail,
                   std::optional<std::chrono::milliseconds> floor = std::nullopt);
  void retry_at(Actions& out, SteadyTime at, std::error_code why, std::string detail);
  void retry_now(Actions& out, SteadyTime now);
  void fail_permanently(Actions& out, std::error_code why, std::string detail);
  void forgive_if_stable(SteadyTime now);
  void forgive_failures();  ///< a fresh start: the backoff and the retry budget
  // tokens and their refresh (lifecycle_refresh.cpp)
  bool token_usable(SteadyTime now) const;
  std::chrono::milliseconds expiry_margin() const;
  void request_token(Actions& out, SteadyTime now);  ///< single-flight FetchToken
  void accept_token(Actions& out, SteadyTime now, std::string token, std::optional<SteadyTime> expires_at,
                    std::optional<SteadyTime> issued_at);
  void token_failed(Actions& out, SteadyTime now, std::string why);
  void schedule_refresh(Actions& out, SteadyTime now);
  void retry_refresh_later(Actions& out, SteadyTime now, const std::string& why);
  static Backoff make_refresh_backoff(const LifecycleConfig& config, RandomSource random);
  void maybe_refresh(Actions& out, SteadyTime now);
  void apply_refresh(Actions& out, SteadyTime now);
  void reauth_confirmed(Actions& out, SteadyTime now);
  void reauth_timed_out(Actions& out, SteadyTime now);
  // make-before-break (lifecycle_handover.cpp)
  Actions start_handover(SteadyTime now, const char* why);
  Actions handover_event(SteadyTime now, ConnId conn, const char* what, bool failed);
  Actions handover_frame(SteadyTime now, protocol::DecodeResult decoded);
  /// `caught_up`: the new connection said caught_up (else the old one ended first).
  void promote_handover(Actions& out, SteadyTime now, bool caught_up);
  /// The current connection ended first, not by a permanent refusal: the switch
  /// connection takes its place (promoted if welcomed, else as a plain reconnect).
  void continue_on_handover(Actions& out, SteadyTime now, std::error_code why, const std::string& detail);
  /// Whether the switch connection can take the place of a current one that ended with
  /// `r`: not after a permanent failure, nor when it carries the token `r` condemned.
  bool handover_survives(const CloseReaction& r) const;
  void take_handover(SteadyTime now);  ///< moves handover_ into current_
  void drop_handover(Actions& out, const std::string& why, std::uint16_t close_code = 1000);
  void handover_gone(Actions& out, SteadyTime now);  ///< after a failed switch: retry a refresh later
  /// `sent_up_to`: of the connection that carried `n` (see Connection::sent_up_to).
  Actions deliver(Notification&& n, std::uint64_t& sent_up_to);
  // what a welcome's resume says: gaps, history resets, the epoch (lifecycle_resume.cpp)
  /// `resumed_from`: the cursor the welcomed connection sent (its Herald-Last-Seen-Id).
  std::optional<GapEvent> reset_gap(const protocol::Welcome& w, std::uint64_t resumed_from) const;
  void restart_after_reset(Actions& out, SteadyTime now, GapEvent gap, bool was_handover);
  void adopt_resume(Actions& out, const protocol::Welcome& w);
  static GapEvent retention_gap(const protocol::Welcome& w, std::optional<std::uint64_t> cursor);

  LifecycleConfig config_;
  RandomSource random_;
  Backoff backoff_;
  RetryBudget retry_budget_;  ///< max_attempts, max_elapsed
  /// Retries of a failed token refresh while the token lasts (half jitter; reset by each
  /// accepted token).
  Backoff refresh_backoff_;
  Phase phase_ = Phase::idle;
  State public_state_ = State::idle;
  std::optional<std::uint64_t> cursor_;
  std::string epoch_;  ///< the history cursor_ belongs to ("" while unknown)
  /// History resets seen since the last welcome without one: the first reconnects at
  /// once, further ones (a server whose epoch keeps changing) wait for the backoff.
  std::uint32_t resets_in_a_row_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t switches_ = 0;

  /// The current connection (in Phase::connection); events of others are stale.
  std::optional<Connection> current_;
  /// What a new current connection assumes until its welcome: the heartbeat of the one
  /// before it.
  std::chrono::milliseconds next_heartbeat_{25'000};
  ConnId last_conn_id_ = 0;  ///< ids are never reused
  std::optional<std::string> token_;
  std::optional<SteadyTime> token_expires_at_;
  std::optional<std::chrono::milliseconds> token_lifetime_;  ///< issue → expiry, when known
  std::optional<SteadyTime> refresh_at_;                     ///< the current token's proactive refresh point
  std::uint64_t token_gen_ = 0;                              ///< counts accepted tokens
  bool fetching_ = false;                                    ///< a FetchToken is outstanding (single flight)
  std::uint64_t token_refreshes_ = 0;
  std::optional<std::uint64_t> reauth_gen_;  ///< an in-band reauth in flight (token generation)
  /// The one immediate retry with a fresh token after a 401 (token_expired, or invalid)
  /// since the last welcome (see FreshTokenRetry).
  bool expired_token_retry_used_ = false;
  bool invalid_token_retry_used_ = false;

  std::chrono::milliseconds last_delay_{0};
  bool ended_stable_ = false;  ///< the connection that just ended had proved stable
  /// A server's Retry-After in force while waiting: no attempt before `until`, except
  /// that reconnect_now() brings it to at most reconnect_now_within away.
  struct RetryAfterWindow {
    SteadyTime until;
    std::error_code why;  ///< the refusal, reported again when reconnect_now() moves it
    std::string detail;
  };
  std::optional<RetryAfterWindow> retry_after_;

  /// The connection being switched to (make-before-break), while it catches up.
  std::optional<Connection> handover_;
  bool handover_wants_token_ = false;
  const char* move_reason_ = "";  ///< why the handover waiting for a token was wanted
};

}  // namespace herald::detail
