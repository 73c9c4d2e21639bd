// herald::qt::Client against the in-process server: signals on the object's thread, in
// order, exactly once; state transitions across a server restart; bad options.
#include <QPointer>
#include <QThread>
#include <atomic>
#include <future>

#include "qt/qt_fixture.hpp"

namespace herald::qt::test {
namespace {

using QtClient = QtServerFixture;
using State = Client::State;

std::vector<quint64> expected_ids(const std::vector<std::uint64_t>& published) {
  return {published.begin(), published.end()};
}

TEST_F(QtClient, NotificationsArriveAsSignalsOnTheObjectsThreadInOrderExactlyOnce) {
  start_server(server_options());
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "comment", R"({"text":"before"})"));

  Client client(client_options("alice"));
  QtRecorder rec(client);
  ASSERT_TRUE(client.start());
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 3; }));
  for (int i = 0; i < 50; ++i) {
    published.push_back(server_->publish("alice", i % 2 ? "like" : "comment", R"({"text":"live","n":1})"));
  }
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == published.size(); }));
  drain_events();

  EXPECT_EQ(rec.ids, expected_ids(published));  // in order, each once
  EXPECT_EQ(rec.wrong_thread, 0);
  EXPECT_EQ(rec.topics.front(), "comment");
  EXPECT_EQ(rec.payloads.front().value("text").toString(), "before");
  EXPECT_TRUE(rec.created_at.front().isValid());
  EXPECT_EQ(rec.created_at.front().timeSpec(), Qt::UTC);
  EXPECT_LE(std::abs(rec.created_at.back().secsTo(QDateTime::currentDateTimeUtc())), 60);
  EXPECT_EQ(client.cursor(), quint64{published.back()});
  EXPECT_EQ(client.state(), State::Connected);
}

TEST_F(QtClient, AnObjectInAWorkerThreadGetsItsSignalsThere) {
  start_server(server_options());
  const auto id = server_->publish("alice", "comment", "{}");
  QThread worker;
  // The worker's event dispatcher exists once `started` is emitted; the promise makes
  // that visible to ThreadSanitizer too (Qt's own synchronisation is not instrumented).
  std::promise<void> ready;
  QObject::connect(
      &worker, &QThread::started, &worker, [&] { ready.set_value(); }, Qt::DirectConnection);
  worker.start();
  ready.get_future().wait();
  auto* client = new Client(client_options("alice"));
  client->moveToThread(&worker);
  std::atomic<QThread*> emitted_on{nullptr};
  std::atomic<quint64> got{0};
  QObject::connect(client, &Client::notificationReceived, client, [&](quint64 n) {
    emitted_on = QThread::currentThread();
    got = n;
  });
  QMetaObject::invokeMethod(client, "start", Qt::QueuedConnection);
  ASSERT_TRUE(spin_until([&] { return got.load() == quint64{id}; }));
  EXPECT_EQ(emitted_on.load(), &worker);
  // Destroyed on its own thread: deleteLater() (thread-safe: it posts a DeferredDelete
  // to the object's thread) runs there at the latest when the thread finishes. Not
  // invoked as a queued call: quit() could end the loop before that call ran, and
  // nothing would ever delete the object.
  QPointer<Client> alive(client);
  client->deleteLater();
  worker.quit();
  worker.wait();
  EXPECT_TRUE(alive.isNull());
}

TEST_F(QtClient, StatesConnectingConnectedThenReconnectingConnectedAcrossAServerRestartLosingNothing) {
  start_server(server_options(db_file()));
  Client client(client_options("alice"));
  QtRecorder rec(client);
  client.start();
  ASSERT_TRUE(spin_until([&] { return rec.count(State::Connected) == 1; }));
  EXPECT_EQ(rec.states, (std::vector<State>{State::Connecting, State::Connected}));
  EXPECT_EQ(client.reconnectCount(), 0u);

  std::vector<std::uint64_t> published;
  published.push_back(server_->publish("alice", "t", R"({"n":1})"));
  published.push_back(server_->publish("alice", "t", R"({"n":2})"));
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 2; }));

  server_.reset();  // stops the server; the database file stays
  ASSERT_TRUE(spin_until([&] { return rec.count(State::Reconnecting) >= 1; }));
  EXPECT_FALSE(rec.reasons.back().isEmpty());  // e.g. closed_by_server, connection_lost
  EXPECT_TRUE(rec.next_attempts.back().isValid());

  auto revived = std::make_unique<server::Server>(server_options(db_file()));
  published.push_back(revived->publish("alice", "t", R"({"n":3})"));  // stored before anyone connects
  server_ = std::move(revived);
  ASSERT_EQ(server_->start(), port_);
  published.push_back(server_->publish("alice", "t", R"({"n":4})"));
  ASSERT_TRUE(spin_until([&] { return rec.count(State::Connected) == 2 && rec.ids.size() == 4; }));
  drain_events();

  EXPECT_EQ(rec.ids, expected_ids(published));
  // connecting -> connected -> reconnecting (one or more attempts) -> connected
  ASSERT_GE(rec.states.size(), 4u);
  EXPECT_EQ(rec.states[0], State::Connecting);
  EXPECT_EQ(rec.states[1], State::Connected);
  EXPECT_EQ(rec.states.back(), State::Connected);
  for (std::size_t i = 2; i + 1 < rec.states.size(); ++i) EXPECT_EQ(rec.states[i], State::Reconnecting) << i;
  EXPECT_FALSE(client.nextAttemptAt().isValid());  // connected again
  EXPECT_EQ(client.reconnectCount(), 1u);
  EXPECT_FALSE(client.lastError().isEmpty());
  EXPECT_EQ(rec.wrong_thread, 0);
}

TEST_F(QtClient, StopEmitsStoppedAndNothingAfterAndStartResumesFromTheCursor) {
  start_server(server_options());
  auto store = std::make_shared<MemoryCursorStore>(Cursor{0});
  Client client(client_options("alice", store));
  QtRecorder rec(client);
  client.start();
  const auto first = server_->publish("alice", "t", "{}");
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 1; }));
  client.stop();
  EXPECT_EQ(client.state(), State::Stopped);
  EXPECT_EQ(rec.states.back(), State::Stopped);
  EXPECT_EQ(store->load()->id, first);
  const auto second = server_->publish("alice", "t", "{}");
  drain_events();
  EXPECT_EQ(rec.ids.size(), 1u);

  ASSERT_TRUE(client.start());  // a new run, from the stored cursor
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 2; }));
  EXPECT_EQ(rec.ids, (std::vector<quint64>{first, second}));
}

TEST_F(QtClient, InvalidOptionsMakeStartReturnFalseWithTheFieldNamed) {
  ClientOptions o;
  o.url = QUrl("http://127.0.0.1:1/v1/stream");
  o.tokenProvider = TokenProvider::fixed("t");
  Client client(o);
  QtRecorder rec(client);
  EXPECT_FALSE(client.start());
  EXPECT_EQ(client.state(), State::Stopped);
  ASSERT_EQ(rec.errors.size(), 1u);
  EXPECT_TRUE(rec.errors[0].contains("ClientOptions.url")) << rec.errors[0].toStdString();
  EXPECT_EQ(client.lastError(), rec.errors[0]);
}

}  // namespace
}  // namespace herald::qt::test
