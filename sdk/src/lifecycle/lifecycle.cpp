// The lifecycle's core: starting and stopping, opening connections, frames, liveness
// and timers. How attempts end and are retried is in lifecycle_retry.cpp; tokens in
// lifecycle_refresh.cpp; make-before-break in lifecycle_handover.cpp; resume in
// lifecycle_resume.cpp.
#include "lifecycle/lifecycle.hpp"

#include <algorithm>
#include <utility>

namespace herald::detail {

Lifecycle::Lifecycle(LifecycleConfig config, RandomSource random, std::optional<Cursor> cursor)
    : config_(config),
      random_(random),
      backoff_(config.backoff_initial, config.backoff_max, std::move(random), config.jitter),
      retry_budget_(config.max_attempts, config.max_elapsed),
      refresh_backoff_(make_refresh_backoff(config, random_)) {
  if (cursor) {
    cursor_ = cursor->id;
    epoch_ = std::move(cursor->epoch);
  }
}

Actions Lifecycle::start(SteadyTime now) {
  if (phase_ != Phase::idle) return {};
  Actions out;
  set_state(out, State::connecting);
  append_actions(out, begin_attempt(now));
  return out;
}

Actions Lifecycle::stop(SteadyTime /*now*/) {
  if (phase_ == Phase::stopped) return {};
  Actions out;
  close_all(out);
  for (std::size_t k = 0; k < kTimerKinds; ++k) out.emplace_back(CancelTimer{static_cast<TimerKind>(k)});
  fetching_ = false;
  enter(Phase::stopped);
  set_state(out, State::stopped);
  return out;
}

Actions Lifecycle::begin_attempt(SteadyTime now) {
  ended_stable_ = false;
  // No attempt with a token known to be expired, nor with one due for its refresh.
  const bool refresh_due = refresh_at_ && now >= *refresh_at_;
  if (token_usable(now) && !refresh_due) return open_connection(now);
  if (!token_usable(now)) {
    token_.reset();
    token_expires_at_.reset();
    token_lifetime_.reset();
  }
  enter(Phase::fetching_token);
  Actions out;
  request_token(out, now);  // or wait for the fetch already under way
  return out;
}

Actions Lifecycle::open_connection(SteadyTime /*now*/) {
  retire_current();
  enter(Phase::connection);
  current_ = new_connection();
  return {OpenConnection{current_->id, *token_, cursor_}};
}

Connection Lifecycle::new_connection() {
  Connection c;
  c.id = ++last_conn_id_;
  c.token_gen = token_gen_;
  c.sent_up_to = cursor_.value_or(0);
  // Until its welcome: the heartbeat of the connection it follows (a reconnect) or
  // replaces (a switch), so a half-open successor is found out as fast.
  c.heartbeat = current_ ? current_->heartbeat : next_heartbeat_;
  return c;
}

void Lifecycle::enter(Phase phase) {
  if (phase != Phase::connection) retire_current();
  phase_ = phase;
}

void Lifecycle::retire_current() {
  if (!current_) return;
  next_heartbeat_ = current_->heartbeat;
  current_.reset();
}

void Lifecycle::accept_welcome(Connection& c, const protocol::Welcome& w) {
  c.welcomed = true;
  c.heartbeat = std::chrono::seconds{w.heartbeat_s};
  c.reauth = std::find(w.features.begin(), w.features.end(), "reauth") != w.features.end();
}

void Lifecycle::close_all(Actions& out) {
  if (current_) out.emplace_back(CloseConnection{current_->id, 1000, "client stopped"});
  if (handover_) out.emplace_back(CloseConnection{handover_->id, 1000, "client stopped"});
  handover_.reset();
}

Actions Lifecycle::connected(SteadyTime now, ConnId conn) {
  if (handover_ && conn == handover_->id) {
    ++connects_;
    return handover_event(now, conn, "open", false);
  }
  if (!current_ || conn != current_->id || current_->open) return {};
  if (connects_++ > 0) ++reconnects_;
  current_->open = true;
  heard_from(*current_, now);
  return {ArmTimer{TimerKind::liveness, now + current_->heartbeat}};
}

std::chrono::milliseconds Lifecycle::liveness_limit() const { return 2 * current_->heartbeat + config_.liveness_slack; }

void Lifecycle::heard_from(Connection& c, SteadyTime now) {
  c.last_activity = now;
  c.pinged = false;
}

void Lifecycle::activity(SteadyTime now, ConnId conn) {
  if (is_open() && conn == current_->id) heard_from(*current_, now);
}

Actions Lifecycle::deliver(Notification&& n, std::uint64_t& sent_up_to) {
  const bool first_on_this_connection = n.id > sent_up_to;
  sent_up_to = std::max(sent_up_to, n.id);
  if (cursor_ && n.id <= *cursor_) {
    if (!first_on_this_connection) ++duplicates_;  // else our other connection had it first
    return {};
  }
  cursor_ = n.id;
  return {Deliver{std::move(n)}};
}

Actions Lifecycle::frame(SteadyTime now, ConnId conn, protocol::DecodeResult decoded) {
  if (handover_ && conn == handover_->id) return handover_frame(now, std::move(decoded));
  if (!is_open() || conn != current_->id) return {};
  auto& current = *current_;
  heard_from(current, now);
  Actions out;
  if (!decoded) {
    std::string detail = std::string("malformed frame: ") + protocol::to_string(decoded.error);
    if (!decoded.detail.empty()) detail += " (" + decoded.detail + ")";
    out.emplace_back(CloseConnection{current.id, 4004, "protocol error"});
    retry_later(out, now, make_error_code(errc::protocol_violation), std::move(detail));
    return out;
  }
  auto& msg = decoded.message;
  if (auto* w = std::get_if<protocol::Welcome>(&msg)) {
    if (current.welcomed) return {Log{LogLevel::warn, "ignoring a second welcome"}};
    if (auto gap = reset_gap(*w, current.sent_up_to)) {  // (before the welcome: the cursor it resumed from)
      restart_after_reset(out, now, std::move(*gap), /*was_handover=*/false);
      return out;
    }
    accept_welcome(current, *w);
    out.emplace_back(ArmTimer{TimerKind::liveness, now + current.heartbeat});
    expired_token_retry_used_ = false;
    invalid_token_retry_used_ = false;
    out.emplace_back(Log{LogLevel::info, "connected (session " + w->session_id + ", head " +
                                             (w->head_id ? std::to_string(*w->head_id) : std::string("unknown")) +
                                             ")"});
    set_state(out, State::connected);
    if (w->resume == protocol::ResumeStatus::gap) out.emplace_back(ReportGap{retention_gap(*w, cursor_)});
    adopt_resume(out, *w);
    maybe_refresh(out, now);  // a token that came while this connection was being set up
    return out;
  }
  if (!current.welcomed) {
    out.emplace_back(CloseConnection{current.id, 4004, "protocol error"});
    retry_later(out, now, make_error_code(errc::protocol_violation), "message before welcome");
    return out;
  }
  if (auto* n = std::get_if<Notification>(&msg)) {
    return deliver(std::move(*n), current.sent_up_to);
  }
  if (auto* c = std::get_if<protocol::CaughtUp>(&msg)) {
    current.caught_up_at = now;
    out.emplace_back(Log{LogLevel::debug, "caught up at head " + std::to_string(c->head_id)});
  } else if (auto* d = std::get_if<protocol::Drain>(&msg)) {
    // Move at a random moment inside the window, so a drained fleet spreads out.
    current.drain_deadline = now + d->reconnect_within;
    schedule_move(out, now);
  } else if (std::holds_alternative<protocol::ReauthOk>(msg)) {
    reauth_confirmed(out, now);
  } else if (auto* e = std::get_if<protocol::ServerError>(&msg)) {
    out.emplace_back(Log{LogLevel::warn, "server error: " + e->code});
  } else if (auto* u = std::get_if<protocol::Unknown>(&msg)) {
    out.emplace_back(Log{LogLevel::debug, "ignoring message of unknown type '" + u->type + "'"});
  }
  return out;
}

Actions Lifecycle::timer(SteadyTime now, TimerKind kind) {
  Actions out;
  switch (kind) {
    case TimerKind::reconnect:
      if (phase_ == Phase::waiting) return begin_attempt(now);
      break;
    case TimerKind::token_timeout:
      // The fetch is abandoned (its late answer is ignored); a later one may start.
      if (!fetching_) break;
      fetching_ = false;
      token_failed(out, now, "token fetch timed out");
      break;
    case TimerKind::refresh: maybe_refresh(out, now); break;
    case TimerKind::reauth: reauth_timed_out(out, now); break;
    case TimerKind::handover_timeout:
      if (handover_) {
        drop_handover(out, "not caught up within " + std::to_string(config_.handover_timeout.count()) + " ms");
        handover_gone(out, now);
      }
      break;
    case TimerKind::handover:
      if (is_live() && !handover_) return start_handover(now, "server draining");
      break;
    case TimerKind::liveness: {
      if (!is_open()) break;
      auto& c = *current_;
      const auto silent = now - c.last_activity;
      if (silent >= liveness_limit()) {
        out.emplace_back(CloseConnection{c.id, 1000, "liveness timeout", /*abort=*/true});
        retry_later(out, now, make_error_code(errc::liveness_timeout),
                    "no frame for " + std::to_string(liveness_limit().count()) + " ms");
        break;
      }
      if (silent >= c.heartbeat && !c.pinged) {
        c.pinged = true;  // idle: provoke a pong
        out.emplace_back(SendPing{c.id});
      }
      const auto next = c.pinged ? c.last_activity + liveness_limit() : c.last_activity + c.heartbeat;
      out.emplace_back(ArmTimer{TimerKind::liveness, next});
      break;
    }
  }
  return out;
}

Actions Lifecycle::reconnect_now(SteadyTime now) {
  if (phase_ == Phase::waiting && retry_after_ && now < retry_after_->until) {
    // The server asked to wait, but the network changed: its answer may not hold any
    // more. Come back soon, not at once, and never sooner than an earlier call said.
    const auto at = now + config_.reconnect_now_within;
    if (at >= retry_after_->until) {
      return {Log{LogLevel::info, "reconnect requested; the server's Retry-After ends sooner anyway"}};
    }
    forgive_failures();
    Actions out{Log{LogLevel::info, "reconnect requested after a network change; trying within " +
                                        std::to_string(config_.reconnect_now_within.count()) +
                                        " ms despite the server's Retry-After"}};
    last_delay_ = config_.reconnect_now_within;
    auto window = std::move(*retry_after_);
    retry_at(out, at, window.why, window.detail);  // (resets retry_after_)
    window.until = at;
    retry_after_ = std::move(window);
    return out;
  }
  if (phase_ == Phase::waiting) {
    forgive_failures();
    Actions out{CancelTimer{TimerKind::reconnect}};
    append_actions(out, begin_attempt(now));
    return out;
  }
  if (is_live() && !handover_) return start_handover(now, "reconnect requested");
  return {};
}

void Lifecycle::end_connection(Actions& out) {
  out.emplace_back(CancelTimer{TimerKind::liveness});
  out.emplace_back(CancelTimer{TimerKind::handover});
  if (reauth_gen_) out.emplace_back(CancelTimer{TimerKind::reauth});
  reauth_gen_.reset();  // the next connection authenticates with the newest token anyway
}

void Lifecycle::schedule_move(Actions& out, SteadyTime now) {
  // The last fifth of the window (at most 5 s) is left for the switch itself: a move
  // that starts at the very end cannot finish before the server closes the old one.
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*current_->drain_deadline - now);
  const auto margin = std::min(left / 5, std::chrono::milliseconds{5000});
  const auto upper = static_cast<std::uint64_t>(std::max<std::int64_t>((left - margin).count(), 0));
  const auto at = now + std::chrono::milliseconds{static_cast<std::int64_t>(random_upto(upper))};
  out.emplace_back(ArmTimer{TimerKind::handover, at});
  out.emplace_back(Log{LogLevel::info, "server is draining; moving within " + std::to_string(upper) + " ms"});
}

std::uint64_t Lifecycle::random_upto(std::uint64_t upper) { return std::min(random_(upper), upper); }

void Lifecycle::set_state(Actions& out, State s, std::error_code why, std::string detail,
                          std::optional<SteadyTime> next) {
  if (s == public_state_ && s != State::reconnecting) return;
  public_state_ = s;
  out.emplace_back(ReportState{s, why, std::move(detail), next});
}

}  // namespace herald::detail
