#include "notifier_window.hpp"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QStandardItemModel>
#include <QVBoxLayout>
#include <memory>

#include "dev_token_source.hpp"
#include "herald/qt/settings_cursor_store.hpp"

namespace herald::notifier {

using herald::qt::Client;

ServerUrls server_urls(const QString& address) {
  QString text = address.trimmed();
  if (!text.contains(QStringLiteral("://"))) text.prepend(QStringLiteral("http://"));
  QUrl base(text, QUrl::StrictMode);
  const QString scheme = base.scheme().toLower();
  const bool tls = scheme == QLatin1String("https") || scheme == QLatin1String("wss");
  if (!base.isValid() || base.host().isEmpty() ||
      (!tls && scheme != QLatin1String("http") && scheme != QLatin1String("ws"))) {
    return {};
  }
  ServerUrls urls;
  urls.stream = base;
  urls.stream.setScheme(tls ? QStringLiteral("wss") : QStringLiteral("ws"));
  urls.stream.setPath(QStringLiteral("/v1/stream"));
  urls.tokens = base;
  urls.tokens.setScheme(tls ? QStringLiteral("https") : QStringLiteral("http"));
  urls.tokens.setPath(QStringLiteral("/v1/tokens"));
  return urls;
}

QString data_text(const QJsonObject& data) {
  const QJsonValue text = data.value(QStringLiteral("text"));
  if (text.isString()) return text.toString();
  if (data.isEmpty()) return {};
  return QString::fromUtf8(QJsonDocument(data).toJson(QJsonDocument::Compact));
}

NotifierWindow::NotifierWindow(NotifierSettings settings, QWidget* parent)
    : QWidget(parent),
      settings_(std::move(settings)),
      server_edit_(new QLineEdit(settings_.server, this)),
      user_edit_(new QLineEdit(settings_.user, this)),
      connect_button_(new QPushButton(tr("Connect"), this)),
      status_dot_(new QLabel(this)),
      status_text_(new QLabel(this)),
      list_(new QListView(this)),
      model_(new QStandardItemModel(this)),
      client_(new Client(this)),
      tokens_(new DevTokenSource(client_, this)) {
  setWindowTitle(tr("Herald notifier"));
  server_edit_->setPlaceholderText(QStringLiteral("http://127.0.0.1:8080"));
  user_edit_->setPlaceholderText(QStringLiteral("alice"));
  list_->setModel(model_);
  list_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  list_->setAlternatingRowColors(true);
  list_->setWordWrap(true);
  list_->setSpacing(2);

  auto* settings_line = new QHBoxLayout;
  settings_line->addWidget(new QLabel(tr("Server"), this));
  settings_line->addWidget(server_edit_, 3);
  settings_line->addWidget(new QLabel(tr("User"), this));
  settings_line->addWidget(user_edit_, 1);
  settings_line->addWidget(connect_button_);

  auto* status_line = new QHBoxLayout;
  status_line->addWidget(status_dot_);
  status_line->addWidget(status_text_, 1);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(settings_line);
  layout->addLayout(status_line);
  layout->addWidget(list_, 1);

  connect(connect_button_, &QPushButton::clicked, this, &NotifierWindow::toggle_connection);
  connect(user_edit_, &QLineEdit::returnPressed, this, &NotifierWindow::connectToServer);
  connect(client_, &Client::notificationReceived, this, &NotifierWindow::add_notification);
  connect(client_, &Client::stateChanged, this, &NotifierWindow::show_state);
  show_state(Client::State::Idle, {});
}

NotifierWindow::~NotifierWindow() = default;

QString NotifierWindow::statusText() const { return status_text_->text(); }

void NotifierWindow::toggle_connection() {
  const auto s = client_->state();
  if (s == Client::State::Idle || s == Client::State::Stopped) {
    connectToServer();
  } else {
    disconnectFromServer();
  }
}

void NotifierWindow::connectToServer() {
  client_->stop();
  const ServerUrls urls = server_urls(server_edit_->text());
  const QString user = user_edit_->text().trimmed();
  if (urls.stream.isEmpty() || user.isEmpty()) {
    status_dot_->setStyleSheet(QStringLiteral("color: #c62828; font-size: 16pt;"));
    status_text_->setText(tr("Enter a server address (http://host:port) and a user"));
    return;
  }
  tokens_->configure(urls.tokens, user, settings_.admin_key);

  herald::qt::ClientOptions options;
  options.url = urls.stream;
  // One cursor per server and user, so a restart of the app resumes where it left off.
  const QString key = QStringLiteral("cursors/%1@%2_%3").arg(user, urls.stream.host()).arg(urls.stream.port());
  if (settings_.settings_file.isEmpty()) {
    options.cursorStore = std::make_shared<herald::qt::SettingsCursorStore>(key);
  } else {
    options.cursorStore =
        std::make_shared<herald::qt::SettingsCursorStore>(settings_.settings_file, QSettings::IniFormat, key);
  }
  options.sdk.backoff_initial = std::chrono::milliseconds{250};
  options.sdk.backoff_max = std::chrono::seconds{10};
  client_->setOptions(std::move(options));
  if (client_->start()) list_->setFocus();
}

void NotifierWindow::disconnectFromServer() { client_->stop(); }

void NotifierWindow::add_notification(quint64 id, const QString& topic, const QDateTime& created_at,
                                      const QJsonObject& payload) {
  const QString time = created_at.isValid() ? created_at.toLocalTime().toString(QStringLiteral("HH:mm:ss")) : QString();
  const QString text = data_text(payload);
  auto* item = new QStandardItem(text.isEmpty() ? QStringLiteral("%1  %2").arg(time, topic)
                                                : QStringLiteral("%1  %2 \u2014 %3").arg(time, topic, text));
  item->setData(id, Qt::UserRole);
  item->setToolTip(QStringLiteral("#%1  %2").arg(id).arg(QString::fromUtf8(QJsonDocument(payload).toJson())));
  model_->insertRow(0, item);  // newest first
}

void NotifierWindow::show_state(Client::State state, const QString& reason) {
  QString colour;
  QString text;
  switch (state) {
    case Client::State::Idle:
      colour = QStringLiteral("#757575");
      text = tr("Not connected");
      break;
    case Client::State::Connecting:
      colour = QStringLiteral("#f9a825");
      text = tr("Connecting to %1\u2026").arg(client_->url().authority());
      break;
    case Client::State::Connected:
      colour = QStringLiteral("#2e7d32");
      text = tr("Connected as %1").arg(user_edit_->text().trimmed());
      break;
    case Client::State::Reconnecting: {
      colour = QStringLiteral("#ef6c00");
      const QDateTime next = client_->nextAttemptAt();
      text =
          next.isValid()
              ? tr("Reconnecting, next attempt at %1").arg(next.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz")))
              : tr("Reconnecting");
      if (!reason.isEmpty()) text += QStringLiteral(" (%1)").arg(reason);
      break;
    }
    case Client::State::Stopped:
      colour = reason.isEmpty() ? QStringLiteral("#757575") : QStringLiteral("#c62828");
      text = reason.isEmpty() ? tr("Disconnected") : tr("Stopped: %1").arg(client_->lastError());
      break;
  }
  status_dot_->setText(QStringLiteral("\u25CF"));
  status_dot_->setStyleSheet(QStringLiteral("color: %1; font-size: 16pt;").arg(colour));
  status_text_->setText(text);
  const bool running =
      state == Client::State::Connecting || state == Client::State::Connected || state == Client::State::Reconnecting;
  connect_button_->setText(running ? tr("Disconnect") : tr("Connect"));
}

}  // namespace herald::notifier
