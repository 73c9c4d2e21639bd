#include "server_core.hpp"

#include "tls_server_context.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <stdexcept>

#include "json_util.hpp"

namespace herald::server::detail {
namespace {

ServerOptions validated(ServerOptions o) {
  if (o.jwt_secret.empty()) throw std::invalid_argument("ServerOptions.jwt_secret is required");
  if (o.admin_key.empty()) throw std::invalid_argument("ServerOptions.admin_key is required");
  if (o.listen_address.empty()) throw std::invalid_argument("ServerOptions.listen_address is empty");
  if (o.db_path.empty()) throw std::invalid_argument("ServerOptions.db_path is empty");
  if (o.heartbeat < std::chrono::seconds(1) || o.heartbeat > std::chrono::seconds(3600)) {
    throw std::invalid_argument("ServerOptions.heartbeat must be within 1..3600 s");
  }
  if (o.retention == 0) throw std::invalid_argument("ServerOptions.retention must be at least 1");
  if (o.leeway < std::chrono::seconds(0) || o.leeway > std::chrono::seconds(300)) {
    throw std::invalid_argument("ServerOptions.leeway must be within 0..300 s");
  }
  if (o.default_token_ttl <= std::chrono::seconds(0)) {
    throw std::invalid_argument("ServerOptions.default_token_ttl must be positive");
  }
  if (o.auth_frame_timeout <= std::chrono::milliseconds(0)) {
    throw std::invalid_argument("ServerOptions.auth_frame_timeout must be positive");
  }
  if (o.max_queued_frames == 0) throw std::invalid_argument("ServerOptions.max_queued_frames must be positive");
  if (o.max_queued_bytes == 0) throw std::invalid_argument("ServerOptions.max_queued_bytes must be positive");
  if (o.drain_window < std::chrono::milliseconds(0) || o.drain_window > kMaxDrainWindow) {
    throw std::invalid_argument("ServerOptions.drain_window must be within 0..10 min");
  }
  return o;
}

TokenPolicy policy_of(const ServerOptions& o) { return TokenPolicy{o.jwt_secret, o.leeway, o.issuer, o.audience}; }

}  // namespace

ServerCore::ServerCore(ServerOptions options, boost::asio::io_context& io)
    : options_(validated(std::move(options))),
      io_(io),
      tls_(make_server_tls_context(options_)),
      store_(open_sqlite_store(options_.db_path, options_.retention)),
      tokens_(policy_of(options_)),
      admin_key_(options_.admin_key),
      drain_timer_(io) {
  connections_.on_streams_gone([this] { notify_drain_waiters(); });
  // Tokens issued from now on must be newer than every revoke, also one recorded by an
  // earlier run of the server a moment ago (or before the clock was set back).
  last_revoke_ms_.store(store_->latest_revoke());
}

std::uint64_t ServerCore::publish(const std::string& user_id, const std::string& topic, const std::string& data_json) {
  if (!is_valid_user_id(user_id)) throw std::invalid_argument("invalid user_id");
  if (!is_valid_topic(topic)) throw std::invalid_argument("invalid topic (1..128 printable ASCII characters)");
  std::string data = "{}";
  if (!data_json.empty()) {
    nlohmann::json parsed;
    try {
      parsed = parse_bounded_json(data_json);
    } catch (const JsonError& e) {
      throw std::invalid_argument(std::string("data: ") + e.what());
    }
    if (!parsed.is_object()) throw std::invalid_argument("data must be a JSON object");
    data = parsed.dump();
  }
  if (data.size() > kMaxDataBytes) throw std::invalid_argument("data larger than 64 KiB");

  std::lock_guard lock(publish_mutex_);
  StoredNotification n = store_->append(user_id, topic, data, unix_now_ms());
  const std::uint64_t id = n.id;
  boost::asio::post(io_, [this, n = std::move(n)] { connections_.fan_out(n); });
  spdlog::debug("published id={} user={} topic={}", id, user_id, topic);
  return id;
}

std::string ServerCore::issue_token(const std::string& user_id, std::chrono::seconds ttl,
                                    std::int64_t* expires_at) const {
  if (!is_valid_user_id(user_id)) throw std::invalid_argument("invalid user_id");
  // A token issued after a revoke returned must not count as revoked, even within the
  // same millisecond: its issue time is placed after the latest revoke.
  const std::int64_t issued_at_ms = std::max(unix_now_ms(), last_revoke_ms_.load() + 1);
  return tokens_.issue(user_id, ttl, expires_at, issued_at_ms);
}

std::int64_t ServerCore::revoke(const std::string& user_id) {
  if (!is_valid_user_id(user_id)) throw std::invalid_argument("invalid user_id");
  std::int64_t at_ms = 0;
  {
    std::lock_guard lock(revoke_mutex_);
    // Past every earlier revoke: tokens issued since then got an issue time of at least
    // that revoke + 1 ms (issue_token), and this revoke must cover them too.
    at_ms = store_->revoke_tokens(user_id, std::max(unix_now_ms(), last_revoke_ms_.load() + 1));
    if (at_ms > last_revoke_ms_.load()) last_revoke_ms_.store(at_ms);
  }
  spdlog::info("tokens revoked user={} revoked_at_ms={}", user_id, at_ms);
  boost::asio::post(io_, [this, user_id, at_ms] { connections_.revoke(user_id, at_ms); });
  return at_ms;
}

bool ServerCore::is_revoked(const TokenClaims& claims) {
  const auto revoked_at = store_->tokens_revoked_at(claims.user_id);
  if (!revoked_at) return false;
  // No usable iat: the token cannot prove it was issued after the revoke.
  return !claims.issued_at_ms || *claims.issued_at_ms <= *revoked_at;
}

std::chrono::milliseconds ServerCore::drain(std::chrono::milliseconds window) {
  if (window < std::chrono::milliseconds(0) || window > kMaxDrainWindow) {
    throw std::invalid_argument("drain window must be within 0..10 min");
  }
  {
    std::lock_guard lock(drain_mutex_);
    if (draining_.load()) {
      const auto left = drain_deadline_ - std::chrono::steady_clock::now();
      return std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(left));
    }
    drain_window_ = window;
    drain_deadline_ = std::chrono::steady_clock::now() + window;
    draining_.store(true);  // from now on, handshakes are refused (503)
  }
  spdlog::info("draining: window {} ms", window.count());
  boost::asio::post(io_, [this] { on_drain_started(); });
  // Nothing open: drained at once.
  notify_drain_waiters();
  return window;
}

