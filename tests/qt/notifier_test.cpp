// herald-qt-notifier's window, headless (offscreen platform), against the in-process
// server: it gets dev tokens from the admin API, shows published notifications newest
// first, shows the reconnect time when the server goes away, and renders (a PNG of the
// window is saved under the build folder; docs/images/qt-notifier.png is one of these).
#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QPixmap>
#include <QStandardItemModel>
#include <set>

#include "notifier_window.hpp"
#include "qt/qt_fixture.hpp"

#ifndef HERALD_SCREENSHOT_DIR
#error "HERALD_SCREENSHOT_DIR must name the folder for screenshots"
#endif

namespace herald::qt::test {
namespace {

using QtNotifier = QtServerFixture;
using herald::notifier::NotifierSettings;
using herald::notifier::NotifierWindow;

TEST(QtNotifierUrls, ServerAddressesMapToStreamAndTokenUrls) {
  const auto u = herald::notifier::server_urls(QStringLiteral("127.0.0.1:8080"));
  EXPECT_EQ(u.stream.toString(), "ws://127.0.0.1:8080/v1/stream");
  EXPECT_EQ(u.tokens.toString(), "http://127.0.0.1:8080/v1/tokens");
  const auto t = herald::notifier::server_urls(QStringLiteral("https://notify.example.com"));
  EXPECT_EQ(t.stream.toString(), "wss://notify.example.com/v1/stream");
  EXPECT_EQ(t.tokens.toString(), "https://notify.example.com/v1/tokens");
  EXPECT_TRUE(herald::notifier::server_urls(QStringLiteral("ftp://x")).stream.isEmpty());
  EXPECT_EQ(herald::notifier::data_text(QJsonObject{{"text", "hi"}}), "hi");
  EXPECT_EQ(herald::notifier::data_text(QJsonObject{{"n", 1}}), R"({"n":1})");
  EXPECT_EQ(herald::notifier::data_text(QJsonObject{}), "");
}

TEST_F(QtNotifier, ConnectsShowsNotificationsNewestFirstAndRenders) {
  start_server(server_options());
  NotifierSettings settings;
  settings.server = QStringLiteral("http://127.0.0.1:%1").arg(port_);
  settings.user = QStringLiteral("alice");
  settings.admin_key = QString::fromLatin1(herald::test::kTestAdminKey);
  settings.settings_file = QString::fromStdString((dir_ / "notifier.ini").string());
  NotifierWindow window(settings);
  window.resize(560, 380);
  window.show();
  EXPECT_EQ(window.statusText(), "Not connected");

  window.connectToServer();  // tokens from POST /v1/tokens with the admin key
  ASSERT_TRUE(spin_until([&] { return window.client()->state() == Client::State::Connected; }))
      << window.statusText().toStdString();
  EXPECT_EQ(window.statusText(), "Connected as alice");

  server_->publish("alice", "comment", R"({"text":"Ada commented on your post"})");
  server_->publish("alice", "follow", R"({"text":"Grace started following you"})");
  server_->publish("alice", "build", R"({"pipeline":"release","status":"green"})");
  server_->publish("alice", "mention", "{}");
  server_->publish("alice", "like", R"({"text":"Linus liked your photo"})");
  auto* model = window.notifications();
  ASSERT_TRUE(spin_until([&] { return model->rowCount() == 5; }));
  EXPECT_TRUE(model->item(0)->text().contains("like")) << model->item(0)->text().toStdString();
  EXPECT_TRUE(model->item(0)->text().contains("Linus liked your photo"));
  EXPECT_TRUE(model->item(2)->text().contains(R"({"pipeline":"release","status":"green"})"))
      << model->item(2)->text().toStdString();
  EXPECT_TRUE(model->item(1)->text().endsWith("mention"));
  EXPECT_TRUE(model->item(4)->text().contains("Ada commented on your post"));
  EXPECT_EQ(model->item(4)->data(Qt::UserRole).toULongLong(), 1u);

  // The window renders: a PNG that is not one flat colour.
  QApplication::processEvents();
  const QString dir = QStringLiteral(HERALD_SCREENSHOT_DIR);
  ASSERT_TRUE(QDir().mkpath(dir));
  const QString path = dir + QStringLiteral("/qt-notifier.png");
  QFile::remove(path);
  ASSERT_TRUE(window.grab().save(path));
  ASSERT_TRUE(QFileInfo::exists(path));
  const QImage image(path);
  ASSERT_FALSE(image.isNull());
  EXPECT_EQ(image.size(), window.size() * window.devicePixelRatio());
  std::set<QRgb> colours;
  for (int y = 0; y < image.height(); y += 2) {
    for (int x = 0; x < image.width(); x += 2) colours.insert(image.pixel(x, y));
  }
  EXPECT_GT(colours.size(), 8u);  // background, text, the status dot, the list

  // The server goes away: the status shows when the next attempt is due.
  server_.reset();
  ASSERT_TRUE(spin_until([&] { return window.statusText().contains("next attempt at"); }))
      << window.statusText().toStdString();
  window.disconnectFromServer();
  EXPECT_EQ(window.statusText(), "Disconnected");
}

}  // namespace
}  // namespace herald::qt::test
