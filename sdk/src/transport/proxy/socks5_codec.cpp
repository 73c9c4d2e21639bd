#include "transport/proxy/socks5_codec.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

namespace herald::detail {
namespace {

namespace ip = boost::asio::ip;

constexpr std::uint8_t kVersion = 0x05;
constexpr std::uint8_t kAuthVersion = 0x01;
constexpr std::uint8_t kNoAcceptableMethod = 0xFF;
constexpr std::uint8_t kCommandConnect = 0x01;
constexpr std::uint8_t kAtypIpv4 = 0x01;
constexpr std::uint8_t kAtypDomain = 0x03;
constexpr std::uint8_t kAtypIpv6 = 0x04;

ProxyError failed(std::string detail) { return {errc::proxy_failed, std::move(detail)}; }
ProxyError auth_failed(std::string detail) { return {errc::proxy_auth_failed, std::move(detail)}; }

void append_port(Bytes& out, std::uint16_t port) {
  out.push_back(static_cast<std::uint8_t>(port >> 8));
  out.push_back(static_cast<std::uint8_t>(port & 0xFF));
}

}  // namespace

Bytes socks5_greeting(bool offer_username_password) {
  if (offer_username_password) {
    return {kVersion, 2, static_cast<std::uint8_t>(Socks5Method::no_auth),
            static_cast<std::uint8_t>(Socks5Method::username_password)};
  }
  return {kVersion, 1, static_cast<std::uint8_t>(Socks5Method::no_auth)};
}

std::variant<Socks5Method, ProxyError> decode_socks5_method(ByteView reply, bool offered_username_password) {
  if (reply.size() != 2 || reply[0] != kVersion) return failed("the proxy did not answer as a SOCKS5 server");
  if (reply[1] == kNoAcceptableMethod) {
    return auth_failed(offered_username_password ? "the SOCKS5 proxy accepts none of the offered authentication methods"
                                                 : "the SOCKS5 proxy requires authentication");
  }
  if (reply[1] == static_cast<std::uint8_t>(Socks5Method::no_auth)) return Socks5Method::no_auth;
  if (reply[1] == static_cast<std::uint8_t>(Socks5Method::username_password) && offered_username_password) {
    return Socks5Method::username_password;
  }
  return failed("the SOCKS5 proxy chose an authentication method that was not offered (" + std::to_string(reply[1]) +
                ")");
}

std::variant<Bytes, ProxyError> socks5_auth_request(const ProxyCredentials& credentials) {
  if (credentials.username.empty() || credentials.username.size() > 255 || credentials.password.size() > 255) {
    return auth_failed("SOCKS5 user name and password must be 1-255 and 0-255 bytes long");
  }
  Bytes out;
  out.reserve(3 + credentials.username.size() + credentials.password.size());
  out.push_back(kAuthVersion);
  out.push_back(static_cast<std::uint8_t>(credentials.username.size()));
  out.insert(out.end(), credentials.username.begin(), credentials.username.end());
  out.push_back(static_cast<std::uint8_t>(credentials.password.size()));
  out.insert(out.end(), credentials.password.begin(), credentials.password.end());
  return out;
}

std::optional<ProxyError> decode_socks5_auth_reply(ByteView reply) {
  if (reply.size() != 2 || reply[0] != kAuthVersion) {
    return failed("the SOCKS5 proxy answered the authentication with a malformed reply");
  }
  if (reply[1] != 0) return auth_failed("the SOCKS5 proxy rejected the user name or password");
  return std::nullopt;
}

std::variant<Bytes, ProxyError> socks5_connect_request(std::string_view host, std::uint16_t port) {
  // Reserved for the longest request (a 255-byte host name), so nothing below grows it:
  // GCC 12 at -O3 warns (-Wstringop-overflow, a false positive) on the growth path.
  Bytes out;
  out.reserve(3 + 2 + 255 + 2);
  out.insert(out.end(), {kVersion, kCommandConnect, 0x00});
  boost::system::error_code ec;
  const auto address = ip::make_address(std::string(host), ec);
  if (!ec && address.is_v4()) {
    out.push_back(kAtypIpv4);
    const auto b = address.to_v4().to_bytes();
    out.insert(out.end(), b.begin(), b.end());
  } else if (!ec) {
    out.push_back(kAtypIpv6);
    const auto b = address.to_v6().to_bytes();
    out.insert(out.end(), b.begin(), b.end());
  } else {
    if (host.empty() || host.size() > 255) return failed("the target's host name is not 1-255 bytes long");
    out.push_back(kAtypDomain);
    out.push_back(static_cast<std::uint8_t>(host.size()));
    out.insert(out.end(), host.begin(), host.end());
  }
  append_port(out, port);
  return out;
}

std::variant<Socks5Reply, Socks5NeedBytes, ProxyError> decode_socks5_reply(ByteView bytes) {
  constexpr std::size_t kHead = 4;  // VER REP RSV ATYP
  if (bytes.size() < kHead) return Socks5NeedBytes{kHead};
  if (bytes[0] != kVersion) return failed("the proxy's CONNECT reply is not SOCKS5");
  if (bytes[2] != 0x00) return failed("the proxy's CONNECT reply has a non-zero reserved byte");
  std::size_t address_size = 0;
  std::size_t address_start = kHead;
  switch (bytes[3]) {
    case kAtypIpv4: address_size = 4; break;
    case kAtypIpv6: address_size = 16; break;
    case kAtypDomain:
      if (bytes.size() < kHead + 1) return Socks5NeedBytes{kHead + 1};
      address_size = bytes[kHead];
      address_start = kHead + 1;
      break;
    default: return failed("the proxy's CONNECT reply has an unknown address type " + std::to_string(bytes[3]));
  }
  const std::size_t total = address_start + address_size + 2;
  if (bytes.size() < total) return Socks5NeedBytes{total};
  Socks5Reply reply;
  reply.code = bytes[1];
  reply.size = total;
  const auto address = bytes.subspan(address_start, address_size);
  if (bytes[3] == kAtypIpv4) {
    ip::address_v4::bytes_type b{};
    std::copy(address.begin(), address.end(), b.begin());
    reply.bound_address = ip::address_v4(b).to_string();
  } else if (bytes[3] == kAtypIpv6) {
    ip::address_v6::bytes_type b{};
    std::copy(address.begin(), address.end(), b.begin());
    reply.bound_address = ip::address_v6(b).to_string();
  } else {
    reply.bound_address.assign(address.begin(), address.end());
  }
  reply.bound_port = static_cast<std::uint16_t>((bytes[total - 2] << 8) | bytes[total - 1]);
  return reply;
}

std::string socks5_reply_text(std::uint8_t code) {
  switch (code) {
    case 0: return "succeeded";
    case 1: return "general SOCKS server failure";
    case 2: return "connection not allowed by the proxy's rules";
    case 3: return "network unreachable from the proxy";
    case 4: return "target host unreachable from the proxy";
    case 5: return "connection refused by the target";
    case 6: return "TTL expired";
    case 7: return "command not supported by the proxy";
    case 8: return "address type not supported by the proxy";
  }
  return "unassigned reply code " + std::to_string(code);
}

}  // namespace herald::detail
