// SettingsCursorStore on an INI file in a temporary folder.
#include <QFile>
#include <QSettings>
#include <QStringList>
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
    store.save(herald::Cursor{41});
    store.save(herald::Cursor{18446744073709551615ull});  // every bit survives
    EXPECT_EQ(store.load(), (herald::Cursor{18446744073709551615ull, ""}));
    store.flush();
  }
  SettingsCursorStore again(file, QSettings::IniFormat, QStringLiteral("cursors/alice"));
  EXPECT_EQ(again.load(), (herald::Cursor{18446744073709551615ull, ""}));
  // Written on a thread of its own, as the SDK's I/O thread does.
  std::thread([&] {
    again.save(herald::Cursor{7});
    again.flush();
  }).join();
  QSettings raw(file, QSettings::IniFormat);
  EXPECT_EQ(raw.value(QStringLiteral("cursors/alice")).toString(), "7");
  SettingsCursorStore other_key(file, QSettings::IniFormat, QStringLiteral("cursors/bob"));
  EXPECT_EQ(other_key.load(), std::nullopt);
}

TEST_F(QtSettingsStore, TheEpochIsWrittenWithTheIdInOneValue) {
  const QString file = QString::fromStdString((dir_ / "epoch.ini").string());
  {
    SettingsCursorStore store(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
    store.save(herald::Cursor{42, "e-7f3a"});
    store.flush();
  }
  QSettings raw(file, QSettings::IniFormat);
  EXPECT_EQ(raw.value(QStringLiteral("herald/cursor")).toString(), "42 e-7f3a");
  SettingsCursorStore again(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
  EXPECT_EQ(again.load(), (herald::Cursor{42, "e-7f3a"}));
}

TEST_F(QtSettingsStore, AValueThatIsNoCursorIsAnError) {
  const QString file = QString::fromStdString((dir_ / "bad.ini").string());
  for (const char* bad : {"not-a-number", "5 e-1 extra", "5 bad/epoch", "-5"}) {
    {
      QSettings raw(file, QSettings::IniFormat);
      raw.setValue(QStringLiteral("herald/cursor"), QString::fromLatin1(bad));
    }
    SettingsCursorStore store(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
    EXPECT_THROW((void)store.load(), std::runtime_error) << bad;
  }
}

TEST_F(QtSettingsStore, AClientResumesFromItAfterARestart) {
  start_server(server_options());
  const QString file = QString::fromStdString((dir_ / "client.ini").string());
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  {
    SettingsCursorStore seed(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
    seed.save(herald::Cursor{0});  // replay everything the server kept
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

// The server's database was replaced: the stored cursor (5, an old epoch) belongs to
// another history. The Qt client reports the reset, emits the new stream from its start
// and stores the new epoch with the last emitted id.
TEST_F(QtSettingsStore, AResetHistoryIsReportedAndTheNewEpochStored) {
  start_server(server_options());
  std::vector<quint64> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  const QString file = QString::fromStdString((dir_ / "reset.ini").string());
  {
    SettingsCursorStore seed(file, QSettings::IniFormat, QStringLiteral("herald/cursor"));
    seed.save(herald::Cursor{5, "e-of-the-old-database"});
    seed.flush();
  }
  QStringList gaps;
  {
    Client client(client_options(
        "alice", std::make_shared<SettingsCursorStore>(file, QSettings::IniFormat, QStringLiteral("herald/cursor"))));
    QObject::connect(&client, &Client::gapDetected, [&](quint64 last, quint64 first, const QString& reason) {
      gaps << QStringLiteral("%1 %2 %3").arg(last).arg(first).arg(reason);
    });
    QtRecorder rec(client);
    client.start();
    ASSERT_TRUE(spin_until([&] { return rec.ids.size() == 3; }));
    drain_events();
    EXPECT_EQ(rec.ids, published);
  }
  EXPECT_EQ(gaps, QStringList{QStringLiteral("5 0 reset")});
  QSettings raw(file, QSettings::IniFormat);
  const QString stored = raw.value(QStringLiteral("herald/cursor")).toString();
  EXPECT_TRUE(stored.startsWith(QString::number(published.back()) + QStringLiteral(" e-"))) << stored.toStdString();
}

}  // namespace
}  // namespace herald::qt::test
