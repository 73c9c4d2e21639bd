// Stream URLs: ws/wss only, default ports, IPv6 literals, and never a token or
// credentials in the URL. Error texts never repeat the query (it may hold a secret).
#include "transport/url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace herald::detail {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Parsed {
  std::optional<StreamUrl> url;
  std::string error;
};

Parsed parse(std::string_view text) {
  Parsed p;
  p.url = parse_stream_url(text, p.error);
  return p;
}

TEST(StreamUrl, WsWithDefaultPort) {
  const auto p = parse("ws://notify.example.com/v1/stream");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_FALSE(p.url->tls);
  EXPECT_EQ(p.url->host, "notify.example.com");
  EXPECT_EQ(p.url->port, "80");
  EXPECT_EQ(p.url->target, "/v1/stream");
}

TEST(StreamUrl, WssWithDefaultPort) {
  const auto p = parse("wss://notify.example.com/v1/stream");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_TRUE(p.url->tls);
  EXPECT_EQ(p.url->port, "443");
}

TEST(StreamUrl, ExplicitPortAndQueryAreKept) {
  const auto p = parse("wss://127.0.0.1:8443/v1/stream?client=cli&v=2");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_EQ(p.url->host, "127.0.0.1");
  EXPECT_EQ(p.url->port, "8443");
  EXPECT_EQ(p.url->target, "/v1/stream?client=cli&v=2");
}

TEST(StreamUrl, SchemeIsCaseInsensitive) {
  const auto p = parse("WSS://host/v1/stream");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_TRUE(p.url->tls);
}

TEST(StreamUrl, NoPathMeansRoot) {
  const auto p = parse("ws://host:9000");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_EQ(p.url->port, "9000");
  EXPECT_EQ(p.url->target, "/");
  const auto q = parse("ws://host?x=1");
  ASSERT_TRUE(q.url) << q.error;
  EXPECT_EQ(q.url->host, "host");
  EXPECT_EQ(q.url->target, "/?x=1");
}

TEST(StreamUrl, Ipv6Literal) {
  const auto p = parse("ws://[::1]:8080/v1/stream");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_EQ(p.url->host, "::1");
  EXPECT_EQ(p.url->port, "8080");
  EXPECT_EQ(p.url->target, "/v1/stream");
  const auto d = parse("wss://[2001:db8::7]/v1/stream");
  ASSERT_TRUE(d.url) << d.error;
  EXPECT_EQ(d.url->host, "2001:db8::7");
  EXPECT_EQ(d.url->port, "443");
}

TEST(StreamUrl, UnterminatedIpv6LiteralIsRefused) { EXPECT_FALSE(parse("ws://[::1:8080/v1/stream").url); }

// "[::1]junk" is not an authority; it must not silently connect to ::1:80.
TEST(StreamUrl, JunkAfterIpv6LiteralIsRefused) {
  EXPECT_FALSE(parse("ws://[::1]junk/v1/stream").url);
  EXPECT_FALSE(parse("ws://[::1]8080/v1/stream").url);
}

TEST(StreamUrl, OtherSchemesAreRefused) {
  for (const char* u :
       {"http://host/v1/stream", "https://host/", "wss:/host/", "host/v1/stream", "", "://host/", "ftp://host/"}) {
    EXPECT_FALSE(parse(u).url) << u;
  }
}

TEST(StreamUrl, MissingHostIsRefused) {
  for (const char* u : {"ws:///v1/stream", "ws://:80/v1/stream", "wss://", "ws://?x=1", "ws://[]:80/"}) {
    const auto p = parse(u);
    EXPECT_FALSE(p.url) << u;
    EXPECT_FALSE(p.error.empty()) << u;
  }
}

