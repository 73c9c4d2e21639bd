// herald::testing as an application uses it: only its public headers, a TestServer
// and a FaultProxy between it and a real client. What docs/testing.md promises.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "herald/client.hpp"
#include "herald/cursor_store.hpp"
#include "herald/testing/fault_proxy.hpp"
#include "herald/testing/test_server.hpp"
#include "support/recorder.hpp"

namespace herald::test {
namespace {

using testkit::Fault;
using testkit::FaultProxy;
using testkit::TestServer;

ClientOptions options_for(const TestServer& server, const std::string& url) {
  ClientOptions o;
  o.url = url;
  o.token_provider = server.token_provider("alice");
  o.cursor_store = std::make_shared<MemoryCursorStore>(Cursor{0});
  o.backoff_initial = std::chrono::milliseconds{10};
  o.backoff_max = std::chrono::milliseconds{100};
  return o;
}

TEST(TestingKit, AClientCutOffByTheFaultProxyCatchesUpOnWhatItMissed) {
  TestServer server;
  FaultProxy proxy(server.port());
  Client client(options_for(server, proxy.url()));
  Recorder rec;
  rec.attach(client);
  client.start();
  for (int i = 0; i < 3; ++i) server.publish("alice", "t");
  ASSERT_TRUE(rec.wait_ids(3));

  proxy.set_fault(Fault::refuse());  // the connection is closed, new ones are refused
  ASSERT_TRUE(rec.wait_state(State::reconnecting));
  for (int i = 0; i < 2; ++i) server.publish("alice", "t");  // while the client is cut off
  proxy.set_fault(Fault::none());
  ASSERT_TRUE(rec.wait_ids(5));
  EXPECT_EQ(rec.ids(), (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_GE(client.metrics().reconnects, 1u);
  client.stop();
}

TEST(TestingKit, RestartKeepsThePortAndTheStore) {
  const auto dir = std::filesystem::temp_directory_path() / ("herald-kit-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  {
    server::ServerOptions o;
    o.db_path = (dir / "herald.db").string();
    TestServer server(o);
    const auto port = server.port();
    ASSERT_NE(port, 0);
    EXPECT_EQ(server.url(), "ws://127.0.0.1:" + std::to_string(port) + "/v1/stream");
    Client client(options_for(server, server.url()));
    Recorder rec;
    rec.attach(client);
    client.start();
    EXPECT_EQ(server.publish("alice", "t"), 1u);
    ASSERT_TRUE(rec.wait_ids(1));

    server.stop();
    EXPECT_THROW(server.server(), std::logic_error);
    EXPECT_FALSE(server.issue_token("alice").empty()) << "tokens are signed while the server is down";
    server.restart();
    EXPECT_EQ(server.port(), port);
    EXPECT_EQ(server.publish("alice", "t"), 2u) << "the store survived the restart";
    ASSERT_TRUE(rec.wait_ids(2));
    EXPECT_EQ(rec.ids(), (std::vector<std::uint64_t>{1, 2}));
    client.stop();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(TestingKit, EachServerHasSecretsOfItsOwn) {
  TestServer a;
  TestServer b;
  EXPECT_NE(a.admin_key(), b.admin_key());
  EXPECT_NE(a.port(), b.port());
  // b's token is refused by a: the client stops with a permanent auth failure.
  auto o = options_for(a, a.url());
  o.token_provider = TokenProvider::fixed(b.issue_token("alice"));
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::stopped));
  EXPECT_EQ(rec.states().back().reason, errc::auth_failed);
}

}  // namespace
}  // namespace herald::test
