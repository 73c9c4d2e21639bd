// Development-only token source: asks herald-server's admin API for a token
// (POST /v1/tokens with the admin key) whenever the client emits tokenRequested().
//
// A real application gets its tokens from its own backend with the user's session; the
// admin key can mint tokens for any user and must never ship in an app.
#pragma once

#include <QNetworkAccessManager>
#include <QObject>
#include <QString>
#include <QUrl>

#include "herald/qt/client.hpp"

namespace herald::notifier {

class DevTokenSource final : public QObject {
  Q_OBJECT
 public:
  /// Answers `client`'s token requests; both must live on the same thread.
  DevTokenSource(herald::qt::Client* client, QObject* parent = nullptr);

  /// Where and for whom tokens are issued. `tokens_url` is http(s)://host:port/v1/tokens.
  void configure(const QUrl& tokens_url, const QString& user, const QString& admin_key);

 private:
  void request_token();

  herald::qt::Client* client_;
  QNetworkAccessManager network_;
  QUrl tokens_url_;
  QString user_;
  QString admin_key_;
};

}  // namespace herald::notifier
