#include "herald/qt/client.hpp"

#include <QByteArray>
#include <QJsonDocument>
#include <QLoggingCategory>
#include <QMetaMethod>
#include <QPointer>
#include <chrono>
#include <exception>
#include <string_view>

#include "session.hpp"

namespace herald::qt {
namespace {

Q_LOGGING_CATEGORY(lc_sdk, "herald.sdk", QtInfoMsg)

// SDK log lines (any thread; Qt's message handler is thread-safe). They never hold tokens.
void log_to_qt(herald::LogLevel level, std::string_view message) {
  const QString text = QString::fromUtf8(message.data(), static_cast<qsizetype>(message.size()));
  switch (level) {
    case herald::LogLevel::trace:
    case herald::LogLevel::debug: qCDebug(lc_sdk).noquote() << text; break;
    case herald::LogLevel::info: qCInfo(lc_sdk).noquote() << text; break;
    case herald::LogLevel::warn: qCWarning(lc_sdk).noquote() << text; break;
    case herald::LogLevel::error:
    case herald::LogLevel::off: qCCritical(lc_sdk).noquote() << text; break;
  }
}

Client::State to_qt(herald::State s) {
  switch (s) {
    case herald::State::idle: return Client::State::Idle;
    case herald::State::connecting: return Client::State::Connecting;
    case herald::State::connected: return Client::State::Connected;
    case herald::State::reconnecting: return Client::State::Reconnecting;
    case herald::State::stopped: return Client::State::Stopped;
  }
  return Client::State::Stopped;
}

QString reason_name(const std::error_code& ec) {
  if (!ec) return {};
  if (ec.category() == herald::error_category()) {
    return QString::fromLatin1(herald::to_string(static_cast<herald::errc>(ec.value())));
  }
  return QString::fromStdString(ec.message());
}

QString reason_message(const herald::StateEvent& e) {
  if (!e.reason) return {};
  std::string m = e.reason.message();
  if (!e.detail.empty()) m += " (" + e.detail + ")";
  return QString::fromStdString(m);
}

QDateTime to_qdatetime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(ms), Qt::UTC);
}

}  // namespace

Client::Client(QObject* parent) : Client(ClientOptions{}, parent) {}

Client::Client(ClientOptions options, QObject* parent)
    : QObject(parent), options_(std::move(options)), default_store_(std::make_shared<herald::MemoryCursorStore>()) {}

Client::~Client() { end_session(); }

void Client::setOptions(ClientOptions options) {
  const bool url_changed = options.url != options_.url;
  options_ = std::move(options);
  if (url_changed) Q_EMIT urlChanged();
}

void Client::setUrl(const QUrl& url) {
  if (url == options_.url) return;
  options_.url = url;
  Q_EMIT urlChanged();
}

bool Client::start() {
  if (session_) return true;  // running

  auto s = std::make_unique<detail::Session>();
  s->run = ++runs_;
  s->dispatcher = new detail::Dispatcher(this);

  herald::ClientOptions sdk = options_.sdk;
  sdk.url = options_.url.toString(QUrl::FullyEncoded).toStdString();
  sdk.cursor_store = options_.cursorStore ? options_.cursorStore : default_store_;
  // The SDK's callback only posts a notification to this thread: it is taken once
  // notificationReceived was emitted (deliver() acknowledges it).
  sdk.delivery_receipt = herald::DeliveryReceipt::acknowledged;
  if (options_.tokenProvider) {
    sdk.token_provider = options_.tokenProvider;
  } else {
    s->signal_provider = std::make_shared<detail::SignalTokenProvider>(s->dispatcher);
    sdk.token_provider = s->signal_provider;
  }
  if (!sdk.logger) sdk.logger = log_to_qt;

  try {
    s->client = std::make_unique<herald::Client>(std::move(sdk));
  } catch (const std::exception& e) {
    delete s->dispatcher;
    const QString message = QString::fromUtf8(e.what());
    QPointer<Client> self(this);
    const bool changed = message != last_error_;
    last_error_ = message;
    state_ = State::Stopped;
    Q_EMIT stateChanged(State::Stopped, QStringLiteral("invalid_options"));
    if (!self) return false;
    if (changed) Q_EMIT lastErrorChanged();
    if (!self) return false;
    Q_EMIT errorOccurred(message);
    return false;
  }

  // The SDK's callbacks run on its I/O thread: convert there, emit on ours.
  detail::Dispatcher* d = s->dispatcher;
  s->client->on_notification([d](const herald::Notification& n) {
    const QJsonObject data = QJsonDocument::fromJson(QByteArray::fromStdString(n.data_json)).object();
    QDateTime created_at = QDateTime::fromString(QString::fromStdString(n.created_at), Qt::ISODateWithMs);
    if (created_at.isValid()) created_at = created_at.toUTC();
    d->post([id = quint64{n.id}, topic = QString::fromStdString(n.topic), created_at, data](Client& c) {
      c.deliver(id, topic, created_at, data);
    });
  });
  s->client->on_state([d](const herald::StateEvent& e) {
    const State state = to_qt(e.state);
    QDateTime next = e.next_attempt_at ? to_qdatetime(*e.next_attempt_at) : QDateTime();
    d->post([state, reason = reason_name(e.reason), message = reason_message(e), next](Client& c) {
      c.apply_state(state, reason, message, next);
    });
  });
  s->client->on_gap([d](const herald::GapEvent& g) { d->post([g](Client& c) { c.report_gap(g); }); });

  QPointer<Client> self(this);
  const quint64 loaded = s->client->metrics().cursor.value_or(0);
  session_ = std::move(s);
  session_->client->start();

  const bool cursor_changed = loaded != cursor_;
  const bool reconnects_changed = reconnect_count_ != 0;
  cursor_ = loaded;
  reconnect_count_ = 0;
  if (cursor_changed) Q_EMIT cursorChanged();
  if (self && reconnects_changed) Q_EMIT reconnectCountChanged();
  return true;
}

