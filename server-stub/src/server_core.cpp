#include "server_core.hpp"

#include <spdlog/spdlog.h>

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
  return o;
}

TokenPolicy policy_of(const ServerOptions& o) {
  return TokenPolicy{o.jwt_secret, o.leeway, o.issuer, o.audience};
}

}  // namespace

ServerCore::ServerCore(ServerOptions options, boost::asio::io_context& io)
    : options_(validated(std::move(options))),
      io_(io),
      store_(open_sqlite_store(options_.db_path, options_.retention)),
      tokens_(policy_of(options_)),
      admin_key_(options_.admin_key) {}

std::uint64_t ServerCore::publish(const std::string& user_id, const std::string& topic,
                                  const std::string& data_json) {
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
  return tokens_.issue(user_id, ttl, expires_at);
}

}  // namespace herald::server::detail
