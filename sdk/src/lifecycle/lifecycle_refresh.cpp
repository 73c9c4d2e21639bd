// Tokens: single-flight fetching and the proactive refresh. A token with a known
// expiry is refreshed at a random moment around 75 % of its lifetime; the new token is
// handed to the live connection in-band (`reauth`) when its server advertises it, else
// by make-before-break. A refresh that falls due while no connection is open makes the
// next attempt fetch first. Failures are retried with backoff while the token is valid.
#include <algorithm>
#include <cmath>
#include <utility>

#include "lifecycle/lifecycle.hpp"

namespace herald::detail {
namespace {

using std::chrono::milliseconds;

milliseconds scaled(milliseconds d, double factor) {
  return milliseconds{static_cast<std::int64_t>(std::llround(static_cast<double>(d.count()) * factor))};
}

}  // namespace

Backoff Lifecycle::make_refresh_backoff(const LifecycleConfig& config, RandomSource random) {
  // Capped exponential with half jitter: soon enough to finish while the token lasts.
  // The reconnect steps, but doubling at most 20 times (as the refresh retry always did).
  const auto cap = std::min(config.backoff_max, config.backoff_initial * (std::int64_t{1} << 20));
  return Backoff{config.backoff_initial, cap, std::move(random), Jitter::half};
}

std::chrono::milliseconds Lifecycle::expiry_margin() const {
  // A fifth of a short token's life: a 4 s test token is usable for 3.2 s, not never.
  if (token_lifetime_) return std::min(config_.token_expiry_margin, *token_lifetime_ / 5);
  return config_.token_expiry_margin;
}

bool Lifecycle::token_usable(SteadyTime now) const {
  if (!token_) return false;
  return !token_expires_at_ || *token_expires_at_ - expiry_margin() > now;
}

void Lifecycle::request_token(Actions& out, SteadyTime now) {
  if (fetching_) return;  // the answer to the outstanding fetch serves every purpose
  fetching_ = true;
  out.emplace_back(FetchToken{});
  out.emplace_back(ArmTimer{TimerKind::token_timeout, now + config_.token_timeout});
}

Actions Lifecycle::token_ready(SteadyTime now, std::optional<std::string> token, std::optional<SteadyTime> expires_at,
                               std::optional<SteadyTime> issued_at, std::string error, std::error_code code) {
  if (!fetching_ || phase_ == Phase::stopped) return {};  // timed out (abandoned) or stopped meanwhile
  fetching_ = false;
  Actions out{CancelTimer{TimerKind::token_timeout}};
  if (!token || token->empty()) {
    if (error.empty()) error = code ? code.message() : "no token";
    if (code == condition::permanent) {
      // The application says no token will come (the user signed out, lost access):
      // stop now, a live connection included, instead of retrying for ever.
      fail_permanently(out, code, "the token provider: " + error);
      return out;
    }
    token_failed(out, now, std::move(error));
    return out;
  }
  if (token_ && *token == *token_ && is_open()) {
    token_failed(out, now, "the token provider returned the token in use again");
    return out;
  }
  accept_token(out, now, std::move(*token), expires_at, issued_at);
  return out;
}

void Lifecycle::accept_token(Actions& out, SteadyTime now, std::string token, std::optional<SteadyTime> expires_at,
                             std::optional<SteadyTime> issued_at) {
  const auto previous = std::move(token_);
  const auto previous_expiry = token_expires_at_;
  const auto previous_lifetime = token_lifetime_;
  token_ = std::move(token);
  token_expires_at_ = expires_at;
  token_lifetime_.reset();
  if (expires_at) {
    const auto start = issued_at && *issued_at <= now ? *issued_at : now;
    token_lifetime_ = std::chrono::duration_cast<milliseconds>(*expires_at - start);
  }
  if (!token_usable(now)) {
    // Expired (or nearly): never used for an attempt. Keep the previous one if it is
    // still good, so a refresh failure does not cost a working connection.
    token_ = previous;
    token_expires_at_ = previous_expiry;
    token_lifetime_ = previous_lifetime;
    if (!token_usable(now)) {
      token_.reset();
      token_expires_at_.reset();
      token_lifetime_.reset();
    }
    token_failed(out, now, "the token provider returned an expired token");
    return;
  }
  ++token_gen_;
  refresh_backoff_.reset();
  schedule_refresh(out, now);
  if (phase_ == Phase::fetching_token) {
    append_actions(out, open_connection(now));
  } else if (is_open() && handover_wants_token_) {
    handover_wants_token_ = false;
    append_actions(out, start_handover(now, move_reason_));
  } else {
    maybe_refresh(out, now);
  }
}

void Lifecycle::token_failed(Actions& out, SteadyTime now, std::string why) {
  if (phase_ == Phase::fetching_token) {
    if (token_usable(now)) {
      // Only a due refresh sends an attempt here with a valid token: use it meanwhile.
      out.emplace_back(Log{LogLevel::warn, "token refresh failed (" + why + "); connecting with the current token"});
      retry_refresh_later(out, now, why);
      append_actions(out, open_connection(now));
      return;
    }
    token_.reset();
    retry_later(out, now, make_error_code(errc::token_fetch_failed), std::move(why));
    return;
  }
  if (handover_wants_token_) {
    handover_wants_token_ = false;
    out.emplace_back(Log{LogLevel::warn, "handover skipped: " + why});
  }
  if (is_open()) retry_refresh_later(out, now, why);
}

void Lifecycle::schedule_refresh(Actions& out, SteadyTime now) {
  const bool armed = std::exchange(refresh_at_, std::nullopt).has_value();
  if (!config_.refresh || !token_expires_at_ || !token_lifetime_) {
    if (armed) out.emplace_back(CancelTimer{TimerKind::refresh});
    return;
  }
  const auto lifetime = *token_lifetime_;
  const auto issued = *token_expires_at_ - lifetime;
  auto at = issued + (config_.refresh_interval.count() > 0 ? config_.refresh_interval
                                                           : scaled(lifetime, config_.refresh_fraction));
  const auto spread = scaled(lifetime, config_.refresh_spread);
  if (spread.count() > 0) {
    const auto draw = random_upto(static_cast<std::uint64_t>(2 * spread.count()));
    at += milliseconds{static_cast<std::int64_t>(draw)} - spread;
  }
  at = std::min(at, *token_expires_at_ - std::min(config_.refresh_deadline, lifetime / 4));
  if (at <= now) {
    // Already past its refresh point (a provider that caches tokens): refresh half-way
    // through what is left, so a provider that keeps returning it cannot cause a loop.
    at = now + (*token_expires_at_ - expiry_margin() - now) / 2;
  }
  refresh_at_ = at;
  out.emplace_back(ArmTimer{TimerKind::refresh, at});
}

void Lifecycle::retry_refresh_later(Actions& out, SteadyTime now, const std::string& why) {
  if (!token_usable(now)) {
    out.emplace_back(Log{LogLevel::warn, "token refresh failed (" + why + "); the token expires before a retry"});
    return;
  }
  const auto delay = refresh_backoff_.next();
  out.emplace_back(
      Log{LogLevel::warn, "token refresh failed (" + why + "); retrying in " + std::to_string(delay.count()) + " ms"});
  out.emplace_back(ArmTimer{TimerKind::refresh, now + delay});
}

void Lifecycle::maybe_refresh(Actions& out, SteadyTime now) {
  if (!is_live() || handover_ || reauth_gen_ || fetching_ || handover_wants_token_) return;
  if (token_gen_ != current_->token_gen && token_usable(now)) {
    apply_refresh(out, now);
  } else if (refresh_at_ && now >= *refresh_at_) {
    out.emplace_back(Log{LogLevel::debug, "refreshing the token"});
    request_token(out, now);
  }
}

void Lifecycle::apply_refresh(Actions& out, SteadyTime now) {
  if (current_->reauth) {
    reauth_gen_ = token_gen_;
    out.emplace_back(Log{LogLevel::info, "refreshing the token in-band (reauth)"});
    out.emplace_back(SendReauth{current_->id, *token_});
    out.emplace_back(ArmTimer{TimerKind::reauth, now + config_.reauth_timeout});
    return;
  }
  append_actions(out, start_handover(now, "token refresh"));
}

void Lifecycle::reauth_confirmed(Actions& out, SteadyTime now) {
  if (!reauth_gen_) {
    out.emplace_back(Log{LogLevel::debug, "ignoring an unexpected reauth_ok"});
    return;
  }
  current_->token_gen = *reauth_gen_;
  reauth_gen_.reset();
  ++token_refreshes_;
  out.emplace_back(CancelTimer{TimerKind::reauth});
  out.emplace_back(Log{LogLevel::info, "token refreshed in-band"});
  maybe_refresh(out, now);  // a newer token may have come meanwhile
}

void Lifecycle::reauth_timed_out(Actions& out, SteadyTime now) {
  if (!reauth_gen_ || !is_open()) return;
  reauth_gen_.reset();
  current_->reauth = false;  // not again on this connection
  out.emplace_back(Log{LogLevel::warn, "no reauth_ok within " + std::to_string(config_.reauth_timeout.count()) +
                                           " ms; switching to a new connection instead"});
  append_actions(out, start_handover(now, "token refresh"));
}

}  // namespace herald::detail
