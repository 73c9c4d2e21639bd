#include "admin_api.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "json_util.hpp"
#include "stream_request.hpp"

namespace herald::server::detail {
namespace {

constexpr std::string_view kUsersPrefix = "/v1/users/";
constexpr std::string_view kNotificationsSuffix = "/notifications";
// Longest dev token lifetime the admin API issues (one year).
constexpr std::int64_t kMaxTtlSeconds = 366LL * 24 * 3600;

HttpReply reply(unsigned status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpReply bad_request(std::string_view message) { return reply(400, error_body("bad_request", message)); }

HttpReply method_not_allowed(std::string allow) {
  HttpReply r = reply(405, error_body("method_not_allowed"));
  r.allow = std::move(allow);
  return r;
}

HttpReply issue_token(ServerCore& core, std::string_view body) {
  nlohmann::json j;
  try {
    j = parse_bounded_json(body);
  } catch (const JsonError& e) {
    return bad_request(e.what());
  }
  if (!j.is_object()) return bad_request("body must be a JSON object");
  const auto user = j.find("user_id");
  if (user == j.end() || !user->is_string() || !is_valid_user_id(user->get_ref<const std::string&>())) {
    return bad_request("user_id: 1..128 characters from [A-Za-z0-9._@-]");
  }
  std::chrono::seconds ttl = core.options().default_token_ttl;
  const auto ttl_field = j.find("ttl_s");
  if (ttl_field != j.end() && !ttl_field->is_null()) {
    if (!ttl_field->is_number_integer()) return bad_request("ttl_s must be an integer");
    const auto v = ttl_field->get<std::int64_t>();
    // Negative values are allowed on purpose: tests need expired tokens.
    if (v < -kMaxTtlSeconds || v > kMaxTtlSeconds || v == 0) {
      return bad_request("ttl_s must be non-zero and within one year");
    }
    ttl = std::chrono::seconds(v);
  }
  std::int64_t expires_at = 0;
  const std::string user_id = user->get<std::string>();
  std::string token = core.issue_token(user_id, ttl, &expires_at);
  spdlog::info("issued token user={} ttl_s={}", user_id, ttl.count());
  HttpReply r = reply(200, nlohmann::json{{"token", std::move(token)}, {"expires_at", expires_at}}.dump());
  r.no_store = true;
  return r;
}

HttpReply publish(ServerCore& core, const std::string& user_id, std::string_view body) {
  nlohmann::json j;
  try {
    j = parse_bounded_json(body);
  } catch (const JsonError& e) {
    return bad_request(e.what());
  }
  if (!j.is_object()) return bad_request("body must be a JSON object");
  const auto topic = j.find("topic");
  if (topic == j.end() || !topic->is_string() || !is_valid_topic(topic->get_ref<const std::string&>())) {
    return bad_request("topic: 1..128 printable ASCII characters");
  }
  std::string data = "{}";
  const auto data_field = j.find("data");
  if (data_field != j.end() && !data_field->is_null()) {
    if (!data_field->is_object()) return bad_request("data must be a JSON object");
    data = data_field->dump();
  }
  try {
    const std::uint64_t id = core.publish(user_id, topic->get<std::string>(), data);
    return reply(201, nlohmann::json{{"id", id}}.dump());
  } catch (const std::invalid_argument& e) {
    return bad_request(e.what());
  } catch (const std::exception& e) {
    spdlog::error("publish failed: {}", e.what());
    return reply(500, error_body("internal_error"));
  }
}

}  // namespace

HttpReply handle_http(ServerCore& core, const HttpRequestView& req) {
  const std::string_view path = target_path(req.target);
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return reply(200, R"({"status":"ok"})");
  }

  const bool is_tokens = path == "/v1/tokens";
  std::optional<std::string> user_id;
  if (path.size() > kUsersPrefix.size() + kNotificationsSuffix.size() && path.starts_with(kUsersPrefix) &&
      path.ends_with(kNotificationsSuffix)) {
    const std::string_view raw =
        path.substr(kUsersPrefix.size(), path.size() - kUsersPrefix.size() - kNotificationsSuffix.size());
    if (raw.find('/') == std::string_view::npos) {
      user_id = percent_decode(raw);
      if (!user_id) user_id = std::string();  // malformed escape: a bad user id
    }
  }
  if (!is_tokens && !user_id) return reply(404, error_body("not_found"));

  // Admin endpoints: authorize before looking at the method or the body.
  if (!core.admin_key().authorizes(req.authorization)) {
    spdlog::warn("admin request refused: bad or missing admin key ({} {})", req.method, path);
    return reply(401, error_body("unauthorized"));
  }
  if (req.method != "POST") return method_not_allowed("POST");
  if (is_tokens) return issue_token(core, req.body);
  if (!is_valid_user_id(*user_id)) return bad_request("user_id: 1..128 characters from [A-Za-z0-9._@-]");
  return publish(core, *user_id, req.body);
}

}  // namespace herald::server::detail
