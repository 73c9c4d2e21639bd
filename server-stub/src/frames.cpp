#include "frames.hpp"

#include <nlohmann/json.hpp>

#include "json_util.hpp"

namespace herald::server::detail {

ResumePlan plan_resume(std::optional<std::uint64_t> last_seen_id, const UserStreamState& state,
                       std::optional<std::uint64_t> first_after_cursor) {
  ResumePlan plan;
  plan.head_id = state.head_id;
  if (!last_seen_id) {
    plan.status = ResumeStatus::fresh;  // new device: live only, from now
    plan.replay_after = state.head_id;
    return plan;
  }
  plan.replay = true;
  plan.replay_after = *last_seen_id;
  plan.from_id = first_after_cursor;
  // Some id > cursor was pruned: the client cannot get everything it missed.
  plan.status = state.pruned_through > *last_seen_id ? ResumeStatus::gap : ResumeStatus::ok;
  return plan;
}

namespace {
const char* to_string(ResumeStatus s) {
  switch (s) {
    case ResumeStatus::fresh: return "fresh";
    case ResumeStatus::ok: return "ok";
    case ResumeStatus::gap: return "gap";
  }
  return "fresh";
}
}  // namespace

std::string encode_welcome(const WelcomeFrame& w) {
  nlohmann::json resume{{"status", to_string(w.resume.status)}, {"head_id", w.resume.head_id}};
  resume["from_id"] = w.resume.from_id ? nlohmann::json(*w.resume.from_id) : nlohmann::json(nullptr);
  if (!w.epoch.empty()) resume["epoch"] = w.epoch;
  nlohmann::json j{{"type", "welcome"},      {"session_id", w.session_id},   {"user_id", w.user_id},
                   {"protocol", 1},          {"heartbeat_s", w.heartbeat_s}, {"token_expires_at", w.token_expires_at},
                   {"features", w.features}, {"resume", std::move(resume)}};
  return j.dump();
}

std::string encode_notification(const StoredNotification& n) {
  // data_json was validated and compacted when it was stored: splice it in as is.
  std::string out = R"({"type":"notification","id":)";
  out += std::to_string(n.id);
  out += R"(,"created_at":")";
  out += format_rfc3339_millis(n.created_at_ms);
  out += R"(","topic":)";
  out += nlohmann::json(n.topic).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += R"(,"data":)";
  out += n.data_json.empty() ? std::string("{}") : n.data_json;
  out += '}';
  return out;
}

std::string encode_caught_up(std::uint64_t head_id) {
  return nlohmann::json{{"type", "caught_up"}, {"head_id", head_id}}.dump();
}

std::string encode_error(std::string_view code, std::string_view message) {
  return nlohmann::json{{"type", "error"}, {"code", code}, {"message", message}}.dump();
}

std::string encode_drain(std::int64_t reconnect_within_ms) {
  return nlohmann::json{{"type", "drain"}, {"reconnect_within_ms", reconnect_within_ms}}.dump();
}

std::string encode_reauth_ok(std::int64_t expires_at) {
  return nlohmann::json{{"type", "reauth_ok"}, {"expires_at", expires_at}}.dump();
}

}  // namespace herald::server::detail
