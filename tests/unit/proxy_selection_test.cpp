// ProxyOptions::from_environment (curl's precedence), NO_PROXY matching and the choice
// of proxy per target. The environment is set inside each test and restored after it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <variant>

#include "herald/proxy.hpp"
#include "support/scoped_proxy_environment.hpp"
#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

using test::ScopedProxyEnvironment;
using Environment = ScopedProxyEnvironment::Values;

StreamUrl target(bool tls, std::string host) {
  return StreamUrl{tls, std::move(host), tls ? "443" : "80", "/v1/stream"};
}

// "direct", "invalid" or the proxy's host:port.
std::string chosen(const ProxyOptions& o, const StreamUrl& t) {
  const auto choice = select_proxy(o, t);
  if (std::holds_alternative<DirectConnection>(choice)) return "direct";
  if (std::holds_alternative<InvalidProxyOption>(choice)) return "invalid";
  const auto& p = std::get<ProxyEndpoint>(choice);
  return host_port(p.host, p.port);
}

TEST(ProxyEnvironment, CurlPrecedencePerTargetScheme) {
  struct Row {
    const char* what;
    std::map<std::string, std::string> env;
    const char* wss;  // proxy chosen for wss://stream.example
    const char* ws;   // and for ws://stream.example
  };
  const Row rows[] = {
      {"nothing set", {}, "direct", "direct"},
      {"https_proxy for wss only", {{"https_proxy", "h1:1"}}, "h1:1", "direct"},
      {"HTTPS_PROXY when lower case is unset", {{"HTTPS_PROXY", "h2:2"}}, "h2:2", "direct"},
      {"lower case wins over upper case", {{"https_proxy", "low:1"}, {"HTTPS_PROXY", "up:2"}}, "low:1", "direct"},
      {"an empty lower case counts as unset", {{"https_proxy", ""}, {"HTTPS_PROXY", "up:2"}}, "up:2", "direct"},
      {"http_proxy for ws only", {{"http_proxy", "p:3"}}, "direct", "p:3"},
      {"HTTP_PROXY is never read (httpoxy)", {{"HTTP_PROXY", "evil:4"}}, "direct", "direct"},
      {"all_proxy for both", {{"all_proxy", "a:5"}}, "a:5", "a:5"},
      {"ALL_PROXY for both", {{"ALL_PROXY", "A:6"}}, "A:6", "A:6"},
      {"all_proxy wins over ALL_PROXY", {{"all_proxy", "a:5"}, {"ALL_PROXY", "A:6"}}, "a:5", "a:5"},
      {"scheme proxies win over all_proxy",
       {{"https_proxy", "h:1"}, {"http_proxy", "p:2"}, {"all_proxy", "a:3"}},
       "h:1",
       "p:2"},
      {"all_proxy fills in the other scheme", {{"https_proxy", "h:1"}, {"all_proxy", "a:3"}}, "h:1", "a:3"},
      {"no_proxy exempts the target", {{"all_proxy", "a:3"}, {"no_proxy", "example"}}, "direct", "direct"},
      {"NO_PROXY when lower case is unset", {{"all_proxy", "a:3"}, {"NO_PROXY", "stream.example"}}, "direct", "direct"},
      {"no_proxy wins over NO_PROXY",
       {{"all_proxy", "a:3"}, {"no_proxy", "other"}, {"NO_PROXY", "example"}},
       "a:3",
       "a:3"},
      {"no_proxy=* exempts everything", {{"all_proxy", "a:3"}, {"no_proxy", "*"}}, "direct", "direct"},
  };
  for (const auto& row : rows) {
    ScopedProxyEnvironment env(row.env);
    const auto o = ProxyOptions::from_environment();
    EXPECT_EQ(chosen(o, target(true, "stream.example")), row.wss) << row.what;
    EXPECT_EQ(chosen(o, target(false, "stream.example")), row.ws) << row.what;
  }
}

TEST(ProxyEnvironment, NoProxyIsSplitAtCommasAndSpaces) {
  ScopedProxyEnvironment env(Environment{{"NO_PROXY", " localhost, .corp.example,,10.0.0.0/8 ::1"}});
  const auto o = ProxyOptions::from_environment();
  EXPECT_EQ(o.no_proxy, (std::vector<std::string>{"localhost", ".corp.example", "10.0.0.0/8", "::1"}));
}

