// Tunnels through real proxies from Debian's packages, started by the tests on
// loopback: tinyproxy for HTTP CONNECT (Basic auth required) and Dante's danted for
// SOCKS5, each to an echo target on 127.0.0.1:0. The exchange is the SDK's own
// (async_http_connect, async_socks5_connect) over a beast::tcp_stream bounded by
// expires_after, the way the connection will run it between TCP and TLS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "herald/error.hpp"
#include "herald/proxy.hpp"
#include "proxy/echo_target.hpp"
#include "proxy/proxy_daemons.hpp"
#include "proxy/tls_terminator.hpp"
#include "support/scoped_proxy_environment.hpp"
#include "transport/proxy/http_connect.hpp"
#include "transport/proxy/proxy_selection.hpp"
#include "transport/proxy/socks5_connect.hpp"

namespace herald::test {
namespace {

using Environment = ScopedProxyEnvironment::Values;

namespace asio = boost::asio;
namespace beast = boost::beast;
using detail::ProxyCredentials;
using detail::ProxyEndpoint;
using detail::ProxyKind;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kDeadline = std::chrono::seconds{10};

struct TunnelOutcome {
  bool finished = false;  ///< false: the run hit its bound (a hang)
  std::error_code ec;     ///< herald::errc of the proxy exchange, or the echo's I/O error
  std::string detail;
  std::string echoed;  ///< what came back through the tunnel
};

// After the proxy exchange: `payload` through the tunnel and its echo read back.
template <class Stream>
auto echo_after_tunnel(Stream& stream, const std::string& payload, std::string& echo, TunnelOutcome& out) {
  return [&stream, &payload, &echo, &out](std::error_code ec, std::string detail) {
    if (ec) {
      out.finished = true;
      out.ec = ec;
      out.detail = std::move(detail);
      return;
    }
    asio::async_write(stream, asio::buffer(payload), [&](boost::system::error_code wec, std::size_t) {
      if (wec) {
        out.finished = true;
        out.ec = wec;
        return;
      }
      asio::async_read(stream, asio::buffer(echo), [&](boost::system::error_code rec, std::size_t n) {
        out.finished = true;
        out.ec = rec;
        out.echoed = echo.substr(0, n);
      });
    });
  };
}

template <class Stream, class Handler>
void start_proxy_exchange(Stream& stream, const ProxyEndpoint& proxy, const std::string& target_host,
                          std::uint16_t target_port, Handler handler) {
  if (proxy.kind == ProxyKind::socks5) {
    detail::async_socks5_connect(stream, target_host, target_port, proxy.credentials, std::move(handler));
  } else {
    detail::async_http_connect(stream, target_host, target_port, proxy.credentials, std::move(handler));
  }
}

asio::ip::tcp::endpoint proxy_address(const ProxyEndpoint& proxy) {
  return {asio::ip::make_address(proxy.host), proxy.port};
}

// TCP to the proxy, the proxy exchange, then `payload` through the tunnel and its echo
// read back. One deadline for all of it (the stream's expiry).
TunnelOutcome tunnel_and_echo(const ProxyEndpoint& proxy, const std::string& target_host, std::uint16_t target_port,
                              const std::string& payload) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  TunnelOutcome out;
  std::string echo(payload.size(), '\0');
  stream.expires_after(kDeadline);
  stream.async_connect(proxy_address(proxy), [&](boost::system::error_code ec) {
    if (ec) {
      out.finished = true;
      out.ec = ec;
      out.detail = "TCP to the proxy: " + ec.message();
      return;
    }
    start_proxy_exchange(stream, proxy, target_host, target_port, echo_after_tunnel(stream, payload, echo, out));
  });
  ioc.run_for(kDeadline + std::chrono::seconds{5});
  return out;
}

// The same through an https:// proxy: TLS to the proxy (trusting `proxy_certificate`),
// then CONNECT inside that TLS session.
TunnelOutcome tls_tunnel_and_echo(const ProxyEndpoint& proxy, const std::string& proxy_certificate,
                                  const std::string& target_host, std::uint16_t target_port,
                                  const std::string& payload) {
  asio::io_context ioc;
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.add_certificate_authority(asio::buffer(proxy_certificate));
  context.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  TunnelOutcome out;
  std::string echo(payload.size(), '\0');
  beast::get_lowest_layer(stream).expires_after(kDeadline);
  beast::get_lowest_layer(stream).async_connect(proxy_address(proxy), [&](boost::system::error_code ec) {
    if (ec) {
      out.finished = true;
      out.ec = ec;
      out.detail = "TCP to the proxy: " + ec.message();
      return;
    }
    stream.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code hec) {
      if (hec) {
        out.finished = true;
        out.ec = hec;
        out.detail = "TLS to the proxy: " + hec.message();
        return;
      }
      start_proxy_exchange(stream, proxy, target_host, target_port, echo_after_tunnel(stream, payload, echo, out));
    });
  });
  ioc.run_for(kDeadline + std::chrono::seconds{5});
  return out;
}

