// A Qt consumer of the installed package: herald::qt::Client in a QCoreApplication
// receives a notification from a herald::testkit::TestServer (docs/qt.md).
#include <herald/cursor_store.hpp>
#include <herald/qt/client.hpp>
#include <herald/testing/test_server.hpp>

#include <QCoreApplication>
#include <QTimer>
#include <cstdio>

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  herald::testkit::TestServer server;
  const auto id = server.publish("alice", "t", R"({"n":1})");

  herald::qt::ClientOptions options;
  options.url = QUrl(QString::fromStdString(server.url()));
  options.tokenProvider = server.token_provider("alice");
  options.cursorStore = std::make_shared<herald::MemoryCursorStore>(herald::Cursor{0});
  herald::qt::Client client(options);
  quint64 got = 0;
  QObject::connect(&client, &herald::qt::Client::notificationReceived, &app,
                   [&](quint64 n, const QString&, const QDateTime&, const QJsonObject& data) {
                     if (data.value(QStringLiteral("n")).toInt() == 1) got = n;
                     app.quit();
                   });
  QTimer::singleShot(15000, &app, [&] { app.exit(1); });  // a bound, not a pace
  client.start();
  const int rc = app.exec();
  const bool ok = rc == 0 && got == id;
  std::puts(ok ? "herald qt consumer: ok" : "herald qt consumer: FAILED");
  return ok ? 0 : 1;
}
