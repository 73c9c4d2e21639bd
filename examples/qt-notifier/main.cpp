// herald-qt-notifier: a small desktop client of a Herald stream on the Qt binding.
//
//   herald-qt-notifier --server http://127.0.0.1:8080 --user alice --admin-key-file admin.key --connect
//
// Tokens come from herald-server's development token issuer (POST /v1/tokens with the
// admin key): a shortcut for trying things out, never for an app that ships.
#include <QApplication>
#include <QCommandLineParser>
#include <QFile>
#include <QTextStream>

#include "notifier_window.hpp"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Herald"));
  QApplication::setApplicationName(QStringLiteral("herald-qt-notifier"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Shows a user's Herald notifications as they arrive."));
  parser.addHelpOption();
  const QCommandLineOption server({QStringLiteral("s"), QStringLiteral("server")},
                                  QStringLiteral("herald-server address, e.g. http://127.0.0.1:8080."),
                                  QStringLiteral("url"));
  const QCommandLineOption user({QStringLiteral("u"), QStringLiteral("user")}, QStringLiteral("User id."),
                                QStringLiteral("user"), QStringLiteral("alice"));
  const QCommandLineOption admin_key_file(
      QStringLiteral("admin-key-file"),
      QStringLiteral("File holding herald-server's admin key (dev tokens). Default: $HERALD_ADMIN_KEY."),
      QStringLiteral("path"));
  const QCommandLineOption connect_now(QStringLiteral("connect"), QStringLiteral("Connect at once."));
  parser.addOptions({server, user, admin_key_file, connect_now});
  parser.process(app);

  herald::notifier::NotifierSettings settings;
  settings.server = parser.value(server);
  settings.user = parser.value(user);
  if (parser.isSet(admin_key_file)) {
    QFile f(parser.value(admin_key_file));
    if (!f.open(QIODevice::ReadOnly)) {
      QTextStream(stderr) << "herald-qt-notifier: cannot read " << f.fileName() << ": " << f.errorString() << "\n";
      return 2;
    }
    settings.admin_key = QString::fromUtf8(f.readAll()).trimmed();
  } else {
    settings.admin_key = qEnvironmentVariable("HERALD_ADMIN_KEY").trimmed();
  }

  herald::notifier::NotifierWindow window(settings);
  window.resize(560, 380);
  window.show();
  if (parser.isSet(connect_now)) window.connectToServer();
  return QApplication::exec();
}