TEST(ProxyEnvironment, RestoresTheEnvironmentItChanged) {
  ScopedProxyEnvironment outer(Environment{{"https_proxy", "before:1"}});
  {
    ScopedProxyEnvironment inner(Environment{{"https_proxy", "during:2"}, {"NO_PROXY", "x"}});
    EXPECT_STREQ(std::getenv("https_proxy"), "during:2");
  }
  ASSERT_NE(std::getenv("https_proxy"), nullptr);
  EXPECT_STREQ(std::getenv("https_proxy"), "before:1");
  EXPECT_EQ(std::getenv("NO_PROXY"), nullptr);
}

TEST(NoProxy, MatchingRules) {
  struct Row {
    const char* rules;
    const char* host;
    bool direct;
  };
  const Row rows[] = {
      {"example.com", "example.com", true},
      {"example.com", "api.example.com", true},
      {"example.com", "a.b.example.com", true},
      {".example.com", "api.example.com", true},
      {".example.com", "example.com", true},     // leading dot optional both ways (curl)
      {"example.com", "badexample.com", false},  // label boundary
      {"example.com", "example.com.evil", false},
      {"Example.COM", "API.example.com", true},  // case-insensitive
      {"example.com.", "example.com", true},     // trailing dots ignored
      {"example.com", "example.com.", true},
      {"example.com:8443", "example.com", true},  // ports ignored
      {"*", "anything.at.all", true},
      {"a.com,*", "x.org", true},
      {"*.example.com", "api.example.com", false},  // no glob syntax (curl neither)
      {"", "example.com", false},
      {"localhost", "localhost", true},
      {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"127.0.0.1:80", "127.0.0.1", true},
      {"10.0.0.0/8", "10.20.30.40", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"192.168.1.0/24", "192.168.1.255", true},
      {"192.168.1.0/24", "192.168.2.1", false},
      {"0.0.0.0/0", "8.8.8.8", true},
      {"10.0.0.0/33", "10.0.0.1", false},       // bad prefix length: no match
      {"10.0.0.0/8", "10.example.com", false},  // CIDR only for IP hosts
      {"::1", "::1", true},
      {"[::1]", "::1", true},
      {"[::1]:443", "[::1]", true},
      {"::1", "0:0:0:0:0:0:0:1", true},  // same address, other spelling
      {"fd00::/8", "fd12:3456::1", true},
      {"fd00::/8", "fe80::1", false},
      {"10.0.0.0/8", "::ffff:10.0.0.1", false},  // families differ
      {"1.2.3.4", "1.2.3.4.example.com", false},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(no_proxy_matches(split_no_proxy(row.rules), row.host), row.direct)
        << "rules '" << row.rules << "' host '" << row.host << "'";
  }
}

TEST(SelectProxy, ExplicitOptionsByScheme) {
  ProxyOptions o;
  o.url = "socks5h://socks:1080";
  o.wss_url = "http://proxy:3128";
  EXPECT_EQ(chosen(o, target(true, "stream.example")), "proxy:3128");
  EXPECT_EQ(chosen(o, target(false, "stream.example")), "socks:1080");
  o.no_proxy = {"127.0.0.0/8"};
  EXPECT_EQ(chosen(o, target(true, "127.0.0.1")), "direct");
  EXPECT_EQ(chosen(o, target(true, "localhost")), "proxy:3128");  // a name is not resolved to match a CIDR
}

TEST(SelectProxy, AnUnusableUrlIsReportedWithItsFieldAndNoSecret) {
  ProxyOptions o;
  o.wss_url = "http://secretuser:secretpass@proxy:notaport";
  const auto choice = select_proxy(o, target(true, "stream.example"));
  ASSERT_TRUE(std::holds_alternative<InvalidProxyOption>(choice));
  const auto& message = std::get<InvalidProxyOption>(choice).message;
  EXPECT_NE(message.find("ProxyOptions::wss_url"), std::string::npos) << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(SelectProxy, NothingReadsTheEnvironmentUnlessAsked) {
  ScopedProxyEnvironment env(Environment{{"all_proxy", "a:3"}, {"https_proxy", "h:1"}});
  EXPECT_EQ(chosen(ProxyOptions{}, target(true, "stream.example")), "direct");
}

}  // namespace
}  // namespace herald::detail
