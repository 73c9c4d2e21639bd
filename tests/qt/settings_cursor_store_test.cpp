// SettingsCursorStore on an INI file in a temporary folder.
#include <QFile>
#include <QSettings>
#include <thread>

#include "herald/qt/settings_cursor_store.hpp"
#include "qt/qt_fixture.hpp"

namespace herald::qt::test {
namespace {

using QtSettingsStore = QtServerFixture;

TEST_F(QtSettingsStore, RoundTripsThroughAnIniFile) {
  const QString file = QString::fromStdString((dir_ / "herald.ini").string());
  {
    SettingsCursorStore store(file, QSettings::IniFormat, QStringLiteral("cursors/alice"));
    EXPECT_EQ(store.load(), std::nullopt);
    store.save(41);
    store.save(18446744073709551615ull);  // every bit survives
    EXPECT_EQ(store.load(), 18446744073709551615ull);
    store.flush();
  }
  SettingsCursorStore again(file, QSettings::IniFormat, QStringLiteral("cursors/alice"));
  EXPECT_EQ(again.load(), 18446744073709551615ull);
  // Written on a thread of its own, as the SDK's I/O thread does.
  std::thread([&] {
    again.save(7);
    again.flush();
  }).join();
  QSettings raw(file, QSettings::IniFormat);
  EXPECT_EQ(raw.value(QStringLiteral("cursors/alice")).toString(), "7");
  SettingsCursorStore other_key(file, QSettings::IniFormat, QStringLiteral("cursors/bob"));
  EXPECT_EQ(other_key.load(), std::nullopt);
}

TEST_F(QtSettingsStore, AValueThatIsNoCursorIsAnError) {
  const QString file = QString::fromStdString((dir_ / "bad.ini").string());
  {
    QSettings raw(file, QSettings::IniFormat);
    raw.setValue(QStringLiteral("herald/cursor"), QStringLiteral("not-a-number"));
  }
  SettingsCursorStore store(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
  EXPECT_THROW((void)store.load(), std::runtime_error);
}

TEST_F(QtSettingsStore, AClientResumesFromItAfterARestart) {
  start_server(server_options());
  const QString file = QString::fromStdString((dir_ / "client.ini").string());
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  {
    SettingsCursorStore seed(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
    seed.save(0);  // replay everything the server kept
    seed.flush();
  }
  {
    Client client(client_options(
        "alice", std::make_shared<SettingsCursorStore>(file, QSettings::IniFormat, QStringLiteral("herald/cursor"))));
    QtRecorder rec(client);
    client.start();
    ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 3; }));
  }  // destroyed: the cursor is flushed
  published.push_back(server_->publish("alice", "t", "{}"));
  Client client(client_options(
      "alice", std::make_shared<SettingsCursorStore>(file, QSettings::IniFormat, QStringLiteral("herald/cursor"))));
  QtRecorder rec(client);
  client.start();
  ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 1; }));
  drain_events();
  EXPECT_EQ(rec.ids, std::vector<quint64>{published.back()});
}

}  // namespace
}  // namespace herald::qt::test