ProxyEndpoint endpoint(ProxyKind kind, std::uint16_t port, std::optional<ProxyCredentials> credentials = std::nullopt) {
  ProxyEndpoint p;
  p.kind = kind;
  p.host = "127.0.0.1";
  p.port = port;
  p.credentials = std::move(credentials);
  return p;
}

class Tinyproxy : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto binary = tinyproxy_binary();
    if (!binary) GTEST_SKIP() << "tinyproxy is not installed (scripts/deps.sh installs it)";
    proxy_ = start_tinyproxy(*binary, kUser, kPassword);
  }
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "tinyproxy log:\n" << proxy_->log();
  }
  std::unique_ptr<RunningProxy> proxy_;
  EchoTarget target_;
};

TEST_F(Tinyproxy, RightCredentialsOpenATunnelAndTheTargetSeesTheBytes) {
  const auto r = tunnel_and_echo(endpoint(ProxyKind::http, proxy_->port(), ProxyCredentials{kUser, kPassword}),
                                 "127.0.0.1", target_.port(), "hello through tinyproxy\n");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.ec.message() << ": " << r.detail;
  EXPECT_EQ(r.echoed, "hello through tinyproxy\n");
  EXPECT_EQ(target_.received(), "hello through tinyproxy\n");
}

TEST_F(Tinyproxy, WrongCredentialsAreAPermanentProxyAuthFailure) {
  // tinyproxy 1.11 answers a wrong password with 401 (and no credentials with 407).
  const auto r = tunnel_and_echo(endpoint(ProxyKind::http, proxy_->port(), ProxyCredentials{kUser, "wrong-secret"}),
                                 "127.0.0.1", target_.port(), "x");
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed) << r.ec.message() << ": " << r.detail;
  EXPECT_TRUE(r.ec == condition::permanent);
  EXPECT_THAT(r.detail, Not(HasSubstr("secret")));
  EXPECT_EQ(target_.received(), "");
}

TEST_F(Tinyproxy, NoCredentialsAreAPermanentProxyAuthFailure) {
  const auto r = tunnel_and_echo(endpoint(ProxyKind::http, proxy_->port()), "127.0.0.1", target_.port(), "x");
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("407"));
}

TEST_F(Tinyproxy, AnHttpsProxyTunnelsInsideItsTlsSession) {
  // tinyproxy speaks no TLS: a terminator in front of it plays the https:// proxy.
  TlsTerminator tls_proxy(proxy_->port());
  const auto r =
      tls_tunnel_and_echo(endpoint(ProxyKind::https, tls_proxy.port(), ProxyCredentials{kUser, kPassword}),
                          tls_proxy.certificate_pem(), "127.0.0.1", target_.port(), "inside TLS to the proxy");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.ec.message() << ": " << r.detail;
  EXPECT_EQ(r.echoed, "inside TLS to the proxy");
  EXPECT_EQ(target_.received(), "inside TLS to the proxy");
}

TEST_F(Tinyproxy, WrongCredentialsThroughAnHttpsProxyAreAProxyAuthFailure) {
  TlsTerminator tls_proxy(proxy_->port());
  const auto r = tls_tunnel_and_echo(endpoint(ProxyKind::https, tls_proxy.port(), ProxyCredentials{kUser, "wrong"}),
                                     tls_proxy.certificate_pem(), "127.0.0.1", target_.port(), "x");
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.ec, errc::proxy_auth_failed) << r.detail;
}

