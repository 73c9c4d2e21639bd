// How an attempt or a connection ends, and when the next attempt starts: connect
// failures, refused upgrades and closes (their reactions are the tables of
// close_reactions.hpp), the backoff with its Retry-After floor, the retry budget, and the
// forgiveness a stable connection earns.
#include <algorithm>
#include <utility>

#include "lifecycle/close_reactions.hpp"
#include "lifecycle/lifecycle.hpp"

namespace herald::detail {
namespace {

bool is_tls_failure(errc e) {
  return e == errc::tls_untrusted || e == errc::tls_expired || e == errc::tls_host_mismatch ||
         e == errc::tls_pin_mismatch || e == errc::tls_protocol;
}

std::string close_detail(std::optional<std::uint16_t> c, const std::string& reason) {
  std::string d = c ? "close code " + std::to_string(*c) : std::string("transport closed");
  if (!reason.empty()) d += ": " + reason;
  return d;
}

}  // namespace

Actions Lifecycle::connect_failed(SteadyTime now, ConnId conn, std::string detail, errc why) {
  if (handover_ && conn == handover_->id) return handover_event(now, conn, detail.c_str(), true);
  if (!current_ || conn != current_->id || current_->open) return {};
  Actions out;
  if (is_permanent(why)) {  // tls_client_cert_required: a misconfiguration
    fail_permanently(out, make_error_code(why), std::move(detail));
    return out;
  }
  // TLS failures are retried (a captive portal or an inspecting middlebox goes away),
  // but never sooner than backoff_max apart (docs/networks.md).
  std::optional<std::chrono::milliseconds> floor;
  if (is_tls_failure(why)) floor = config_.backoff_max;
  retry_later(out, now, make_error_code(why), std::move(detail), floor);
  return out;
}

Actions Lifecycle::handshake_refused(SteadyTime now, ConnId conn, const HandshakeRefusal& r) {
  const std::string what = "HTTP " + std::to_string(r.status) + (r.error.empty() ? "" : " " + r.error);
  if (handover_ && conn == handover_->id) return handover_event(now, conn, what.c_str(), true);
  if (!current_ || conn != current_->id || current_->open) return {};
  const auto reaction = refusal_reaction(r.status, r.error);
  Actions out;
  discard_token(reaction.token, now);
  if (take_fresh_token_retry(reaction.fresh_token_retry)) {
    react(out, now, Reaction::reconnect_at_once, make_error_code(reaction.error),
          what + std::string(reaction.retry_note));
    return out;
  }
  std::optional<std::chrono::milliseconds> floor;
  if (reaction.retry_after_is_floor && r.retry_after) {
    floor = std::chrono::duration_cast<std::chrono::milliseconds>(*r.retry_after);
  }
  react(out, now, reaction.reaction, make_error_code(reaction.error), what, floor);
  return out;
}

Actions Lifecycle::closed(SteadyTime now, ConnId conn, std::optional<std::uint16_t> close_code, std::string reason) {
  const auto detail = close_detail(close_code, reason);
  if (handover_ && conn == handover_->id) return handover_event(now, conn, detail.c_str(), true);
  if (!current_ || conn != current_->id) return {};
  const auto reaction = close_reaction(close_code);
  Actions out;
  forgive_if_stable(now);
  if (handover_ && handover_survives(reaction)) {
    continue_on_handover(out, now, make_error_code(reaction.error), detail);
    return out;
  }
  discard_token(reaction.token, now);
  react(out, now, reaction.reaction, make_error_code(reaction.error), detail);
  return out;
}

void Lifecycle::react(Actions& out, SteadyTime now, Reaction reaction, std::error_code why, std::string detail,
                      std::optional<std::chrono::milliseconds> floor) {
  switch (reaction) {
    case Reaction::reconnect_at_once:
      set_state(out, State::reconnecting, why, std::move(detail));
      retry_now(out, now);
      return;
    case Reaction::stop: fail_permanently(out, why, std::move(detail)); return;
    case Reaction::within_drain_window:
      if (const auto drain = current_->drain_deadline; drain && *drain > now) {
        // Spread the fleet over what is left of the announced window.
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*drain - now);
        const auto delay =
            std::chrono::milliseconds{static_cast<std::int64_t>(random_upto(static_cast<std::uint64_t>(left.count())))};
        last_delay_ = delay;
        retry_at(out, now + delay, why, std::move(detail));
        return;
      }
      break;  // no window announced (or it is over): backoff
    case Reaction::backoff: break;
  }
  retry_later(out, now, why, std::move(detail), floor);
}