void Client::stop() {
  if (!session_) return;
  end_session();
  QPointer<Client> self(this);
  const bool next_changed = next_attempt_at_.isValid();
  next_attempt_at_ = QDateTime();
  state_ = State::Stopped;
  Q_EMIT stateChanged(State::Stopped, QString());
  if (self && next_changed) Q_EMIT nextAttemptAtChanged();
}

void Client::reconnectNow() {
  if (session_) session_->client->reconnect_now();
}

void Client::provideToken(const QString& token, const QDateTime& expiresAt) {
  if (!session_ || !session_->signal_provider) return;
  if (token.isEmpty()) {
    session_->signal_provider->answer(herald::TokenResult{std::nullopt, "provideToken() was given an empty token", {}});
    return;
  }
  herald::Token t{token.toStdString(), std::nullopt};
  if (expiresAt.isValid()) {
    t.expires_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(expiresAt.toMSecsSinceEpoch()));
  }
  session_->signal_provider->answer(herald::TokenResult{std::move(t), {}, {}});
}

void Client::tokenFailed(const QString& error, TokenFailure kind) {
  if (!session_ || !session_->signal_provider) return;
  const auto code = kind == TokenFailure::Permanent ? make_error_code(herald::errc::auth_failed) : std::error_code{};
  session_->signal_provider->answer(herald::TokenResult{
      std::nullopt, error.isEmpty() ? std::string("token request failed") : error.toStdString(), code});
}

void Client::deliver(quint64 id, const QString& topic, const QDateTime& created_at, const QJsonObject& data) {
  if (!session_) return;
  QPointer<Client> self(this);
  const quint64 run = session_->run;
  session_->in_flight = id;
  cursor_ = id;
  Q_EMIT notificationReceived(id, topic, created_at, data);
  // The slot may have stopped, restarted or destroyed this object. end_session()
  // acknowledges the in-flight id itself; here only the same run is told.
  if (!self) return;
  if (session_ && session_->run == run) {
    session_->in_flight.reset();
    session_->client->acknowledge(id);
  }
  Q_EMIT cursorChanged();
}

void Client::apply_state(State state, const QString& reason, const QString& message, const QDateTime& next_attempt_at) {
  QPointer<Client> self(this);
  const bool next_changed = next_attempt_at != next_attempt_at_;
  next_attempt_at_ = next_attempt_at;
  const bool error_changed = !message.isEmpty() && message != last_error_;
  if (!message.isEmpty()) last_error_ = message;
  const quint64 reconnects = session_ ? quint64{session_->client->metrics().reconnects} : reconnect_count_;
  const bool reconnects_changed = reconnects != reconnect_count_;
  reconnect_count_ = reconnects;
  state_ = state;
  // A permanent failure: the SDK client stopped itself; release it (the cursor of
  // everything emitted so far is flushed). start() may begin a new run.
  if (state == State::Stopped) end_session();

  Q_EMIT stateChanged(state, reason);
  if (!self) return;
  if (error_changed) Q_EMIT lastErrorChanged();
  if (!self) return;
  if (!message.isEmpty()) Q_EMIT errorOccurred(message);
  if (!self) return;
  if (next_changed) Q_EMIT nextAttemptAtChanged();
  if (!self) return;
  if (reconnects_changed) Q_EMIT reconnectCountChanged();
}

void Client::report_gap(const herald::GapEvent& gap) {
  QPointer<Client> self(this);
  const bool reset = gap.reason == herald::GapReason::reset;
  if (reset) cursor_ = 0;
  Q_EMIT gapDetected(quint64{gap.last_seen_id.value_or(0)}, quint64{gap.first_available_id},
                     QString::fromLatin1(herald::to_string(gap.reason)));
  if (self && reset) Q_EMIT cursorChanged();
}

void Client::request_token() {
  if (!session_ || !session_->signal_provider) return;
  if (!isSignalConnected(QMetaMethod::fromSignal(&Client::tokenRequested))) {
    session_->signal_provider->answer(herald::TokenResult{
        std::nullopt, "no token source: connect a slot to tokenRequested() or set ClientOptions::tokenProvider", {}});
    return;
  }
  Q_EMIT tokenRequested();
}

void Client::end_session() {
  if (!session_) return;
  std::unique_ptr<detail::Session> s = std::move(session_);
  // Stopped from inside notificationReceived: that notification counts as taken.
  if (s->in_flight) s->client->acknowledge(*s->in_flight);
  // stop() flushes what was acknowledged. After it returns no SDK callback and no token
  // fetch runs, so nothing posts to the dispatcher any more and the SDK no longer
  // touches the cursor store.
  s->client->stop();
  if (s->signal_provider) s->signal_provider->cancel();
  s->client.reset();
  // Deleting the dispatcher makes Qt discard what is still queued for it. If one of its
  // invocations is on the stack (a slot stopped or deleted us), it must outlive that
  // invocation: detach it so the rest of its queue does nothing, and delete it later.
  s->dispatcher->detach();
  if (s->dispatcher->dispatching()) {
    s->dispatcher->setParent(nullptr);
    s->dispatcher->deleteLater();
  } else {
    delete s->dispatcher;
  }
}

}  // namespace herald::qt
