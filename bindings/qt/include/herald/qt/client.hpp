// herald::qt::Client: the Herald SDK as a QObject. Every signal is emitted on the
// thread the object lives in, so slots can touch widgets directly.
//
//   auto* client = new herald::qt::Client(this);
//   herald::qt::ClientOptions opts;
//   opts.url = QUrl("wss://notify.example.com/v1/stream");
//   opts.cursorStore = std::make_shared<herald::qt::SettingsCursorStore>("herald/cursor");
//   client->setOptions(std::move(opts));
//   connect(client, &herald::qt::Client::tokenRequested, this, [this, client] {
//     myAuth->fetchJwt([client](QString jwt) { client->provideToken(jwt); });  // async is fine
//   });
//   connect(client, &herald::qt::Client::notificationReceived, this,
//           [this](quint64, const QString& topic, const QDateTime&, const QJsonObject& data) {
//             showBanner(topic, data.value("text").toString());
//           });
//   client->start();
//
// Threading: the object has the affinity of an ordinary QObject. Call its functions on
// the thread it lives in (which needs a running event loop); from other threads use
// queued connections or QMetaObject::invokeMethod. The SDK runs on an I/O thread of its
// own; everything it reports is queued to this object's thread and emitted there, in
// the order the SDK reported it. Signals of one client never nest: a slot that runs a
// nested event loop gets the next signal after it returned.
//
// Lifetime: destroying the object stops the SDK client first (nothing of the SDK runs
// after that), then discards whatever was queued but not yet emitted. It is safe to
// delete it at any time on its thread: with deleteLater() while notifications are in
// flight, and with `delete` from inside a slot connected to one of its own signals.
//
// Exactly once: notifications queued to this thread but never emitted (the object was
// stopped or destroyed first) are not lost. The cursor the SDK persists through
// ClientOptions::cursorStore only moves past a notification once notificationReceived
// returned for it (the object acknowledges it to the SDK then), so the next start() (in this process or the next)
// replays them. See docs/qt.md.
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QUrl>
#include <QtGlobal>
#include <memory>

#include "herald/client.hpp"
#include "herald/qt/export.hpp"

namespace herald::qt {

namespace detail {
struct Session;
class SignalTokenProvider;
}  // namespace detail

/// Configuration of a herald::qt::Client, applied by the next start().
struct ClientOptions {
  /// ws:// or wss:// URL of the stream endpoint, e.g. "wss://host/v1/stream". Required.
  QUrl url;
  /// Where the cursor is persisted, e.g. a SettingsCursorStore. Default: memory owned by
  /// the Client, which keeps the position across stop()/start() of this object but not
  /// across a restart of the process (the first start() then begins with live
  /// notifications only). A store that holds no cursor means "from now"; construct a
  /// herald::MemoryCursorStore(herald::Cursor{0}) to replay everything the server retained.
  std::shared_ptr<herald::CursorStore> cursorStore;
  /// Where tokens come from. Default (null): the tokenRequested() signal, answered by
  /// provideToken() or tokenFailed(). Set a herald::TokenProvider to bypass the signal.
  std::shared_ptr<herald::TokenProvider> tokenProvider;
  /// Every other SDK setting (backoff, timeouts, frame limit, CA file, log level...),
  /// with the SDK's defaults. Its url, token_provider and cursor_store are replaced by
  /// the fields above, and its delivery_receipt by DeliveryReceipt::acknowledged (the
  /// object acknowledges each notification once it emitted it). When its logger is empty, SDK log lines go to the Qt
  /// logging category "herald.sdk" (they never contain tokens).
  herald::ClientOptions sdk;
};

/// A Herald notification stream as a QObject. See the comment at the top of this file
/// for threading and lifetime, and docs/qt.md for the whole contract.
class HERALD_QT_API Client : public QObject {
  Q_OBJECT
  Q_PROPERTY(State state READ state NOTIFY stateChanged)
  Q_PROPERTY(QUrl url READ url WRITE setUrl NOTIFY urlChanged)
  Q_PROPERTY(quint64 reconnectCount READ reconnectCount NOTIFY reconnectCountChanged)
  Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)
  Q_PROPERTY(QDateTime nextAttemptAt READ nextAttemptAt NOTIFY nextAttemptAtChanged)
  Q_PROPERTY(quint64 cursor READ cursor NOTIFY cursorChanged)

 public:
  /// The connection's state as an application would render it (herald::State).
  enum class State {
    Idle,          ///< constructed, not started
    Connecting,    ///< first connection attempt (or the token fetch before it)
    Connected,     ///< authenticated; notifications flow
    Reconnecting,  ///< waiting for the next attempt (see nextAttemptAt)
    Stopped,       ///< stop() was called, or a permanent failure (see lastError)
  };
  Q_ENUM(State)

  /// What kind of failure a tokenFailed() answer is.
  enum class TokenFailure {
    Transient,  ///< retried with backoff (the auth backend is down, the network is)
    Permanent,  ///< no token will come (signed out, access lost): the client stops
  };
  Q_ENUM(TokenFailure)

