// The base of the front-end tests: the in-process server fixture (temp folder, token
// issuer), the front-end's binary or a skip saying why, and client options with a short
// backoff that resume from cursor 0 (every id published for the user is handed over).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "frontends/frontend_daemons.hpp"
#include "herald/client.hpp"
#include "herald/cursor_store.hpp"
#include "support/recorder.hpp"
#include "support/server_fixture.hpp"
#include "support/stream_checker.hpp"

namespace herald::test {

class FrontendTest : public InProcessServerTest {
 protected:
  ClientOptions client_options(const std::string& url, const std::string& user) const {
    auto o = base_client_options(url, user, from_the_start());
    o.backoff_max = std::chrono::milliseconds{300};
    o.connect_timeout = std::chrono::seconds{5};
    return o;
  }

  /// A front-end's logs must never carry a token (every JWT starts with "eyJ").
  static void expect_no_token_in(const std::string& log) {
    EXPECT_THAT(log, ::testing::Not(::testing::HasSubstr("eyJ"))) << "a token reached the front-end's log";
  }

  /// The front-end's binary, found by the suite's SetUp (which skips without it).
  std::string binary_;
};

}  // namespace herald::test