void Lifecycle::discard_token(TokenFate fate, SteadyTime now) {
  switch (fate) {
    case TokenFate::keep: return;
    case TokenFate::discard: token_.reset(); return;
    case TokenFate::discard_unless_newer:
      if (token_gen_ == current_->token_gen || !token_usable(now)) token_.reset();
      return;
  }
}

bool Lifecycle::take_fresh_token_retry(FreshTokenRetry kind) {
  switch (kind) {
    case FreshTokenRetry::none: return false;
    case FreshTokenRetry::expired_token: return !std::exchange(expired_token_retry_used_, true);
    case FreshTokenRetry::invalid_token: return !std::exchange(invalid_token_retry_used_, true);
  }
  return false;
}

void Lifecycle::forgive_if_stable(SteadyTime now) {
  // Only a connection that caught up and then stayed up resets the backoff: a server
  // that accepts and closes at once must see growing delays.
  if (!current_) return;
  auto& caught_up_at = current_->caught_up_at;
  if (current_->open && caught_up_at && now - *caught_up_at >= config_.stable_after) {
    forgive_failures();
    ended_stable_ = true;  // its end is not a failed attempt
  }
  caught_up_at.reset();
}

void Lifecycle::forgive_failures() {
  backoff_.reset();
  retry_budget_.reset();
}

void Lifecycle::retry_later(Actions& out, SteadyTime now, std::error_code why, std::string detail,
                            std::optional<std::chrono::milliseconds> floor) {
  forgive_if_stable(now);
  if (std::exchange(ended_stable_, false)) {
    retry_budget_.start_clock(now);  // a stable connection's end is not a failed attempt
  } else {
    retry_budget_.record_failure(now);
  }
  if (retry_budget_.exhausted(now)) {
    fail_permanently(out, make_error_code(errc::retries_exhausted),
                     why.message() + (detail.empty() ? "" : " (" + detail + ")"));
    return;
  }
  if (floor) floor = std::min(*floor, config_.retry_after_max);  // a server cannot park us for years
  auto delay = backoff_.next();
  if (floor) delay = std::max(delay, *floor);
  last_delay_ = delay;
  if (floor) {
    retry_at(out, now + delay, why, detail);
    retry_after_ = RetryAfterWindow{now + *floor, why, std::move(detail)};
  } else {
    retry_at(out, now + delay, why, std::move(detail));
  }
}

void Lifecycle::retry_at(Actions& out, SteadyTime at, std::error_code why, std::string detail) {
  retry_after_.reset();
  end_connection(out);
  if (handover_) drop_handover(out, "the current connection ended");
  enter(Phase::waiting);
  out.emplace_back(ArmTimer{TimerKind::reconnect, at});
  set_state(out, State::reconnecting, why, std::move(detail), at);
}

void Lifecycle::retry_now(Actions& out, SteadyTime now) {
  end_connection(out);
  if (handover_) drop_handover(out, "the current connection ended");
  append_actions(out, begin_attempt(now));
}

void Lifecycle::fail_permanently(Actions& out, std::error_code why, std::string detail) {
  close_all(out);
  end_connection(out);
  for (auto k : {TimerKind::reconnect, TimerKind::token_timeout, TimerKind::refresh, TimerKind::reauth,
                 TimerKind::handover_timeout}) {
    out.emplace_back(CancelTimer{k});
  }
  fetching_ = false;
  enter(Phase::stopped);
  set_state(out, State::stopped, why, std::move(detail));
}

}  // namespace herald::detail
