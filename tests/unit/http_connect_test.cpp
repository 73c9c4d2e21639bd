// async_http_connect on an in-memory stream: the request's exact bytes, each kind of
// answer, no tunnel byte lost, every I/O failure in turn, and no credential in any
// error detail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "herald/error.hpp"
#include "transport/proxy/connect_response.hpp"
#include "transport/proxy/http_connect.hpp"
#include "tunnel_harness.hpp"

namespace herald::detail {
namespace {

using test::run_tunnel;
using ::testing::HasSubstr;
using ::testing::Not;

const ProxyCredentials kCredentials{"secretuser", "secretpass"};

test::TunnelResult connect_through(const std::string& proxy_says, bool then_close = false,
                                   std::optional<ProxyCredentials> credentials = std::nullopt,
                                   std::string host = "stream.example",
                                   boost::beast::test::fail_count* fail = nullptr) {
  return run_tunnel(
      [&](auto& stream, auto handler) { async_http_connect(stream, host, 443, credentials, std::move(handler)); },
      proxy_says, then_close, fail);
}

void expect_no_secret(const test::TunnelResult& r) {
  EXPECT_THAT(r.detail, Not(HasSubstr("secret")));
  EXPECT_THAT(r.detail, Not(HasSubstr("c2VjcmV0")));  // base64 of "secret"
  EXPECT_THAT(r.ec.message(), Not(HasSubstr("secret")));
}

TEST(HttpConnect, RequestWithoutCredentials) {
  const auto r = connect_through("HTTP/1.1 200 Connection established\r\n\r\n");
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.written, "CONNECT stream.example:443 HTTP/1.1\r\nHost: stream.example:443\r\n\r\n");
}

TEST(HttpConnect, RequestWithBasicCredentialsAndBracketedIpv6) {
  const auto r = connect_through("HTTP/1.1 200 OK\r\n\r\n", false, ProxyCredentials{"Aladdin", "open sesame"}, "::1");
  ASSERT_TRUE(r.completed);
  EXPECT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.written,
            "CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");  // RFC 7617's example
}

TEST(HttpConnect, BytesAfterTheHeaderStayInTheStreamForTheTunnel) {
  const std::string tunnel = "\x16\x03\x01 server speaks first, with \r\n\r\n inside";
  for (const std::string header : {"HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.0 200 Connection established\r\nVia: x\r\n\r\n",
                                   "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"}) {
    const auto r = connect_through(header + tunnel);
    ASSERT_TRUE(r.completed) << header;
    EXPECT_FALSE(r.ec) << r.detail;
    EXPECT_EQ(r.unread, tunnel) << header;  // not one byte consumed past the header
  }
}

TEST(HttpConnect, Status407IsAPermanentProxyAuthFailure) {
  const auto r = connect_through(
      "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
      "Content-Length: 5\r\n\r\nnope!",
      false, kCredentials);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed);
  EXPECT_TRUE(r.ec == condition::permanent);
  EXPECT_THAT(r.detail, HasSubstr("407"));
  expect_no_secret(r);
}

// tinyproxy 1.11 answers a wrong password with 401 (407 only when none was sent); a proxy
// answering CONNECT has not reached the target, so a 401 is about its own credentials.
TEST(HttpConnect, Status401IsAPermanentProxyAuthFailureToo) {
  const auto r = connect_through(
      "HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n<html/>",
      false, kCredentials);
  ASSERT_TRUE(r.completed);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("401"));
  expect_no_secret(r);
}

TEST(HttpConnect, OtherStatusesAreTransientProxyFailuresNamingTheStatus) {
  for (const auto& [answer, status] : std::vector<std::pair<std::string, std::string>>{
           {"HTTP/1.1 403 Forbidden\r\n\r\n", "403 Forbidden"},
           {"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", "502"},
           {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "101"},
           {"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n", "301"}}) {
    const auto r = connect_through(answer, false, kCredentials);
    ASSERT_TRUE(r.completed) << answer;
    EXPECT_EQ(r.ec, errc::proxy_failed) << answer;
    EXPECT_TRUE(r.ec == condition::transient);
    EXPECT_THAT(r.detail, HasSubstr(status));
    expect_no_secret(r);
  }
}

TEST(HttpConnect, GarbageEarlyCloseAndOversizeHeadersAreProxyFailures) {
  struct Row {
    std::string answer;
    bool close;
    const char* detail;
  };
  const Row rows[] = {
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n", false, "not a valid HTTP response"},
      {"HTTP/1.1 2000 OK\r\n\r\n", false, "not a valid HTTP response"},
      {"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", false, "not a valid HTTP response"},
      {"", true, "closed the connection"},
      {"HTTP/1.1 200 OK\r\n", true, "closed the connection"},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(kMaxConnectResponseHeader, 'x') + "\r\n\r\n", false, "exceeds 8192"},
  };
  for (const auto& row : rows) {
    const auto r = connect_through(row.answer, row.close, kCredentials);
    ASSERT_TRUE(r.completed) << row.answer.substr(0, 40);
    EXPECT_EQ(r.ec, errc::proxy_failed) << row.answer.substr(0, 40);
    EXPECT_THAT(r.detail, HasSubstr(row.detail));
    expect_no_secret(r);
  }
}

TEST(HttpConnect, EveryFailingReadOrWriteEndsInAProxyFailure) {
  const std::string answer = "HTTP/1.1 200 OK\r\nVia: 1.1 proxy\r\n\r\nTUNNEL";
  bool succeeded = false;
  for (std::size_t n = 0; n < 200 && !succeeded; ++n) {
    boost::beast::test::fail_count fail(n);
    const auto r = connect_through(answer, false, kCredentials, "stream.example", &fail);
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

TEST(ConnectHeaderBytesWanted, NeverReadsPastTheTerminator) {
  EXPECT_EQ(connect_header_bytes_wanted(""), 4u);
  EXPECT_EQ(connect_header_bytes_wanted("HTTP/1.1 200 OK"), 4u);
  EXPECT_EQ(connect_header_bytes_wanted("HTTP/1.1 200 OK\r"), 3u);
  EXPECT_EQ(connect_header_bytes_wanted("HTTP/1.1 200 OK\r\n"), 2u);
  EXPECT_EQ(connect_header_bytes_wanted("HTTP/1.1 200 OK\r\n\r"), 1u);
  EXPECT_EQ(connect_header_bytes_wanted("HTTP/1.1 200 OK\r\n\r\n"), 0u);
  EXPECT_EQ(connect_header_bytes_wanted("\r\r"), 3u);
}

}  // namespace
}  // namespace herald::detail
