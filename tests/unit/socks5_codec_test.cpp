// SOCKS5 wire codec (RFC 1928 / RFC 1929): exact bytes of every request, and replies of
// every address type consumed exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <variant>

#include "transport/proxy/socks5_codec.hpp"

namespace herald::detail {
namespace {

using ::testing::HasSubstr;

Bytes bytes(std::initializer_list<int> values) {
  Bytes out;
  for (int v : values) out.push_back(static_cast<std::uint8_t>(v));
  return out;
}

TEST(Socks5Codec, GreetingOffersUsernamePasswordOnlyWithCredentials) {
  EXPECT_EQ(socks5_greeting(false), bytes({5, 1, 0}));
  EXPECT_EQ(socks5_greeting(true), bytes({5, 2, 0, 2}));
}

TEST(Socks5Codec, MethodSelection) {
  EXPECT_EQ(std::get<Socks5Method>(decode_socks5_method(bytes({5, 0}), false)), Socks5Method::no_auth);
  EXPECT_EQ(std::get<Socks5Method>(decode_socks5_method(bytes({5, 2}), true)), Socks5Method::username_password);
  const auto none = std::get<ProxyError>(decode_socks5_method(bytes({5, 0xFF}), false));
  EXPECT_EQ(none.code, errc::proxy_auth_failed);
  EXPECT_THAT(none.detail, HasSubstr("requires authentication"));
  EXPECT_EQ(std::get<ProxyError>(decode_socks5_method(bytes({5, 0xFF}), true)).code, errc::proxy_auth_failed);
  EXPECT_EQ(std::get<ProxyError>(decode_socks5_method(bytes({5, 2}), false)).code, errc::proxy_failed);  // not offered
  EXPECT_EQ(std::get<ProxyError>(decode_socks5_method(bytes({5, 1}), true)).code, errc::proxy_failed);   // GSSAPI
  EXPECT_EQ(std::get<ProxyError>(decode_socks5_method(bytes({4, 0}), false)).code, errc::proxy_failed);
  EXPECT_EQ(std::get<ProxyError>(decode_socks5_method(bytes({5}), false)).code, errc::proxy_failed);
}

TEST(Socks5Codec, AuthRequestAndReply) {
  const auto request = std::get<Bytes>(socks5_auth_request({"al", "pw!"}));
  EXPECT_EQ(request, bytes({1, 2, 'a', 'l', 3, 'p', 'w', '!'}));
  EXPECT_EQ(std::get<Bytes>(socks5_auth_request({"u", ""})), bytes({1, 1, 'u', 0}));
  EXPECT_EQ(std::get<ProxyError>(socks5_auth_request({"", "pw"})).code, errc::proxy_auth_failed);
  EXPECT_EQ(std::get<ProxyError>(socks5_auth_request({std::string(256, 'u'), "pw"})).code, errc::proxy_auth_failed);
  EXPECT_EQ(std::get<ProxyError>(socks5_auth_request({"u", std::string(256, 'p')})).code, errc::proxy_auth_failed);
  EXPECT_TRUE(std::holds_alternative<Bytes>(socks5_auth_request({std::string(255, 'u'), std::string(255, 'p')})));

  EXPECT_FALSE(decode_socks5_auth_reply(bytes({1, 0})));
  const auto refused = decode_socks5_auth_reply(bytes({1, 1}));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->code, errc::proxy_auth_failed);
  EXPECT_EQ(decode_socks5_auth_reply(bytes({5, 0}))->code, errc::proxy_failed);
}

TEST(Socks5Codec, ConnectRequestPerAddressType) {
  EXPECT_EQ(std::get<Bytes>(socks5_connect_request("127.0.0.1", 0x1F90)),
            bytes({5, 1, 0, 1, 127, 0, 0, 1, 0x1F, 0x90}));
  EXPECT_EQ(std::get<Bytes>(socks5_connect_request("::1", 443)),
            bytes({5, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0xBB}));
  EXPECT_EQ(std::get<Bytes>(socks5_connect_request("ab.c", 80)), bytes({5, 1, 0, 3, 4, 'a', 'b', '.', 'c', 0, 80}));
  EXPECT_EQ(std::get<ProxyError>(socks5_connect_request(std::string(256, 'a'), 80)).code, errc::proxy_failed);
  EXPECT_EQ(std::get<ProxyError>(socks5_connect_request("", 80)).code, errc::proxy_failed);
}

TEST(Socks5Codec, RepliesOfEveryAddressTypeAreConsumedExactly) {
  struct Row {
    Bytes reply;
    std::string address;
    std::uint16_t port;
  };
  const Row rows[] = {
      {bytes({5, 0, 0, 1, 10, 0, 0, 7, 0x04, 0x38}), "10.0.0.7", 1080},
      {bytes({5, 0, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 80}), "fd00::9", 80},
      {bytes({5, 0, 0, 3, 3, 'a', '.', 'b', 0x01, 0xBB}), "a.b", 443},
      {bytes({5, 0, 0, 3, 0, 0, 1}), "", 1},
  };
  for (const auto& row : rows) {
    // Every proper prefix asks for more, and always for more than it has.
    for (std::size_t n = 0; n < row.reply.size(); ++n) {
      const auto partial = decode_socks5_reply(ByteView(row.reply).first(n));
      ASSERT_TRUE(std::holds_alternative<Socks5NeedBytes>(partial)) << row.address << " prefix " << n;
      EXPECT_GT(std::get<Socks5NeedBytes>(partial).total, n);
      EXPECT_LE(std::get<Socks5NeedBytes>(partial).total, row.reply.size());
    }
    Bytes with_tunnel_bytes = row.reply;
    with_tunnel_bytes.insert(with_tunnel_bytes.end(), {'T', 'U', 'N'});
    const auto full = decode_socks5_reply(with_tunnel_bytes);
    ASSERT_TRUE(std::holds_alternative<Socks5Reply>(full)) << row.address;
    const auto& reply = std::get<Socks5Reply>(full);
    EXPECT_EQ(reply.code, 0);
    EXPECT_EQ(reply.size, row.reply.size()) << row.address;
    EXPECT_EQ(reply.bound_address, row.address);
    EXPECT_EQ(reply.bound_port, row.port);
  }
}

TEST(Socks5Codec, MalformedRepliesAreProxyFailures) {
  const Bytes bad[] = {bytes({4, 0, 0, 1}), bytes({5, 0, 1, 1}), bytes({5, 0, 0, 2}), bytes({5, 0, 0, 0xFF})};
  for (const auto& b : bad) {
    const auto decoded = decode_socks5_reply(b);
    ASSERT_TRUE(std::holds_alternative<ProxyError>(decoded));
    EXPECT_EQ(std::get<ProxyError>(decoded).code, errc::proxy_failed);
  }
}

TEST(Socks5Codec, ReplyCodesHaveRfc1928Texts) {
  EXPECT_EQ(socks5_reply_text(5), "connection refused by the target");
  EXPECT_EQ(socks5_reply_text(2), "connection not allowed by the proxy's rules");
  EXPECT_EQ(socks5_reply_text(4), "target host unreachable from the proxy");
  EXPECT_EQ(socks5_reply_text(99), "unassigned reply code 99");
  for (int code = 1; code <= 8; ++code)
    EXPECT_THAT(socks5_reply_text(static_cast<std::uint8_t>(code)), ::testing::Not(HasSubstr("unassigned")));
}

}  // namespace
}  // namespace herald::detail
