// Qt tests: an in-process reference server on 127.0.0.1:0, options for herald::qt
// clients, a recorder of their signals, and spin_until(), which runs the Qt event loop
// until a condition holds (no sleeps).
#pragma once

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QDateTime>
#include <QDeadlineTimer>
#include <QEventLoop>
#include <QJsonObject>
#include <QThread>
#include <QTimer>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "herald/qt/client.hpp"
#include "support/server_fixture.hpp"

namespace herald::qt::test {

/// Runs the event loop of the current thread until `pred` holds or `timeout` passes.
/// Posted deletions (deleteLater) are carried out on the way.
inline bool spin_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds{20}) {
  QDeadlineTimer deadline(static_cast<qint64>(timeout.count()));
  QTimer wake;  // for conditions no Qt event announces (the server's state)
  wake.start(5);
  while (!pred()) {
    if (deadline.hasExpired()) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
  }
  return true;
}

/// Runs the event loop for everything already posted (a few rounds), to let late
/// invocations show themselves in tests of what must NOT happen.
inline void drain_events() {
  for (int i = 0; i < 20; ++i) {
    QCoreApplication::processEvents(QEventLoop::AllEvents);
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
  }
}

/// What a herald::qt::Client emitted, and whether every signal came on its thread.
class QtRecorder {
 public:
  explicit QtRecorder(Client& c) {
    QObject::connect(&c, &Client::notificationReceived, &context_,
                     [this, &c](quint64 id, const QString& topic, const QDateTime& at, const QJsonObject& data) {
                       check_thread(c);
                       ids.push_back(id);
                       topics.push_back(topic);
                       created_at.push_back(at);
                       payloads.push_back(data);
                     });
    QObject::connect(&c, &Client::stateChanged, &context_, [this, &c](Client::State s, const QString& reason) {
      check_thread(c);
      states.push_back(s);
      reasons.push_back(reason);
      next_attempts.push_back(c.nextAttemptAt());
    });
    QObject::connect(&c, &Client::errorOccurred, &context_, [this, &c](const QString& e) {
      check_thread(c);
      errors.push_back(e);
    });
  }

  std::size_t count(Client::State s) const {
    std::size_t n = 0;
    for (auto x : states) n += x == s ? 1 : 0;
    return n;
  }

  std::vector<quint64> ids;
  std::vector<QString> topics;
  std::vector<QDateTime> created_at;
  std::vector<QJsonObject> payloads;
  std::vector<Client::State> states;
  std::vector<QString> reasons;
  std::vector<QDateTime> next_attempts;
  std::vector<QString> errors;
  int wrong_thread = 0;

 private:
  void check_thread(const Client& c) {
    if (QThread::currentThread() != c.thread()) ++wrong_thread;
  }
  QObject context_;
};

class QtServerFixture : public herald::test::InProcessServerTest {
 protected:
  server::ServerOptions server_options(std::string db = ":memory:") const { return base_server_options(std::move(db)); }
  QUrl url() const { return QUrl(QString::fromStdString(stream_url())); }
  std::string token(const std::string& user) const { return issuer_->issue_token(user, std::chrono::hours{1}); }

  /// Options for `user`, tokens from the in-process issuer, quick backoff; the cursor
  /// store starts at 0 (replay everything) unless one is given.
  ClientOptions client_options(const std::string& user, std::shared_ptr<CursorStore> cursor = nullptr) const {
    ClientOptions o;
    o.url = url();
    o.tokenProvider = token_provider(user);
    o.cursorStore = cursor ? std::move(cursor) : std::make_shared<MemoryCursorStore>(Cursor{0});
    o.sdk.backoff_initial = std::chrono::milliseconds{20};
    o.sdk.backoff_max = std::chrono::milliseconds{200};
    return o;
  }
};

}  // namespace herald::qt::test
