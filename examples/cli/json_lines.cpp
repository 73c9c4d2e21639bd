#include "json_lines.hpp"

#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace herald::cli {
namespace {

std::string iso8601(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

std::string notification_line(const Notification& n) {
  // data_json is the validated, minified text from the wire: splice it in as is rather
  // than parsing and re-serialising it.
  return R"({"id":)" + std::to_string(n.id) + R"(,"topic":)" + nlohmann::json(n.topic).dump() + R"(,"created_at":)" +
         nlohmann::json(n.created_at).dump() + R"(,"data":)" + n.data_json + "}";
}

std::string state_line(const StateEvent& e) {
  nlohmann::json j{{"event", "state"}, {"state", to_string(e.state)}};
  if (e.reason) {
    j["reason"] =
        e.reason.category() == error_category() ? to_string(static_cast<errc>(e.reason.value())) : e.reason.message();
  }
  if (!e.detail.empty()) j["detail"] = e.detail;
  if (e.next_attempt_at) j["next_attempt_at"] = iso8601(*e.next_attempt_at);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string gap_line(const GapEvent& g) {
  nlohmann::json j{{"event", "gap"}, {"reason", to_string(g.reason)}, {"first_available_id", g.first_available_id}};
  j["last_seen_id"] = g.last_seen_id ? nlohmann::json(*g.last_seen_id) : nlohmann::json(nullptr);
  if (g.missing) j["missing"] = *g.missing;
  if (g.reason == GapReason::reset) {
    j["previous_epoch"] = g.previous_epoch;
    j["epoch"] = g.epoch;
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string error_line(const std::error_code& code, const std::string& message) {
  const std::string name =
      code.category() == error_category() ? to_string(static_cast<errc>(code.value())) : code.message();
  return nlohmann::json{{"event", "error"}, {"code", name}, {"message", message}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void emit(const std::string& line) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

}  // namespace herald::cli
