// async_socks5_connect on an in-memory stream: the exchange's exact bytes, auth, every
// reply code, BND.ADDR of each type consumed exactly (no tunnel byte lost), every I/O
// failure in turn, and no credential in any error detail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "herald/error.hpp"
#include "transport/proxy/socks5_connect.hpp"
#include "tunnel_harness.hpp"

namespace herald::detail {
namespace {

using test::run_tunnel;
using ::testing::HasSubstr;
using ::testing::Not;

const ProxyCredentials kCredentials{"secretuser", "secretpass"};

std::string s(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

const std::string kIpv4Success = s({5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0x38});

test::TunnelResult socks_through(const std::string& proxy_says,
                                 std::optional<ProxyCredentials> credentials = std::nullopt,
                                 std::string host = "stream.example", bool then_close = false,
                                 boost::beast::test::fail_count* fail = nullptr) {
  return run_tunnel(
      [&](auto& stream, auto handler) { async_socks5_connect(stream, host, 443, credentials, std::move(handler)); },
      proxy_says, then_close, fail);
}

void expect_no_secret(const test::TunnelResult& r) {
  EXPECT_THAT(r.detail, Not(HasSubstr("secret")));
  EXPECT_THAT(r.ec.message(), Not(HasSubstr("secret")));
}

TEST(Socks5Connect, NoAuthWithADomainNameTheProxyResolves) {
  const auto r = socks_through(s({5, 0}) + kIpv4Success + "TUNNEL");
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.written, s({5, 1, 0}) + s({5, 1, 0, 3, 14}) + "stream.example" + s({0x01, 0xBB}));
  EXPECT_EQ(r.unread, "TUNNEL");
}

TEST(Socks5Connect, UsernamePasswordThenAnIpTarget) {
  const auto r = socks_through(s({5, 2}) + s({1, 0}) + kIpv4Success, kCredentials, "10.1.2.3");
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.written, s({5, 2, 0, 2}) + s({1, 10}) + "secretuser" + s({10}) + "secretpass" +
                           s({5, 1, 0, 1, 10, 1, 2, 3, 0x01, 0xBB}));
}

TEST(Socks5Connect, EveryBoundAddressTypeIsConsumedExactly) {
  const std::string replies[] = {
      kIpv4Success,
      s({5, 0, 0, 4, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80}),
      s({5, 0, 0, 3, 9}) + "proxy.lan" + s({0, 80}),
  };
  for (const auto& reply : replies) {
    const auto r = socks_through(s({5, 0}) + reply + s({5, 0, 0, 1}) + "rest");
    ASSERT_TRUE(r.completed);
    EXPECT_FALSE(r.ec) << r.detail;
    EXPECT_EQ(r.unread, s({5, 0, 0, 1}) + "rest");
  }
}

TEST(Socks5Connect, RejectedCredentialsAreAPermanentProxyAuthFailure) {
  const auto r = socks_through(s({5, 2}) + s({1, 1}), kCredentials);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed);
  EXPECT_TRUE(r.ec == condition::permanent);
  expect_no_secret(r);
}

TEST(Socks5Connect, AProxyThatRequiresAuthWithoutCredentialsIsAProxyAuthFailure) {
  const auto r = socks_through(s({5, 0xFF}));
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed);
  EXPECT_THAT(r.detail, HasSubstr("requires authentication"));
}

TEST(Socks5Connect, ReplyCodesAreTransientFailuresWithTheirMeaning) {
  for (int code = 1; code <= 9; ++code) {
    const auto r = socks_through(s({5, 2}) + s({1, 0}) + s({5, code, 0, 1, 0, 0, 0, 0, 0, 0}), kCredentials);
    ASSERT_TRUE(r.completed) << code;
    EXPECT_EQ(r.ec, errc::proxy_failed) << code;
    EXPECT_THAT(r.detail, HasSubstr("refused the tunnel")) << code;
    expect_no_secret(r);
  }
  const auto refused = socks_through(s({5, 0}) + s({5, 5, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_THAT(refused.detail, HasSubstr("connection refused by the target"));
}

TEST(Socks5Connect, MalformedAndTruncatedRepliesAreProxyFailures) {
  struct Row {
    std::string answer;
    bool close;
  };
  const Row rows[] = {
      {"HTTP/1.1 400 Bad Request\r\n\r\n", false},    // not a SOCKS server
      {s({5, 0}) + s({5, 0, 0, 7, 1, 2, 3}), false},  // unknown ATYP
      {s({5, 0}) + s({5, 0, 0, 1, 127}), true},       // closed inside BND.ADDR
      {s({5, 2}) + s({1}), true},                     // closed inside the auth status
      {"", true},
  };
  for (const auto& row : rows) {
    const auto r = socks_through(row.answer, kCredentials, "stream.example", row.close);
    ASSERT_TRUE(r.completed);
    EXPECT_EQ(r.ec, errc::proxy_failed);
    EXPECT_FALSE(r.detail.empty());
    expect_no_secret(r);
  }
}

TEST(Socks5Connect, TooLongATargetNameIsRefusedBeforeItIsSent) {
  const auto r = socks_through(s({5, 0}), std::nullopt, std::string(300, 'a'));
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, errc::proxy_failed);
  EXPECT_EQ(r.written, s({5, 1, 0}));
}

TEST(Socks5Connect, EveryFailingReadOrWriteEndsInAProxyFailure) {
  const std::string answer = s({5, 2}) + s({1, 0}) + s({5, 0, 0, 3, 3}) + "a.b" + s({0, 80}) + "TUNNEL";
  bool succeeded = false;
  for (std::size_t n = 0; n < 200 && !succeeded; ++n) {
    boost::beast::test::fail_count fail(n);
    const auto r = socks_through(answer, kCredentials, "stream.example", false, &fail);
    ASSERT_TRUE(r.completed) << "failure at operation " << n;
    if (!r.ec) {
      succeeded = true;
      EXPECT_EQ(r.unread, "TUNNEL");
      break;
    }
    EXPECT_EQ(r.ec, errc::proxy_failed) << n;
    EXPECT_THAT(r.detail, HasSubstr("while")) << n;
    expect_no_secret(r);
  }
  EXPECT_TRUE(succeeded);
}

}  // namespace
}  // namespace herald::detail
