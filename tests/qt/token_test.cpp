// The signal/slot token path: tokenRequested answered by provideToken (later, from the
// event loop) or tokenFailed; and no slot at all.
#include <QTimer>

#include "qt/qt_fixture.hpp"

namespace herald::qt::test {
namespace {

using QtToken = QtServerFixture;
using State = Client::State;

ClientOptions signal_options(QtServerFixture& f, const QUrl& url) {
  (void)f;
  ClientOptions o;
  o.url = url;
  o.cursorStore = std::make_shared<MemoryCursorStore>(Cursor{0});
  o.sdk.backoff_initial = std::chrono::milliseconds{20};
  o.sdk.backoff_max = std::chrono::milliseconds{100};
  return o;  // no tokenProvider: tokens come through tokenRequested
}

TEST_F(QtToken, TokenRequestedAnsweredLaterWithProvideTokenConnects) {
  start_server(server_options());
  const auto id = server_->publish("alice", "t", "{}");
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  int requests = 0;
  QObject::connect(&client, &Client::tokenRequested, &client, [&] {
    ++requests;
    // Answered asynchronously, as a network reply would be.
    QTimer::singleShot(10, &client, [&] {
      client.provideToken(QString::fromStdString(token("alice")), QDateTime::currentDateTimeUtc().addSecs(3600));
    });
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 1; }));
  EXPECT_EQ(rec.ids.front(), quint64{id});
  EXPECT_EQ(requests, 1);
  EXPECT_EQ(rec.states, (std::vector<State>{State::Connecting, State::Connected}));
}

TEST_F(QtToken, TokenFailedIsRetriedWithBackoffAndReported) {
  start_server(server_options());
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  int requests = 0;
  QObject::connect(&client, &Client::tokenRequested, &client, [&] {
    if (++requests == 1) {
      client.tokenFailed(QStringLiteral("auth backend down"));
    } else {
      client.provideToken(QString::fromStdString(token("alice")));
    }
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return client.state() == State::Connected; }));
  EXPECT_EQ(requests, 2);
  ASSERT_EQ(rec.states, (std::vector<State>{State::Connecting, State::Reconnecting, State::Connected}));
  EXPECT_EQ(rec.reasons[1], "token_fetch_failed");
  EXPECT_TRUE(rec.next_attempts[1].isValid());
  ASSERT_EQ(rec.errors.size(), 1u);
  EXPECT_TRUE(rec.errors[0].contains("auth backend down")) << rec.errors[0].toStdString();
  EXPECT_EQ(client.lastError(), rec.errors[0]);
}

// The user signed out: no token will come. A permanent failure stops the client (a
// live connection included) instead of retrying for ever.
TEST_F(QtToken, APermanentTokenFailureStopsTheClientWithAuthFailed) {
  start_server(server_options());
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  int requests = 0;
  QObject::connect(&client, &Client::tokenRequested, &client, [&] {
    ++requests;
    client.tokenFailed(QStringLiteral("signed out"), Client::TokenFailure::Permanent);
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return client.state() == State::Stopped; }));
  EXPECT_EQ(requests, 1) << "no retry";
  ASSERT_EQ(rec.states, (std::vector<State>{State::Connecting, State::Stopped}));
  EXPECT_EQ(rec.reasons[1], "auth_failed");
  ASSERT_EQ(rec.errors.size(), 1u);
  EXPECT_TRUE(rec.errors[0].contains("signed out")) << rec.errors[0].toStdString();
}

TEST_F(QtToken, AnEmptyTokenIsAFailureAndATokenNeverShowsInAnError) {
  start_server(server_options());
  const std::string bad = server_->issue_token("alice", std::chrono::seconds{-120});  // already expired
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  int requests = 0;
  QObject::connect(&client, &Client::tokenRequested, &client, [&] {
    ++requests;
    if (requests == 1) client.provideToken(QString());
    if (requests == 2) client.provideToken(QString::fromStdString(bad));
    if (requests == 3) client.provideToken(QString::fromStdString(token("alice")));
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return client.state() == State::Connected; }));
  EXPECT_EQ(requests, 3);
  ASSERT_EQ(rec.errors.size(), 2u);
  EXPECT_TRUE(rec.errors[0].contains("empty token")) << rec.errors[0].toStdString();
  for (const auto& e : rec.errors) EXPECT_FALSE(e.contains(QString::fromStdString(bad)));
}

TEST_F(QtToken, WithoutASlotConnectedTheFetchFailsAtOnce) {
  start_server(server_options());
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  client.start();
  ASSERT_TRUE(spin_until([&] { return rec.count(State::Reconnecting) >= 1; }));
  EXPECT_EQ(rec.reasons.back(), "token_fetch_failed");
  EXPECT_TRUE(client.lastError().contains("tokenRequested")) << client.lastError().toStdString();
}

TEST_F(QtToken, ARefusedTokenStopsTheRunWithAuthFailedAndStartBeginsANewOne) {
  start_server(server_options());
  const auto id = server_->publish("alice", "t", "{}");
  Client client(signal_options(*this, url()));
  QtRecorder rec(client);
  bool good = false;
  QObject::connect(&client, &Client::tokenRequested, &client, [&] {
    client.provideToken(good ? QString::fromStdString(token("alice")) : QStringLiteral("not-a-jwt"));
  });
  client.start();
  ASSERT_TRUE(spin_until([&] { return client.state() == State::Stopped; }));
  EXPECT_EQ(rec.reasons.back(), "auth_failed");  // permanent: the SDK client stopped itself
  EXPECT_FALSE(rec.errors.empty());
  for (const auto& e : rec.errors) EXPECT_FALSE(e.contains("not-a-jwt")) << e.toStdString();
  drain_events();
  const auto states_before = rec.states.size();

  good = true;
  ASSERT_TRUE(client.start());  // a new run
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 1; }));
  EXPECT_EQ(rec.ids.front(), quint64{id});
  EXPECT_EQ(rec.states[states_before], State::Connecting);
  EXPECT_EQ(client.state(), State::Connected);
}

}  // namespace
}  // namespace herald::qt::test
