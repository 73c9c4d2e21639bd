#include "transport/proxy/connect_response.hpp"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

namespace herald::detail {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kTerminator = "\r\n\r\n";

std::string base64(std::string_view in) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(in.size()), '\0');
  out.resize(b64::encode(out.data(), in.data(), in.size()));
  return out;
}

}  // namespace

std::string connect_request(std::string_view target_host, std::uint16_t target_port,
                            const std::optional<ProxyCredentials>& credentials) {
  const std::string authority = host_port(target_host, target_port);
  std::string out;
  // Reserved up front so no reallocation leaves a copy of the credentials behind.
  out.reserve(64 + 2 * authority.size() +
              (credentials ? 2 * (credentials->username.size() + credentials->password.size()) + 8 : 0));
  out += "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (credentials) {
    std::string plain;
    plain.reserve(credentials->username.size() + 1 + credentials->password.size());
    plain.append(credentials->username).append(":").append(credentials->password);
    std::string encoded = base64(plain);
    out.append("Proxy-Authorization: Basic ").append(encoded).append("\r\n");
    std::fill(plain.begin(), plain.end(), '\0');
    std::fill(encoded.begin(), encoded.end(), '\0');
  }
  out += "\r\n";
  return out;
}

std::size_t connect_header_bytes_wanted(std::string_view received) {
  for (std::size_t matched = kTerminator.size(); matched > 0; --matched) {
    if (received.size() >= matched && received.substr(received.size() - matched) == kTerminator.substr(0, matched)) {
      return kTerminator.size() - matched;
    }
  }
  return kTerminator.size();
}

std::optional<ProxyError> check_connect_response(std::string_view header) {
  http::response_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxConnectResponseHeader));
  parser.skip(true);  // a 2xx answer to CONNECT has no body, whatever its fields say
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(header.data(), header.size()), ec);
  if (ec || !parser.is_header_done()) {
    return ProxyError{errc::proxy_failed, "the proxy's answer to CONNECT is not a valid HTTP response" +
                                              (ec ? " (" + ec.message() + ")" : std::string())};
  }
  const unsigned status = parser.get().result_int();
  if (status >= 200 && status < 300) return std::nullopt;
  const std::string status_text =
      std::to_string(status) + " " + std::string(http::obsolete_reason(static_cast<http::status>(status)));
  // 401 too: a proxy answering CONNECT has not reached the target yet, so it is about the
  // proxy's own credentials (tinyproxy 1.11 answers a wrong password with 401).
  if (status == 407 || status == 401) {
    return ProxyError{errc::proxy_auth_failed, "the proxy refused the credentials: " + status_text};
  }
  return ProxyError{errc::proxy_failed, "the proxy refused the tunnel: " + status_text};
}

}  // namespace herald::detail
