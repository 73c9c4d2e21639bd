#include "stream_request.hpp"

#include "json_util.hpp"

namespace herald::server::detail {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view target_path(std::string_view target) noexcept {
  const auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool query_carries_credentials(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  const auto fragment = query.find('#');
  if (fragment != std::string_view::npos) query = query.substr(0, fragment);
  while (!query.empty()) {
    const auto amp = query.find_first_of("&;");
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    std::string_view raw_name = pair.substr(0, pair.find('='));
    std::string name(raw_name);
    for (char& c : name) {
      if (c == '+') c = ' ';
    }
    // A malformed escape cannot hide a credential name: check the raw name as well.
    const auto decoded = percent_decode(name);
    for (const std::string_view candidate :
         {std::string_view(name), decoded ? std::string_view(*decoded) : std::string_view{}}) {
      const std::string_view n = trim(candidate);
      if (iequals(n, "token") || iequals(n, "access_token") || iequals(n, "jwt")) return true;
    }
  }
  return false;
}

bool offers_subprotocol(std::string_view header_value, std::string_view wanted) noexcept {
  while (!header_value.empty()) {
    const auto comma = header_value.find(',');
    const std::string_view item = trim(header_value.substr(0, comma));
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    header_value.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::uint64_t> parse_last_seen_id(std::string_view value) noexcept {
  const auto id = parse_uint64(trim(value));
  if (!id || *id > kMaxId) return std::nullopt;
  return id;
}

}  // namespace herald::server::detail
