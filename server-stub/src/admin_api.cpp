#include "admin_api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "json_util.hpp"
#include "stream_request.hpp"

namespace herald::server::detail {
namespace {

constexpr std::string_view kUsersPrefix = "/v1/users/";
constexpr std::string_view kNotificationsSuffix = "/notifications";
constexpr std::string_view kRevokeSuffix = "/revoke";
constexpr std::string_view kDrainPath = "/v1/admin/drain";
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

enum class BlankBody { refused, empty_object };

// The request body as a JSON object (nesting bounded), or the 400 that refuses it. A
// blank body (empty or whitespace) is refused like any non-JSON, or read as {}.
std::variant<nlohmann::json, HttpReply> parse_object_body(std::string_view body, BlankBody blank = BlankBody::refused) {
  if (blank == BlankBody::empty_object && body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return nlohmann::json::object();
  }
  nlohmann::json j;
  try {
    j = parse_bounded_json(body);
  } catch (const JsonError& e) {
    return bad_request(e.what());
  }
  if (!j.is_object()) return bad_request("body must be a JSON object");
  return j;
}

HttpReply issue_token(ServerCore& core, std::string_view body) {
  auto parsed = parse_object_body(body);
  if (auto* refusal = std::get_if<HttpReply>(&parsed)) return std::move(*refusal);
  const nlohmann::json& j = std::get<nlohmann::json>(parsed);
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
  auto parsed = parse_object_body(body);
  if (auto* refusal = std::get_if<HttpReply>(&parsed)) return std::move(*refusal);
  const nlohmann::json& j = std::get<nlohmann::json>(parsed);
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

HttpReply revoke(ServerCore& core, const std::string& user_id) {
  try {
    const std::int64_t at_ms = core.revoke(user_id);
    return reply(200, nlohmann::json{{"revoked_before", at_ms / 1000}, {"revoked_before_ms", at_ms}}.dump());
  } catch (const std::invalid_argument& e) {
    return bad_request(e.what());
  } catch (const std::exception& e) {
    spdlog::error("revoke failed: {}", e.what());
    return reply(500, error_body("internal_error"));
  }
}

HttpReply drain(ServerCore& core, std::string_view body) {
  auto parsed = parse_object_body(body, BlankBody::empty_object);  // no body: the default window
  if (auto* refusal = std::get_if<HttpReply>(&parsed)) return std::move(*refusal);
  const nlohmann::json& j = std::get<nlohmann::json>(parsed);
  std::chrono::milliseconds window = core.options().drain_window;
  const auto field = j.find("window_ms");
  if (field != j.end() && !field->is_null()) {
    if (!field->is_number_integer()) return bad_request("window_ms must be an integer");
    const auto v = field->get<std::int64_t>();
    if (v < 0 || v > kMaxDrainWindow.count()) return bad_request("window_ms must be within 0..600000");
    window = std::chrono::milliseconds(v);
  }
  const std::chrono::milliseconds in_effect = core.drain(window);
  return reply(202, nlohmann::json{{"draining", true}, {"window_ms", in_effect.count()}}.dump());
}

// "/v1/users/{user_id}<suffix>" -> the decoded user id ("" when malformed), else nullopt.
std::optional<std::string> user_path(std::string_view path, std::string_view suffix) {
  if (path.size() <= kUsersPrefix.size() + suffix.size() || !path.starts_with(kUsersPrefix) ||
      !path.ends_with(suffix)) {
    return std::nullopt;
  }
  const std::string_view raw = path.substr(kUsersPrefix.size(), path.size() - kUsersPrefix.size() - suffix.size());
  if (raw.find('/') != std::string_view::npos) return std::nullopt;
  auto decoded = percent_decode(raw);
  return decoded ? std::move(*decoded) : std::string();  // malformed escape: a bad user id
}

}  // namespace

unsigned drain_retry_after_s(std::chrono::milliseconds remaining) noexcept {
  const auto s = std::chrono::ceil<std::chrono::seconds>(remaining).count();
  return static_cast<unsigned>(std::clamp<std::int64_t>(s, 1, kMaxDrainRetryAfterS));
}

HttpReply handle_http(ServerCore& core, const HttpRequestView& req) {
  const std::string_view path = target_path(req.target);
  if (path == "/healthz") {
    if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
    return reply(200, R"({"status":"ok"})");
  }

  const bool is_tokens = path == "/v1/tokens";
  const bool is_drain = path == kDrainPath;
  std::optional<std::string> user_id = user_path(path, kNotificationsSuffix);
  std::optional<std::string> revoke_user_id = user_path(path, kRevokeSuffix);
  if (!is_tokens && !is_drain && !user_id && !revoke_user_id) return reply(404, error_body("not_found"));

  // Admin endpoints: authorize before looking at the method or the body.
  if (!core.admin_key().authorizes(req.authorization)) {
    spdlog::warn("admin request refused: bad or missing admin key ({} {})", req.method, path);
    return reply(401, error_body("unauthorized"));
  }
  if (req.method != "POST") return method_not_allowed("POST");
  if (is_tokens) return issue_token(core, req.body);
  if (is_drain) return drain(core, req.body);
  const std::string& user = user_id ? *user_id : *revoke_user_id;
  if (!is_valid_user_id(user)) return bad_request("user_id: 1..128 characters from [A-Za-z0-9._@-]");
  if (revoke_user_id) return revoke(core, user);
  return publish(core, user, req.body);
}

}  // namespace herald::server::detail
