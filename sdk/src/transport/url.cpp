#include "transport/url.hpp"

#include <algorithm>
#include <cctype>

namespace herald::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool query_carries_token(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  if (const auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    const std::string name = lower(param.substr(0, param.find('=')));
    if (name == "token" || name == "access_token" || name == "jwt") return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

std::optional<StreamUrl> parse_stream_url(std::string_view url, std::string& error) {
  StreamUrl out;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    error = "URL must start with ws:// or wss://";
    return std::nullopt;
  }
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "wss") {
    out.tls = true;
  } else if (scheme != "ws") {
    error = "URL scheme must be ws or wss";
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  out.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (!out.target.empty() && out.target.front() == '?') out.target = "/" + out.target;
  if (out.target.find('#') != std::string::npos) {
    error = "URL must not have a fragment (RFC 6455)";
    return std::nullopt;
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "URL must not carry credentials";
    return std::nullopt;
  }
  if (!authority.empty() && authority.front() == '[') {  // [v6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "URL has an unterminated IPv6 address";
      return std::nullopt;
    }
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      error = "URL has text after its IPv6 address";
      return std::nullopt;
    }
    if (!authority.empty()) out.port = std::string(authority.substr(1));
  } else {
    const auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.host.empty()) {
    error = "URL has no host";
    return std::nullopt;
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (out.port.size() > 5 ||
      !std::all_of(out.port.begin(), out.port.end(), [](unsigned char c) { return std::isdigit(c); }) ||
      std::stoul(out.port) > 65535) {
    error = "URL has an invalid port";
    return std::nullopt;
  }
  if (query_carries_token(out.target)) {
    error = "URL must not carry a token in its query; tokens travel in the Authorization header";
    return std::nullopt;
  }
  return out;
}

}  // namespace herald::detail
