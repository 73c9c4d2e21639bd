#include "json_util.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace herald::server::detail {

nlohmann::json parse_bounded_json(std::string_view text, int max_depth) {
  // The callback sees every value; `depth` is the nesting level of the event. Throwing
  // from it aborts the parse before any deep structure is built.
  auto guard = [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) &&
        depth >= max_depth) {
      throw JsonError("JSON nested too deeply");
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), guard);
  } catch (const JsonError&) {
    throw;
  } catch (const nlohmann::json::exception&) {
    throw JsonError("invalid JSON");
  }
}

bool is_valid_user_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_topic(std::string_view topic) noexcept {
  if (topic.empty() || topic.size() > 128) return false;
  for (char c : topic) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string format_rfc3339_millis(std::int64_t unix_ms) {
  std::int64_t secs = unix_ms / 1000;
  std::int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> buf{};
  const int n = std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis));
  return std::string(buf.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string error_body(std::string_view code, std::string_view message) {
  nlohmann::json j{{"error", code}};
  if (!message.empty()) j["message"] = message;
  return j.dump();
}

}  // namespace herald::server::detail
