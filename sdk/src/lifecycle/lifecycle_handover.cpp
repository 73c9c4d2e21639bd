// Make-before-break: a second connection opened with the current token and cursor
// while the first keeps delivering; the switch happens at the new one's caught_up.
// Both streams are complete from their start and delivery drops ids at or below the
// cursor, so whichever delivers an id first wins and nothing is lost or doubled.
#include <utility>

#include "lifecycle/lifecycle.hpp"

namespace herald::detail {

std::optional<ConnId> Lifecycle::handover_conn() const {
  if (!handover_) return std::nullopt;
  return handover_->id;
}

Actions Lifecycle::start_handover(SteadyTime now, const char* why) {
  if (handover_ || !is_open()) return {};
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
  handover_ = new_connection();
  out.emplace_back(Log{LogLevel::info, std::string("opening a new connection to switch to (") + why + ")"});
  out.emplace_back(OpenConnection{handover_->id, *token_, cursor_});
  out.emplace_back(ArmTimer{TimerKind::handover_timeout, now + config_.handover_timeout});
  return out;
}

void Lifecycle::handover_gone(Actions& out, SteadyTime now) {
  // A switch that carried a refreshed token failed: try again later, while it lasts.
  if (is_open() && token_gen_ != current_->token_gen) retry_refresh_later(out, now, "switching connections failed");
}

void Lifecycle::drop_handover(Actions& out, const std::string& why, std::uint16_t close_code) {
  if (!handover_) return;
  out.emplace_back(
      CloseConnection{handover_->id, close_code, close_code == 4004 ? "protocol error" : "handover abandoned"});
  out.emplace_back(Log{LogLevel::warn, "switching connections failed (" + why + "); staying on the current one"});
  out.emplace_back(CancelTimer{TimerKind::handover_timeout});
  handover_.reset();
}

Actions Lifecycle::handover_event(SteadyTime now, ConnId /*conn*/, const char* what, bool failed) {
  Actions out;
  if (failed) {
    handover_->open = false;  // it is gone already: nothing to close
    out.emplace_back(
        Log{LogLevel::warn, std::string("switching connections failed (") + what + "); staying on the current one"});
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
    accept_welcome(*handover_, *w);
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
  out.emplace_back(CloseConnection{current_->id, 1000, "switched to a new connection"});
  out.emplace_back(CancelTimer{TimerKind::handover});
  out.emplace_back(CancelTimer{TimerKind::handover_timeout});
  if (reauth_gen_) {  // in flight on the old connection: the new one has the newest token
    reauth_gen_.reset();
    out.emplace_back(CancelTimer{TimerKind::reauth});
  }
  ++switches_;
  if (handover_->token_gen != current_->token_gen) ++token_refreshes_;
  take_handover(now);
  auto& c = *current_;
  c.open = true;  // (welcomed, so open)
  // Stable (backoff forgiveness) counts from the new connection's own caught_up.
  c.caught_up_at = caught_up ? std::optional<SteadyTime>{now} : std::nullopt;
  if (c.drain_deadline && *c.drain_deadline > now) {
    schedule_move(out, now);  // the new server is draining too: move on again
  } else {
    c.drain_deadline.reset();
  }
  out.emplace_back(ArmTimer{TimerKind::liveness, now + c.heartbeat});
  out.emplace_back(Log{LogLevel::info, "switched to the new connection"});
  set_state(out, State::connected);  // reported only if the app saw another state
  maybe_refresh(out, now);           // a token newer than the one it opened with
}

bool Lifecycle::handover_survives(const CloseReaction& r) const {
  if (r.reaction == Reaction::stop) return false;
  return r.token == TokenFate::keep || handover_->token_gen != current_->token_gen;
}

void Lifecycle::continue_on_handover(Actions& out, SteadyTime now, std::error_code why, const std::string& detail) {
  if (handover_->welcomed) {
    promote_handover(out, now, /*caught_up=*/false);
    return;
  }
  end_connection(out);
  if (handover_->open) ++reconnects_;  // the application sees reconnecting (below)
  out.emplace_back(CancelTimer{TimerKind::handover_timeout});
  take_handover(now);
  set_state(out, State::reconnecting, why, detail);
  if (current_->open) out.emplace_back(ArmTimer{TimerKind::liveness, now + current_->heartbeat});
}

void Lifecycle::take_handover(SteadyTime now) {
  current_ = std::move(handover_);
  handover_.reset();
  heard_from(*current_, now);
}

}  // namespace herald::detail
