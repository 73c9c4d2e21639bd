// End to end: authentication failures, refused URLs, a server that is not there yet.
#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using Resilience = ServerFixture;

TEST_F(Resilience, BadTokenIsRefusedWith401AndReportedAsPermanentAuthFailure) {
  start_server(server_options());
  auto o = client_options("alice");
  o.token_provider = TokenProvider::fixed("not-a-jwt");
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::stopped));
  const auto states = rec.states();
  const auto& last = states.back();
  EXPECT_EQ(last.reason, errc::auth_failed);
  EXPECT_TRUE(last.reason == condition::permanent);
  EXPECT_NE(last.detail.find("401"), std::string::npos);
  EXPECT_EQ(last.detail.find("not-a-jwt"), std::string::npos);  // never the token
  EXPECT_EQ(client.metrics().connects, 0u);
}

TEST_F(Resilience, TokenSignedWithAnotherKeyIsRefused) {
  start_server(server_options());
  auto other_opts = server_options();
  other_opts.jwt_secret = "some-other-secret-entirely";
  other_opts.port = 0;
  server::Server other(other_opts);
  auto o = client_options("alice");
  o.token_provider = TokenProvider::fixed(other.issue_token("alice", std::chrono::hours{1}));
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::stopped));
  EXPECT_EQ(rec.states().back().reason, errc::auth_failed);
}

TEST_F(Resilience, ExpiredTokenFromTheProviderIsNeverSent) {
  start_server(server_options());
  auto o = client_options("alice");
  o.token_provider = TokenProvider::fixed(server_->issue_token("alice", std::chrono::seconds{-60}));
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::reconnecting));
  EXPECT_EQ(rec.states().back().reason, errc::token_fetch_failed);
  EXPECT_EQ(client.metrics().connects, 0u);
}

TEST_F(Resilience, UrlWithATokenInTheQueryIsRejectedBeforeAnyConnection) {
  for (const char* q : {"?token=abc", "?x=1&access_token=abc", "?JWT=abc"}) {
    ClientOptions o;
    o.url = std::string("ws://127.0.0.1:1/v1/stream") + q;
    o.token_provider = TokenProvider::fixed("t");
    try {
      Client c(std::move(o));
      ADD_FAILURE() << "accepted " << q;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("ClientOptions.url"), std::string::npos);
      EXPECT_EQ(std::string(e.what()).find("abc"), std::string::npos);
    }
  }
}

TEST_F(Resilience, OptionsAreValidatedWithTheFieldNamed) {
  ClientOptions o;
  o.url = "ws://127.0.0.1:1/v1/stream";
  EXPECT_THROW(Client{o}, std::invalid_argument);  // no token provider
  o.token_provider = TokenProvider::fixed("t");
  o.url = "http://127.0.0.1/v1/stream";
  EXPECT_THROW(Client{o}, std::invalid_argument);
}

TEST_F(Resilience, ClientStartedBeforeTheServerConnectsOnceItIsUp) {
  // Reserve a port, then free it: the client starts against nothing.
  start_server(server_options(db_file()));
  server_.reset();
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::reconnecting, 2));
  EXPECT_EQ(rec.states().back().reason, errc::connect_failed);
  EXPECT_TRUE(rec.states().back().next_attempt_at.has_value());
  auto revived = std::make_unique<server::Server>(server_options(db_file()));
  const auto id = revived->publish("alice", "t", "{}");
  server_ = std::move(revived);
  ASSERT_EQ(server_->start(), port_);
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{id});
}

}  // namespace
}  // namespace herald::test