TEST(StreamUrl, BadPortIsRefused) {
  for (const char* u : {"ws://host:65536/", "ws://host:99999/", "ws://host:123456/", "ws://host:8o/", "ws://host:-1/",
                        "ws://host: 80/", "ws://host:+80/", "ws://[::1]:x/"}) {
    const auto p = parse(u);
    EXPECT_FALSE(p.url) << u;
    EXPECT_THAT(p.error, HasSubstr("port")) << u;
  }
  EXPECT_TRUE(parse("ws://host:65535/").url);
  EXPECT_TRUE(parse("ws://host:1/").url);
}

TEST(StreamUrl, CredentialsAreRefused) {
  for (const char* u : {"ws://user:pass@host/v1/stream", "wss://user@host/", "ws://:secret@host:80/"}) {
    const auto p = parse(u);
    EXPECT_FALSE(p.url) << u;
    EXPECT_THAT(p.error, Not(HasSubstr("secret"))) << u;
    EXPECT_THAT(p.error, Not(HasSubstr("pass"))) << u;
  }
}

TEST(StreamUrl, AtSignInPathOrQueryIsNotACredential) {
  const auto p = parse("ws://host/v1/stream?email=a@b.example");
  ASSERT_TRUE(p.url) << p.error;
  EXPECT_EQ(p.url->host, "host");
}

TEST(StreamUrl, TokenInQueryIsRefusedAndTheErrorDoesNotRepeatIt) {
  for (const char* u : {"wss://host/v1/stream?token=SECRETJWT", "wss://host/v1/stream?access_token=SECRETJWT",
                        "wss://host/v1/stream?jwt=SECRETJWT", "wss://host/v1/stream?a=1&Token=SECRETJWT",
                        "wss://host/v1/stream?ACCESS_TOKEN=SECRETJWT&b=2", "wss://host/v1/stream?JwT=SECRETJWT",
                        "wss://host?token=SECRETJWT", "wss://host/v1/stream?token",
                        "wss://host/v1/stream?x=1&jwt=", "wss://host/v1/stream?token=SECRETJWT#frag"}) {
    const auto p = parse(u);
    EXPECT_FALSE(p.url) << u;
    EXPECT_FALSE(p.error.empty()) << u;
    EXPECT_THAT(p.error, Not(HasSubstr("SECRETJWT"))) << u;
    EXPECT_THAT(p.error, Not(HasSubstr("?"))) << u;
  }
}

TEST(StreamUrl, OtherParametersAreFine) {
  for (const char* u : {"wss://host/v1/stream?tokens=1", "wss://host/v1/stream?my_token=1",
                        "wss://host/v1/stream?x=token", "wss://host/v1/stream?jwt_version=2",
                        "wss://host/token/v1/stream", "wss://host/v1/stream?", "wss://host/v1/stream?&&a=b"}) {
    const auto p = parse(u);
    EXPECT_TRUE(p.url) << u << ": " << p.error;
  }
}

TEST(QueryCarriesToken, LooksOnlyAtParameterNamesOfTheQuery) {
  EXPECT_TRUE(query_carries_token("/v1/stream?token=x"));
  EXPECT_TRUE(query_carries_token("/v1/stream?a=b&AcCeSs_ToKeN=x"));
  EXPECT_TRUE(query_carries_token("/?jwt"));
  EXPECT_FALSE(query_carries_token("/v1/stream"));
  EXPECT_FALSE(query_carries_token("/token?x=1"));
  EXPECT_FALSE(query_carries_token("/v1/stream?x=token&y=jwt"));
  EXPECT_FALSE(query_carries_token("/v1/stream?a=1#token=x"));
}

// RFC 6455 section 3: fragment identifiers MUST NOT be used on ws/wss URIs; a fragment
// must never end up in the request target sent to the server.
TEST(StreamUrl, FragmentNeverReachesTheRequestTarget) {
  const auto p = parse("wss://host/v1/stream#section");
  if (p.url) {
    EXPECT_EQ(p.url->target.find('#'), std::string::npos) << p.url->target;
  }
}

}  // namespace
}  // namespace herald::detail