  explicit Client(QObject* parent = nullptr);
  explicit Client(ClientOptions options, QObject* parent = nullptr);
  /// Stops the SDK client (blocks until its I/O thread is done with it) and drops
  /// everything not yet emitted. Emits no signal of this class.
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Replaces the configuration; takes effect at the next start().
  void setOptions(ClientOptions options);
  const ClientOptions& options() const { return options_; }

  State state() const { return state_; }
  QUrl url() const { return options_.url; }
  /// Shorthand for options().url (takes effect at the next start()); handy from QML.
  void setUrl(const QUrl& url);
  /// Connections after the first one since the last start() (SDK metrics().reconnects).
  quint64 reconnectCount() const { return reconnect_count_; }
  /// Human message of the last failure ("" when none yet); never contains a token.
  QString lastError() const { return last_error_; }
  /// When reconnecting: the moment of the next attempt (UTC). Invalid otherwise.
  QDateTime nextAttemptAt() const { return next_attempt_at_; }
  /// Id of the last notification emitted, or the stored cursor loaded by start(); 0
  /// when there is none.
  quint64 cursor() const { return cursor_; }

 public Q_SLOTS:
  /// Starts connecting with the current options. Does nothing while running (state
  /// Connecting, Connected or Reconnecting). After stop() or a permanent failure it
  /// starts a fresh SDK client that resumes from the cursor store. Returns false, with
  /// lastError set, errorOccurred emitted and state Stopped, when the options are
  /// invalid (the message names the bad field).
  bool start();
  /// Stops the stream: no notification, state or token signal of the run follows
  /// (besides stateChanged(Stopped)); the cursor store is flushed. Idempotent.
  void stop();
  /// The network changed or the app came to the foreground: a waiting client retries at
  /// once; a connected one switches to a fresh connection without a visible state
  /// change. Does nothing unless running.
  void reconnectNow();

  /// Answers the pending tokenRequested(). `expiresAt` is optional: without it the SDK
  /// reads the JWT's exp claim. An empty token counts as a failure. Ignored when no
  /// request is pending (a late answer to a request the SDK timed out answers the next
  /// one). The token is never logged.
  void provideToken(const QString& token, const QDateTime& expiresAt = {});
  /// Answers the pending tokenRequested() with a failure. Transient (the auth backend
  /// is down): the SDK retries with backoff (state Reconnecting, reason
  /// token_fetch_failed). Permanent (the user signed out or lost access): the client
  /// stops at once, a live connection included (state Stopped, reason auth_failed); sign
  /// the user in again and start() anew. `error` must not contain a token.
  void tokenFailed(const QString& error, herald::qt::Client::TokenFailure kind = TokenFailure::Transient);

 Q_SIGNALS:
  /// A notification, exactly once and in increasing id order. `createdAt` is UTC;
  /// `data` is the notification's JSON object (empty when it had none).
  void notificationReceived(quint64 id, const QString& topic, const QDateTime& createdAt, const QJsonObject& data);
  /// Every state report, in order. `reason` is the stable snake_case name of the error
  /// that caused it ("connection_lost", "auth_failed", ...; see herald::errc), or empty.
  void stateChanged(herald::qt::Client::State state, const QString& reason);
  /// The server could no longer replay everything after the cursor. `reason` is
  /// "retention": notifications with ids in (lastSeenId, firstAvailableId) are lost to
  /// this client (lastSeenId is 0 when the client had no cursor); or "reset": the
  /// server's history started over, firstAvailableId is 0 and the new stream follows
  /// from its start (its ids begin again below lastSeenId). Resynchronise by other means.
  void gapDetected(quint64 lastSeenId, quint64 firstAvailableId, const QString& reason);
  /// A failure: human message (never a token). Transient ones are retried on their own;
  /// after a permanent one the state is Stopped.
  void errorOccurred(const QString& message);
  /// The SDK needs a token (at start, before expiry, after a refusal). Answer with
  /// provideToken() or tokenFailed(), at once or later (within
  /// ClientOptions::sdk.token_timeout, 30 s by default). Not emitted when
  /// ClientOptions::tokenProvider is set. With no slot connected the fetch fails at once.
  void tokenRequested();

  void urlChanged();
  void reconnectCountChanged();
  void lastErrorChanged();
  void nextAttemptAtChanged();
  void cursorChanged();

 private:
  friend class detail::SignalTokenProvider;  // posts request_token()
  // Called on this object's thread through the session's dispatcher, in the SDK's order.
  void deliver(quint64 id, const QString& topic, const QDateTime& created_at, const QJsonObject& data);
  void apply_state(State state, const QString& reason, const QString& message, const QDateTime& next_attempt_at);
  void report_gap(const herald::GapEvent& gap);
  void request_token();
  // Stops and discards the running SDK client, if any.
  void end_session();

  ClientOptions options_;
  std::shared_ptr<herald::CursorStore> default_store_;  // when options_.cursorStore is null
  std::unique_ptr<detail::Session> session_;
  quint64 runs_ = 0;
  State state_ = State::Idle;
  quint64 reconnect_count_ = 0;
  QString last_error_;
  QDateTime next_attempt_at_;
  quint64 cursor_ = 0;
};

}  // namespace herald::qt
