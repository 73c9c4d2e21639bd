// The window of herald-qt-notifier: server and user settings with a Connect button, a
// connection-status indicator, and the notifications received, newest first.
//
// It is a library class so the tests can drive it: they fill NotifierSettings, call
// connectToServer() and assert on notifications() and statusText().
#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QString>
#include <QUrl>
#include <QWidget>

#include "herald/qt/client.hpp"

class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QStandardItemModel;

namespace herald::notifier {

class DevTokenSource;

struct NotifierSettings {
  /// herald-server's address: "http://127.0.0.1:8080" (or "127.0.0.1:8080", or https://).
  QString server;
  /// The user whose stream is shown.
  QString user;
  /// herald-server's admin key, used to mint development tokens (see DevTokenSource).
  QString admin_key;
  /// INI file for the cursor; empty: the application's QSettings.
  QString settings_file;
};

/// The stream URL (ws[s]://host:port/v1/stream) and the token URL
/// (http[s]://host:port/v1/tokens) of a server address; invalid URLs when it is not one.
struct ServerUrls {
  QUrl stream;
  QUrl tokens;
};
ServerUrls server_urls(const QString& address);

/// The text shown for a notification's data: its "text" member, else the compact JSON,
/// else nothing.
QString data_text(const QJsonObject& data);

class NotifierWindow final : public QWidget {
  Q_OBJECT
 public:
  explicit NotifierWindow(NotifierSettings settings, QWidget* parent = nullptr);
  ~NotifierWindow() override;

  /// One row per notification, newest first. Qt::UserRole holds the id.
  QStandardItemModel* notifications() const { return model_; }
  herald::qt::Client* client() const { return client_; }
  /// The status line as shown, e.g. "Connected as alice".
  QString statusText() const;

  /// (Re)connects with the server and user in the settings line (the Connect button).
  void connectToServer();
  void disconnectFromServer();

 private:
  void toggle_connection();
  void add_notification(quint64 id, const QString& topic, const QDateTime& created_at, const QJsonObject& payload);
  void show_state(herald::qt::Client::State state, const QString& reason);

  NotifierSettings settings_;
  QLineEdit* server_edit_;
  QLineEdit* user_edit_;
  QPushButton* connect_button_;
  QLabel* status_dot_;
  QLabel* status_text_;
  QListView* list_;
  QStandardItemModel* model_;
  herald::qt::Client* client_;
  DevTokenSource* tokens_;
};

}  // namespace herald::notifier
