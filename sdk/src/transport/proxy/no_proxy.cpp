// NO_PROXY matching, after curl's lib/noproxy.c (names on label boundaries, IP literals,
// CIDR blocks, "*").
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>

#include <boost/asio/ip/address.hpp>

#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

namespace ip = boost::asio::ip;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim_dots(std::string_view s) {
  while (!s.empty() && s.front() == '.') s.remove_prefix(1);
  while (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::string_view strip_brackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') return s.substr(1, s.size() - 2);
  return s;
}

std::optional<ip::address> parse_address(std::string_view s) {
  boost::system::error_code ec;
  const auto a = ip::make_address(std::string(strip_brackets(s)), ec);
  if (ec) return std::nullopt;
  return a;
}

// "[v6]:port" -> "[v6]"; "v4:port" or "name:port" -> without the port; a bare IPv6
// literal (several colons) is left alone.
std::string_view strip_port(std::string_view rule) {
  if (!rule.empty() && rule.front() == '[') {
    const auto close = rule.find(']');
    return close == std::string_view::npos ? rule : rule.substr(0, close + 1);
  }
  const auto colon = rule.find(':');
  if (colon != std::string_view::npos && rule.find(':', colon + 1) == std::string_view::npos) {
    return rule.substr(0, colon);
  }
  return rule;
}

std::array<unsigned char, 16> bytes_of(const ip::address& a) {
  std::array<unsigned char, 16> out{};
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  } else {
    out = a.to_v6().to_bytes();
  }
  return out;
}

bool in_cidr(const ip::address& host, std::string_view rule) {
  const auto slash = rule.find('/');
  const auto network = parse_address(rule.substr(0, slash));
  if (!network || network->is_v4() != host.is_v4()) return false;
  const unsigned width = host.is_v4() ? 32 : 128;
  const std::string_view bits_text = rule.substr(slash + 1);
  unsigned bits = 0;
  const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  if (ec != std::errc{} || end != bits_text.data() + bits_text.size() || bits > width) return false;
  const auto h = bytes_of(host);
  const auto n = bytes_of(*network);
  for (unsigned i = 0; i < bits; ++i) {
    const unsigned mask = 0x80u >> (i % 8);
    if ((h[i / 8] & mask) != (n[i / 8] & mask)) return false;
  }
  return true;
}

bool name_matches(std::string_view host, std::string_view rule) {
  if (rule.empty() || host.size() < rule.size()) return false;
  if (host.size() == rule.size()) return host == rule;
  return host.substr(host.size() - rule.size()) == rule && host[host.size() - rule.size() - 1] == '.';
}

}  // namespace

std::vector<std::string> split_no_proxy(std::string_view value) {
  std::vector<std::string> out;
  std::string current;
  for (const char c : value) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

bool no_proxy_matches(const std::vector<std::string>& rules, std::string_view host_in) {
  const std::string host = lower(trim_dots(strip_brackets(host_in)));
  const auto host_address = parse_address(host);
  for (const auto& rule_text : rules) {
    std::string_view rule = rule_text;
    while (!rule.empty() && std::isspace(static_cast<unsigned char>(rule.front()))) rule.remove_prefix(1);
    while (!rule.empty() && std::isspace(static_cast<unsigned char>(rule.back()))) rule.remove_suffix(1);
    if (rule == "*") return true;
    if (rule.empty()) continue;
    if (host_address) {
      if (rule.find('/') != std::string_view::npos) {
        if (in_cidr(*host_address, rule)) return true;
        continue;
      }
      const auto address = parse_address(strip_port(rule));
      if (address && *address == *host_address) return true;
      continue;
    }
    const std::string name = lower(trim_dots(strip_port(rule)));
    if (name_matches(host, name)) return true;
  }
  return false;
}

}  // namespace herald::detail
