#include "dev_token_source.hpp"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkReply>
#include <QNetworkRequest>

namespace herald::notifier {

DevTokenSource::DevTokenSource(herald::qt::Client* client, QObject* parent) : QObject(parent), client_(client) {
  connect(client_, &herald::qt::Client::tokenRequested, this, &DevTokenSource::request_token);
}

void DevTokenSource::configure(const QUrl& tokens_url, const QString& user, const QString& admin_key) {
  tokens_url_ = tokens_url;
  user_ = user;
  admin_key_ = admin_key;
}

void DevTokenSource::request_token() {
  if (admin_key_.isEmpty()) {
    client_->tokenFailed(QStringLiteral("no admin key: pass --admin-key-file or set HERALD_ADMIN_KEY"));
    return;
  }
  QNetworkRequest request(tokens_url_);
  request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
  request.setRawHeader("Authorization", "Bearer " + admin_key_.toUtf8());
  request.setTransferTimeout(10'000);
  const QJsonObject body{{QStringLiteral("user_id"), user_}, {QStringLiteral("ttl_s"), 3600}};
  QNetworkReply* reply = network_.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact));
  // The client is the context: if it is destroyed first, the answer is dropped.
  connect(reply, &QNetworkReply::finished, client_, [client = client_, reply] {
    reply->deleteLater();
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    if (reply->error() != QNetworkReply::NoError || status != 200) {
      // errorString() names the URL and the HTTP status, never the admin key or a token.
      client->tokenFailed(QStringLiteral("token request failed: %1").arg(reply->errorString()));
      return;
    }
    const QJsonObject answer = QJsonDocument::fromJson(reply->readAll()).object();
    const QString token = answer.value(QStringLiteral("token")).toString();
    if (token.isEmpty()) {
      client->tokenFailed(QStringLiteral("token response without a token"));
      return;
    }
    const qint64 expires_at = answer.value(QStringLiteral("expires_at")).toInteger();
    client->provideToken(token, expires_at > 0 ? QDateTime::fromSecsSinceEpoch(expires_at, Qt::UTC) : QDateTime());
  });
}

}  // namespace herald::notifier
