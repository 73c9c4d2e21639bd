// End to end: a server drains for a deploy; the client keeps receiving during the
// window, moves when the server goes, and loses nothing.
#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using Drain = ServerFixture;

TEST_F(Drain, SingleServerRedeployLosesNothing) {
  start_server(server_options(db_file()));
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::vector<std::uint64_t> published{server_->publish("alice", "before", "{}")};
  ASSERT_TRUE(rec.wait_ids(1));

  server_->drain(std::chrono::milliseconds{1500});
  // Still delivered while the window runs: the client stays on its connection even
  // though its attempt to move is refused (a lone server answers 503 while draining).
  published.push_back(server_->publish("alice", "during", "{}"));
  ASSERT_TRUE(rec.wait_ids(2));
  server_->wait_drained();
  ASSERT_TRUE(rec.wait_state(State::reconnecting));

  // The deploy: a new process on the same port and database; something was published
  // in between.
  server_.reset();
  auto next = std::make_unique<server::Server>(server_options(db_file()));
  published.push_back(next->publish("alice", "between", "{}"));
  server_ = std::move(next);
  ASSERT_EQ(server_->start(), port_);
  ASSERT_TRUE(rec.wait_ids(3));
  published.push_back(server_->publish("alice", "after", "{}"));
  ASSERT_TRUE(rec.wait_ids(4));
  EXPECT_EQ(rec.ids(), published);
}

TEST_F(Drain, ReconnectNowWhileConnectedSwitchesWithoutAStateChange) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  ASSERT_TRUE(rec.wait_ids(3));
  const auto states_before = rec.states().size();
  client.reconnect_now();  // e.g. the OS reported a network change
  // Publishing goes on while the client opens its new connection and switches.
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  ASSERT_TRUE(eventually([&] { return client.metrics().connects == 2 && server_->connection_count() == 1; }));
  published.push_back(server_->publish("alice", "t", "{}"));
  ASSERT_TRUE(rec.wait_ids(7));
  EXPECT_EQ(rec.ids(), published);
  EXPECT_EQ(rec.states().size(), states_before);  // the application saw no state change
  EXPECT_EQ(client.metrics().connects, 2u);
}

// Ten switches, each with 100 notifications published while the new connection opens
// and replays, so the two connections of a switch carry the same ids: each switch is a
// connection and a switch, none is a reconnect, and the overlap is no duplicate (the
// server sent no id twice on one connection). Every id is handed over once, in order.
TEST_F(Drain, SwitchesAreNeitherReconnectsNorDuplicates) {
  start_server(server_options());
  Client client(client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0})));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto states_before = rec.states().size();
  std::vector<std::uint64_t> published;
  constexpr std::uint64_t kSwitches = 10;
  for (std::uint64_t i = 1; i <= kSwitches; ++i) {
    client.reconnect_now();
    for (int k = 0; k < 100; ++k) published.push_back(server_->publish("alice", "t", "{}"));
    ASSERT_TRUE(eventually([&] { return client.metrics().switches == i; })) << "switch " << i;
  }
  ASSERT_TRUE(rec.wait_ids(published.size()));
  // A notification counts as delivered once its callback has returned, which can be a
  // moment after the recorder saw it; stop() waits for the callback in progress.
  client.stop();
  EXPECT_EQ(rec.ids(), published);
  const auto m = client.metrics();
  EXPECT_EQ(m.switches, kSwitches);
  EXPECT_EQ(m.connects, kSwitches + 1);
  EXPECT_EQ(m.reconnects, 0u);
  EXPECT_EQ(m.duplicates_dropped, 0u);
  EXPECT_EQ(m.notifications_delivered, published.size());
  EXPECT_EQ(rec.states().size(), states_before);
}

}  // namespace
}  // namespace herald::test
