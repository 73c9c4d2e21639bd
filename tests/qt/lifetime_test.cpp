// Destroying a herald::qt::Client while notifications are in flight: with deleteLater()
// while the server publishes, and with `delete` from inside its own signal. No crash
// (these run under ASan too), no signal after the object is gone, and no notification
// lost or handed over twice: the persisted cursor is the last id actually emitted, so a
// new client on the same store continues exactly after it.
#include <QPointer>
#include <thread>

#include "qt/qt_fixture.hpp"

namespace herald::qt::test {
namespace {

using QtLifetime = QtServerFixture;
using State = Client::State;

// A second client on `store` must receive exactly the ids of `all` after `got`.
void expect_resume_exactly_after(QtServerFixture& f, std::shared_ptr<CursorStore> store, std::vector<quint64> got,
                                 const std::vector<std::uint64_t>& all, ClientOptions options) {
  (void)f;
  options.cursorStore = std::move(store);
  Client again(std::move(options));
  QtRecorder rec(again);
  ASSERT_TRUE(again.start());
  const std::size_t missing = all.size() - got.size();
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() >= missing; }));
  drain_events();
  got.insert(got.end(), rec.ids.begin(), rec.ids.end());
  EXPECT_EQ(got, std::vector<quint64>(all.begin(), all.end()));
}

TEST_F(QtLifetime, DeleteLaterWhileTheServerPublishesIsSafeAndLosesNothing) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  QObject context;
  auto* client = new Client(client_options("alice", store));
  QPointer<Client> alive(client);
  std::vector<quint64> got;
  QObject::connect(client, &Client::notificationReceived, &context, [&](quint64 id) {
    got.push_back(id);
    if (got.size() == 20) client->deleteLater();
  });
  client->start();
  ASSERT_TRUE(spin_until([&] { return client->state() == State::Connected; }));

  std::vector<std::uint64_t> published;
  std::thread publisher([&] {
    for (int i = 0; i < 300; ++i) published.push_back(server_->publish("alice", "t", R"({"text":"x"})"));
  });
  ASSERT_TRUE(spin_until([&] { return alive.isNull(); }));
  const std::size_t at_death = got.size();
  publisher.join();
  drain_events();
  EXPECT_EQ(got.size(), at_death);  // nothing after the object is gone
  ASSERT_GE(got.size(), 20u);
  EXPECT_EQ(store->load()->id, got.back());  // exactly what was emitted
  expect_resume_exactly_after(*this, store, got, published, client_options("alice"));
}

TEST_F(QtLifetime, DeleteFromInsideItsOwnNotificationSlotIsSafeAndLosesNothing) {
  start_server(server_options());
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 10; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  QObject context;
  auto* client = new Client(client_options("alice", store));
  QPointer<Client> alive(client);
  std::vector<quint64> got;
  QObject::connect(client, &Client::notificationReceived, &context, [&](quint64 id) {
    got.push_back(id);
    if (got.size() == 3) delete client;  // the other 7 are queued or on their way
  });
  client->start();
  ASSERT_TRUE(spin_until([&] { return alive.isNull(); }));
  drain_events();
  ASSERT_EQ(got.size(), 3u);
  // The notification whose slot deleted the client was handed over: it counts.
  EXPECT_EQ(store->load()->id, got.back());
  expect_resume_exactly_after(*this, store, got, published, client_options("alice"));
}

TEST_F(QtLifetime, DeleteFromInsideStateChangedAndStopFromInsideANotificationSlot) {
  start_server(server_options());
  for (int i = 0; i < 5; ++i) server_->publish("alice", "t", "{}");
  {
    auto* client = new Client(client_options("alice"));
    QPointer<Client> alive(client);
    QObject::connect(client, &Client::stateChanged, client, [client](State s) {
      if (s == State::Connected) delete client;
    });
    client->start();
    ASSERT_TRUE(spin_until([&] { return alive.isNull(); }));
  }
  {
    Client client(client_options("alice"));
    int received = 0;
    QObject::connect(&client, &Client::notificationReceived, &client, [&] {
      ++received;
      client.stop();
    });
    client.start();
    ASSERT_TRUE(spin_until([&] { return client.state() == State::Stopped; }));
    drain_events();
    EXPECT_EQ(received, 1);
    EXPECT_EQ(client.cursor(), 1u);
  }
}

TEST_F(QtLifetime, StopAndStartFromInsideANotificationSlotLosesAndDoublesNothing) {
  start_server(server_options());
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 10; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  Client client(client_options("alice"));
  std::vector<quint64> got;
  QObject::connect(&client, &Client::notificationReceived, &client, [&](quint64 id) {
    got.push_back(id);
    if (got.size() == 3 || got.size() == 7) {
      client.stop();  // drops what is queued: the new run replays it
      client.start();
    }
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return got.size() >= published.size(); }));
  drain_events();
  EXPECT_EQ(got, std::vector<quint64>(published.begin(), published.end()));
}

}  // namespace
}  // namespace herald::qt::test
