// check_options: every ClientOptions field checked once, at construction, with the
// field named; the stream URLs parsed once, in the configured order.
#include "client/options.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace herald::detail {
namespace {

using namespace std::chrono_literals;

ClientOptions valid() {
  ClientOptions o;
  o.url = "ws://127.0.0.1:8080/v1/stream";
  o.token_provider = TokenProvider::fixed("t");
  return o;
}

// The message check_options throws for `o`, or "" when it accepts it.
std::string refusal(ClientOptions o) {
  try {
    (void)check_options(std::move(o));
    return "";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

TEST(CheckOptions, AValidConfigurationIsAcceptedWithItsUrlsParsedInOrder) {
  auto o = valid();
  o.urls = {"wss://b.example:9443/v1/stream", "ws://c.example/v1/stream"};
  const auto checked = check_options(o);
  ASSERT_EQ(checked.urls.size(), 3u);
  EXPECT_EQ(checked.urls[0].text, o.url);
  EXPECT_EQ(checked.urls[0].url.port, "8080");
  EXPECT_EQ(checked.urls[1].url.host, "b.example");
  EXPECT_TRUE(checked.urls[1].url.tls);
  EXPECT_EQ(checked.urls[2].text, "ws://c.example/v1/stream");
  EXPECT_TRUE(checked.options.cursor_store) << "a MemoryCursorStore by default";
}

TEST(CheckOptions, EachUnusableFieldIsRefusedByName) {
  struct Case {
    std::function<void(ClientOptions&)> spoil;
    std::string named;
  };
  const std::vector<Case> cases = {
      {[](ClientOptions& o) { o.token_provider.reset(); }, "ClientOptions.token_provider is required"},
      {[](ClientOptions& o) { o.url.clear(); }, "ClientOptions.url is required"},
      {[](ClientOptions& o) { o.url = "http://127.0.0.1/v1/stream"; }, "ClientOptions.url: "},
      {[](ClientOptions& o) {
         o.urls = {"ws://a/v1/stream", "ftp://b/"};
       },
       "ClientOptions.urls[1]: "},
      {[](ClientOptions& o) { o.connect_timeout = 0ms; }, "ClientOptions.connect_timeout must be positive"},
      {[](ClientOptions& o) { o.proxy.url = "gopher://proxy:70"; }, "ClientOptions.proxy: "},
      {[](ClientOptions& o) { o.token_timeout = -1ms; }, "ClientOptions.token_timeout must be positive"},
      {[](ClientOptions& o) { o.backoff_initial = 0ms; }, "ClientOptions.backoff_initial must be positive"},
      {[](ClientOptions& o) { o.backoff_max = o.backoff_initial - 1ms; }, "ClientOptions.backoff_max must be >="},
      {[](ClientOptions& o) { o.max_frame_bytes = 1023; }, "ClientOptions.max_frame_bytes must be at least 1024"},
      {[](ClientOptions& o) { o.token_refresh_at = 1.0; }, "ClientOptions.token_refresh_at must be in (0, 1)"},
      {[](ClientOptions& o) { o.token_refresh_at = 0.0; }, "ClientOptions.token_refresh_at must be in (0, 1)"},
      {[](ClientOptions& o) { o.token_refresh_interval = -1ms; }, "ClientOptions.token_refresh_interval must not"},
      {[](ClientOptions& o) { o.token_refresh_spread = 0.25; }, "ClientOptions.token_refresh_spread must be in"},
      {[](ClientOptions& o) { o.retry_after_max = 0ms; }, "ClientOptions.retry_after_max must be positive"},
      {[](ClientOptions& o) { o.reconnect_now_within = -1ms; }, "ClientOptions.reconnect_now_within must not"},
      {[](ClientOptions& o) { o.cursor_flush_interval = -1ms; }, "ClientOptions.cursor_flush_interval must not"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    auto o = valid();
    cases[i].spoil(o);
    const auto what = refusal(o);
    EXPECT_EQ(what.rfind(cases[i].named, 0), 0u) << "case " << i << ": \"" << what << "\"";
  }
}

TEST(CheckOptions, ARefusedUrlIsNotQuoted) {
  auto o = valid();
  o.url = "ws://127.0.0.1/v1/stream?access_token=s3cr3t";
  const auto what = refusal(o);
  EXPECT_EQ(what.rfind("ClientOptions.url: ", 0), 0u) << what;
  EXPECT_EQ(what.find("s3cr3t"), std::string::npos) << what;
}

TEST(LifecycleConfigOf, CarriesEveryLifecycleSetting) {
  auto o = valid();
  o.backoff_initial = 250ms;
  o.backoff_max = 4s;
  o.token_timeout = 7s;
  o.backoff_jitter = false;
  o.backoff_reset_after = 3s;
  o.max_attempts = 9;
  o.max_elapsed = 90s;
  o.token_refresh = false;
  o.token_refresh_at = 0.5;
  o.token_refresh_interval = 20min;
  o.token_refresh_spread = 0.1;
  o.retry_after_max = 60s;
  o.reconnect_now_within = 2s;
  const auto c = lifecycle_config(o);
  EXPECT_EQ(c.backoff_initial, 250ms);
  EXPECT_EQ(c.backoff_max, 4s);
  EXPECT_EQ(c.token_timeout, 7s);
  EXPECT_FALSE(c.jitter);
  EXPECT_EQ(c.stable_after, 3s);
  EXPECT_EQ(c.max_attempts, 9u);
  EXPECT_EQ(c.max_elapsed, 90s);
  EXPECT_FALSE(c.refresh);
  EXPECT_EQ(c.refresh_fraction, 0.5);
  EXPECT_EQ(c.refresh_interval, 20min);
  EXPECT_EQ(c.refresh_spread, 0.1);
  EXPECT_EQ(c.retry_after_max, 60s);
  EXPECT_EQ(c.reconnect_now_within, 2s);
}

}  // namespace
}  // namespace herald::detail
