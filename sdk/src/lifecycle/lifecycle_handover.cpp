// Make-before-break: a second connection opened with the current token and cursor
// while the first keeps delivering; the switch happens at the new one's caught_up.
// Both streams are complete from their start and delivery drops ids at or below the
// cursor, so whichever delivers an id first wins and nothing is lost or doubled.
#include <algorithm>

#include "lifecycle/lifecycle.hpp"

namespace herald::detail {

std::optional<ConnId> Lifecycle::handover_conn() const {
  if (!handover_) return std::nullopt;
  return handover_->conn;
}

Actions Lifecycle::start_handover(SteadyTime now, const char* why) {
  if (handover_ || phase_ != Phase::open) return {};
  Actions out;
  if (!token_usable(now)) {
    if (handover_wants_token_) return {};
    handover_wants_token_ = true;  // accept_token() continues here
    move_reason_ = why;
    request_token(out, now);
    return out;
  }
  if (reauth_gen_) {  // an in-band refresh in flight is superseded by the new connection
    reauth_gen_.reset();
    out.emplace_back(CancelTimer{TimerKind::reauth});
  }
  handover_.emplace();
  handover_->conn = ++last_conn_id_;
  handover_->token_gen = token_gen_;
  handover_->sent_up_to = cursor_.value_or(0);
  out.emplace_back(Log{LogLevel::info, std::string("opening a new connection to switch to (") + why + ")"});
  out.emplace_back(OpenConnection{handover_->conn, *token_, cursor_});
  out.emplace_back(ArmTimer{TimerKind::handover_timeout, now + config_.handover_timeout});
  return out;
}

void Lifecycle::handover_gone(Actions& out, SteadyTime now) {
  // A switch that carried a refreshed token failed: try again later, while it lasts.
  if (phase_ == Phase::open && token_gen_ != conn_token_gen_) retry_refresh_later(out, now, "switching connections failed");
}

void Lifecycle::drop_handover(Actions& out, const std::string& why, std::uint16_t close_code) {
  if (!handover_) return;
  out.emplace_back(CloseConnection{handover_->conn, close_code, close_code == 4004 ? "protocol error" : "handover abandoned"});
  out.emplace_back(Log{LogLevel::warn, "switching connections failed (" + why + "); staying on the current one"});
  out.emplace_back(CancelTimer{TimerKind::handover_timeout});
  handover_.reset();
}

Actions Lifecycle::handover_event(SteadyTime now, ConnId /*conn*/, const char* what, bool failed) {
  Actions out;
  if (failed) {
    handover_->open = false;  // it is gone already: nothing to close
    out.emplace_back(Log{LogLevel::warn, std::string("switching connections failed (") + what +
                                             "); staying on the current one"});
    out.emplace_back(CancelTimer{TimerKind::handover_timeout});
    handover_.reset();
    handover_gone(out, now);
  } else {
    handover_->open = true;
  }
  return out;
}

Actions Lifecycle::handover_frame(SteadyTime now, protocol::DecodeResult decoded) {
  Actions out;
  if (!decoded) {
    drop_handover(out, std::string("malformed frame: ") + protocol::to_string(decoded.error), 4004);
    handover_gone(out, now);
    return out;
  }
  auto& msg = decoded.message;
  if (auto* w = std::get_if<protocol::Welcome>(&msg)) {
    if (auto gap = reset_gap(*w, handover_->sent_up_to)) {  // (before the welcome: the cursor it resumed from)
      restart_after_reset(out, now, std::move(*gap), /*was_handover=*/true);
      return out;
    }
    handover_->welcomed = true;
    handover_->heartbeat_s = w->heartbeat_s;
    handover_->reauth = std::find(w->features.begin(), w->features.end(), "reauth") != w->features.end();
    if (w->resume == protocol::ResumeStatus::gap) out.emplace_back(ReportGap{retention_gap(*w, cursor_)});
    adopt_resume(out, *w);
    return out;
  }
  if (!handover_->welcomed) {
    drop_handover(out, "message before welcome", 4004);
    handover_gone(out, now);
    return out;
  }
  if (auto* n = std::get_if<Notification>(&msg)) return deliver(std::move(*n), handover_->sent_up_to);
  if (std::holds_alternative<protocol::CaughtUp>(msg)) {
    promote_handover(out, now, /*caught_up=*/true);
  } else if (auto* d = std::get_if<protocol::Drain>(&msg)) {
    handover_->drain_deadline = now + d->reconnect_within;
  }
  return out;
}

void Lifecycle::promote_handover(Actions& out, SteadyTime now, bool caught_up) {
  if (phase_ == Phase::open || phase_ == Phase::connecting) {
    out.emplace_back(CloseConnection{conn_, 1000, "switched to a new connection"});
  }
  out.emplace_back(CancelTimer{TimerKind::handover});
  out.emplace_back(CancelTimer{TimerKind::handover_timeout});
  if (reauth_gen_) {  // in flight on the old connection: the new one has the newest token
    reauth_gen_.reset();
    out.emplace_back(CancelTimer{TimerKind::reauth});
  }
  conn_ = handover_->conn;
  conn_sent_up_to_ = handover_->sent_up_to;
  ++switches_;
  if (handover_->token_gen != conn_token_gen_) ++token_refreshes_;
  conn_token_gen_ = handover_->token_gen;
  conn_reauth_ = handover_->reauth;
  heartbeat_ = std::chrono::seconds{handover_->heartbeat_s};
  const auto new_drain = handover_->drain_deadline;
  handover_.reset();
  phase_ = Phase::open;
  welcomed_ = true;
  // Stable (backoff forgiveness) counts from the new connection's own caught_up.
  caught_up_at_ = caught_up ? std::optional<SteadyTime>{now} : std::nullopt;
  drain_deadline_.reset();
  if (new_drain && *new_drain > now) {  // the new server is draining too: move on again
    drain_deadline_ = new_drain;
    schedule_move(out, now);
  }
  last_activity_ = now;
  pinged_ = false;
  out.emplace_back(ArmTimer{TimerKind::liveness, now + heartbeat_});
  out.emplace_back(Log{LogLevel::info, "switched to the new connection"});
  set_state(out, State::connected);  // reported only if the app saw another state
  maybe_refresh(out, now);           // a token newer than the one it opened with
}

}  // namespace herald::detail
