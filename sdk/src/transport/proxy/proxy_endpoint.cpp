#include "transport/proxy/proxy_endpoint.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <boost/asio/ip/address.hpp>

namespace herald::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool valid_host_name(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(std::string(host), ec);
  return !ec;
}

std::string host_port(std::string_view host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  // Appended into one reserved string: GCC 12 at -O3 warns (-Wrestrict, a false
  // positive) on "[" + std::string(host).
  std::string out;
  out.reserve(host.size() + 8);
  if (v6) out += '[';
  out += host;
  if (v6) out += ']';
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<ProxyEndpoint> parse_proxy_url(std::string_view url, std::string& error) {
  ProxyEndpoint out;
  std::string_view rest = url;
  std::uint16_t default_port = 1080;
  if (const auto sep = url.find("://"); sep != std::string_view::npos) {
    const std::string scheme = lower(url.substr(0, sep));
    if (scheme == "http") {
      out.kind = ProxyKind::http;
    } else if (scheme == "https") {
      out.kind = ProxyKind::https;
      default_port = 443;
    } else if (scheme == "socks5") {
      out.kind = ProxyKind::socks5;
      out.name_resolution = TargetNameResolution::local;
    } else if (scheme == "socks5h") {
      out.kind = ProxyKind::socks5;
    } else {
      error = "proxy URL scheme must be http, https, socks5 or socks5h";
      return std::nullopt;
    }
    rest = url.substr(sep + 3);
  }
  // Authority ends at the first '/' (an optional "/" path is accepted, nothing else).
  const auto slash = rest.find_first_of("/?#");
  if (slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") {
      error = "proxy URL must not have a path, query or fragment";
      return std::nullopt;
    }
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password =
        colon == std::string_view::npos ? std::optional<std::string>("") : percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) {
      error = "proxy URL has an invalid percent-escape in its credentials";
      return std::nullopt;
    }
    if (user->empty()) {
      error = "proxy URL has credentials without a user name";
      return std::nullopt;
    }
    out.credentials = ProxyCredentials{std::move(*user), std::move(*password)};
  }
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "proxy URL has an unterminated IPv6 address";
      return std::nullopt;
    }
    out.host = std::string(rest.substr(1, close - 1));
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      error = "proxy URL has text after its IPv6 address";
      return std::nullopt;
    }
    if (!after.empty()) port_text = after.substr(1);
    if (out.host.find(':') == std::string::npos || !is_ip_literal(out.host)) {
      error = "proxy URL has an invalid IPv6 address";
      return std::nullopt;
    }
  } else {
    const auto colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    if (!valid_host_name(out.host)) {
      error = out.host.empty() ? "proxy URL has no host" : "proxy URL has an invalid host";
      return std::nullopt;
    }
  }
  out.port = default_port;
  if (!port_text.empty() || (rest.size() > 0 && rest.back() == ':')) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      error = "proxy URL has an invalid port";
      return std::nullopt;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

std::string describe(const ProxyEndpoint& proxy) {
  std::string scheme;
  switch (proxy.kind) {
    case ProxyKind::http: scheme = "http"; break;
    case ProxyKind::https: scheme = "https"; break;
    case ProxyKind::socks5: scheme = proxy.name_resolution == TargetNameResolution::local ? "socks5" : "socks5h"; break;
  }
  return scheme + "://" + (proxy.credentials ? "<credentials>@" : "") + host_port(proxy.host, proxy.port);
}

}  // namespace herald::detail
