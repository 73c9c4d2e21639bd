// Proxy URLs: schemes, default ports, IPv6, percent-decoded credentials, and error texts
// and summaries that never show the credentials.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

#include "herald/proxy.hpp"
#include "transport/proxy/proxy_endpoint.hpp"
#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ParsedProxy {
  std::optional<ProxyEndpoint> proxy;
  std::string error;
};

ParsedProxy parse_proxy(std::string_view text) {
  ParsedProxy p;
  p.proxy = parse_proxy_url(text, p.error);
  return p;
}

TEST(ProxyUrl, SchemesAndDefaultPorts) {
  struct Row {
    const char* url;
    ProxyKind kind;
    TargetNameResolution resolution;
    std::uint16_t port;
  };
  const Row rows[] = {
      {"http://proxy.corp", ProxyKind::http, TargetNameResolution::by_proxy, 1080},
      {"HTTP://proxy.corp:3128", ProxyKind::http, TargetNameResolution::by_proxy, 3128},
      {"https://proxy.corp", ProxyKind::https, TargetNameResolution::by_proxy, 443},
      {"socks5://proxy.corp", ProxyKind::socks5, TargetNameResolution::local, 1080},
      {"socks5h://proxy.corp:9050", ProxyKind::socks5, TargetNameResolution::by_proxy, 9050},
      {"proxy.corp:8080", ProxyKind::http, TargetNameResolution::by_proxy, 8080},  // no scheme: http (curl)
      {"http://proxy.corp:3128/", ProxyKind::http, TargetNameResolution::by_proxy, 3128},
  };
  for (const auto& row : rows) {
    const auto p = parse_proxy(row.url);
    ASSERT_TRUE(p.proxy) << row.url << ": " << p.error;
    EXPECT_EQ(p.proxy->kind, row.kind) << row.url;
    EXPECT_EQ(p.proxy->name_resolution, row.resolution) << row.url;
    EXPECT_EQ(p.proxy->host, "proxy.corp") << row.url;
    EXPECT_EQ(p.proxy->port, row.port) << row.url;
    EXPECT_FALSE(p.proxy->credentials) << row.url;
  }
}

TEST(ProxyUrl, Ipv6LiteralWithoutBrackets) {
  const auto p = parse_proxy("http://[::1]:3128");
  ASSERT_TRUE(p.proxy) << p.error;
  EXPECT_EQ(p.proxy->host, "::1");
  EXPECT_EQ(p.proxy->port, 3128);
  EXPECT_EQ(describe(*p.proxy), "http://[::1]:3128");
}

TEST(ProxyUrl, CredentialsArePercentDecoded) {
  const auto p = parse_proxy("http://al%69ce:p%40ss%3Aw0rd@proxy:3128");
  ASSERT_TRUE(p.proxy) << p.error;
  ASSERT_TRUE(p.proxy->credentials);
  EXPECT_EQ(p.proxy->credentials->username, "alice");
  EXPECT_EQ(p.proxy->credentials->password, "p@ss:w0rd");
  const auto user_only = parse_proxy("socks5h://bob@proxy");
  ASSERT_TRUE(user_only.proxy) << user_only.error;
  EXPECT_EQ(user_only.proxy->credentials->username, "bob");
  EXPECT_EQ(user_only.proxy->credentials->password, "");
}

TEST(ProxyUrl, AnAtInThePasswordIsTheLastAtThatCounts) {
  const auto p = parse_proxy("http://u:p@ss@proxy:1");
  ASSERT_TRUE(p.proxy) << p.error;
  EXPECT_EQ(p.proxy->credentials->password, "p@ss");
  EXPECT_EQ(p.proxy->host, "proxy");
}

TEST(ProxyUrl, BadUrlsAreRefusedWithoutRepeatingAnyOfThem) {
  const char* bad[] = {
      "ftp://secretuser:secretpass@proxy:21",   "http://secretuser:secretpass@",
      "http://secretuser:secretpass@proxy:0",   "http://secretuser:secretpass@proxy:65536",
      "http://secretuser:secretpass@proxy:x",   "http://secretuser:secretpass@proxy:",
      "http://secretuser:secretpass@proxy/p",   "http://secretuser:secretpass%zz@proxy",
      "http://secretuser:secretpass%4@proxy",   "http://:secretpass@proxy",
      "http://secretuser:secretpass@[::1",      "http://secretuser:secretpass@[::1]x",
      "http://secretuser:secretpass@[nothex]",  "http://secretuser:secretpass@pro xy",
      "http://secretuser:secretpass@proxy?q=1",
  };
  for (const char* url : bad) {
    const auto p = parse_proxy(url);
    EXPECT_FALSE(p.proxy) << url;
    EXPECT_FALSE(p.error.empty()) << url;
    EXPECT_THAT(p.error, Not(HasSubstr("secret"))) << url;
    EXPECT_THAT(p.error, Not(HasSubstr("proxy:"))) << url;
  }
}

TEST(ProxyUrl, DescribeHidesCredentials) {
  const auto p = parse_proxy("socks5h://secretuser:secretpass@proxy:1080");
  ASSERT_TRUE(p.proxy) << p.error;
  EXPECT_EQ(describe(*p.proxy), "socks5h://<credentials>@proxy:1080");
}

TEST(ProxyOptionsToString, ShowsTheEffectiveProxyPerSchemeWithoutCredentials) {
  ProxyOptions o;
  o.url = "socks5://secretuser:secretpass@socks:1080";
  o.wss_url = "http://secretuser:secretpass@proxy:3128";
  o.no_proxy = {"localhost", ".corp"};
  EXPECT_EQ(to_string(o),
            "wss: http://<credentials>@proxy:3128, ws: socks5://<credentials>@socks:1080, "
            "no_proxy: localhost,.corp");
  o.url.clear();
  o.wss_url = "gopher://secretuser:secretpass@x";
  o.no_proxy.clear();
  EXPECT_EQ(to_string(o), "wss: <invalid proxy URL>, ws: direct");
  EXPECT_EQ(to_string(ProxyOptions{}), "wss: direct, ws: direct");
}

TEST(CheckProxyOptions, NamesTheBadFieldAndNotItsValue) {
  ProxyOptions o;
  EXPECT_NO_THROW(check_proxy_options(o));
  o.ws_url = "http://secretuser:secretpass@proxy:99999";
  try {
    check_proxy_options(o);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("ProxyOptions::ws_url"));
    EXPECT_THAT(e.what(), HasSubstr("port"));
    EXPECT_THAT(e.what(), Not(HasSubstr("secret")));
  }
  o.ws_url.clear();
  o.url = "nope://x";
  EXPECT_THROW(check_proxy_options(o), std::invalid_argument);
}

}  // namespace
}  // namespace herald::detail