TEST_F(Tinyproxy, ATargetThatRefusesIsATransientProxyFailureWithTheStatus) {
  const std::uint16_t closed_port = pick_free_port();  // nothing listens there
  const auto r = tunnel_and_echo(endpoint(ProxyKind::http, proxy_->port(), ProxyCredentials{kUser, kPassword}),
                                 "127.0.0.1", closed_port, "x");
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.ec, errc::proxy_failed) << r.detail;
  EXPECT_TRUE(r.ec == condition::transient);
  EXPECT_THAT(r.detail, HasSubstr("refused the tunnel: 5"));
}

TEST_F(Tinyproxy, HttpsProxyFromTheEnvironmentWithPercentEncodedCredentialsTunnels) {
  // "tunnel-secret-7" with its dashes percent-encoded, as a user would put it in a URL.
  ScopedProxyEnvironment env(
      Environment{{"HTTPS_PROXY", "http://herald:tunnel%2Dsecret%2D7@127.0.0.1:" + std::to_string(proxy_->port())},
                  {"NO_PROXY", "example.org"}});
  const auto options = ProxyOptions::from_environment();
  const detail::StreamUrl target{true, "127.0.0.1", std::to_string(target_.port()), "/v1/stream"};
  const auto choice = detail::select_proxy(options, target);
  ASSERT_TRUE(std::holds_alternative<ProxyEndpoint>(choice));
  EXPECT_THAT(to_string(options), Not(HasSubstr("secret")));
  const auto r = tunnel_and_echo(std::get<ProxyEndpoint>(choice), "127.0.0.1", target_.port(), "via the environment");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.echoed, "via the environment");
}

TEST_F(Tinyproxy, NoProxyFromTheEnvironmentSendsTheTargetDirect) {
  ScopedProxyEnvironment env(Environment{{"https_proxy", "http://127.0.0.1:" + std::to_string(proxy_->port())},
                                         {"no_proxy", "localhost,127.0.0.0/8"}});
  const detail::StreamUrl target{true, "127.0.0.1", std::to_string(target_.port()), "/v1/stream"};
  EXPECT_TRUE(
      std::holds_alternative<detail::DirectConnection>(detail::select_proxy(ProxyOptions::from_environment(), target)));
}

class Danted : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto binary = danted_binary();
    if (!binary) GTEST_SKIP() << "danted is not installed (package dante-server; scripts/deps.sh installs it)";
    proxy_ = start_danted(*binary);
  }
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "danted log:\n" << proxy_->log();
  }
  std::unique_ptr<RunningProxy> proxy_;
  EchoTarget target_;
};

TEST_F(Danted, Socks5TunnelToAnIpAddressReachesTheTarget) {
  const auto r = tunnel_and_echo(endpoint(ProxyKind::socks5, proxy_->port()), "127.0.0.1", target_.port(),
                                 "hello through dante\n");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.ec.message() << ": " << r.detail;
  EXPECT_EQ(r.echoed, "hello through dante\n");
  EXPECT_EQ(target_.received(), "hello through dante\n");
}

TEST_F(Danted, Socks5hSendsTheNameAndTheProxyResolvesIt) {
  const auto r = tunnel_and_echo(endpoint(ProxyKind::socks5, proxy_->port()), "localhost", target_.port(),
                                 "resolved by the proxy");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.ec.message() << ": " << r.detail;
  EXPECT_EQ(r.echoed, "resolved by the proxy");
}

TEST_F(Danted, ARefusingTargetIsATransientProxyFailure) {
  const std::uint16_t closed_port = pick_free_port();
  const auto r = tunnel_and_echo(endpoint(ProxyKind::socks5, proxy_->port()), "127.0.0.1", closed_port, "x");
  ASSERT_TRUE(r.finished);
  EXPECT_EQ(r.ec, errc::proxy_failed) << r.detail;
  EXPECT_THAT(r.detail, HasSubstr("refused the tunnel"));
}

TEST_F(Danted, CredentialsOfferedToAProxyWithoutAuthAreNotNeeded) {
  // The greeting offers "no auth" too; Dante picks it and the tunnel opens.
  const auto r = tunnel_and_echo(endpoint(ProxyKind::socks5, proxy_->port(), ProxyCredentials{"u", "p"}), "127.0.0.1",
                                 target_.port(), "ok");
  ASSERT_TRUE(r.finished);
  ASSERT_FALSE(r.ec) << r.detail;
  EXPECT_EQ(r.echoed, "ok");
}

}  // namespace
}  // namespace herald::test