void ServerCore::on_drain_started() {
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds window{0};
  if (connections_.shutting_down()) return;  // stop() came first: nothing to drain
  {
    std::lock_guard lock(drain_mutex_);
    deadline = drain_deadline_;
    window = drain_window_;
  }
  connections_.drain_started(window);
  drain_timer_.expires_at(deadline);
  drain_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    {
      std::lock_guard lock(drain_mutex_);
      drain_window_over_ = true;
    }
    spdlog::info("drain window over: closing the remaining streams (1001)");
    connections_.drain_ended();
    drain_cv_.notify_all();
  });
}

std::optional<std::chrono::milliseconds> ServerCore::drain_remaining() const {
  std::lock_guard lock(drain_mutex_);
  if (!draining_.load()) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(drain_deadline_ - std::chrono::steady_clock::now());
  return std::max(std::chrono::milliseconds(0), left);
}

bool ServerCore::drained_locked() const {
  return stopped_ || (draining_.load() && (drain_window_over_ || connections_.stream_count() == 0));
}

void ServerCore::notify_drain_waiters() {
  // Lock so a waiter between its check and its wait cannot miss the notification.
  { std::lock_guard lock(drain_mutex_); }
  drain_cv_.notify_all();
}

bool ServerCore::wait_drained_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(drain_mutex_);
  return drain_cv_.wait_until(lock, deadline, [this] { return drained_locked(); });
}

void ServerCore::wait_drained() {
  std::unique_lock lock(drain_mutex_);
  drain_cv_.wait(lock, [this] { return drained_locked(); });
}

void ServerCore::shutdown() {
  drain_timer_.cancel();
  connections_.shutdown_all();
}

void ServerCore::mark_stopped() {
  {
    std::lock_guard lock(drain_mutex_);
    stopped_ = true;
  }
  drain_cv_.notify_all();
}

}  // namespace herald::server::detail
