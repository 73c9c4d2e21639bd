// End to end: a server whose history started over (a new database behind the same URL:
// a restore, a migration, a new Redis). The client must raise a gap event of reason
// `reset` and hand over the new stream from its start. Before epochs, a client with
// cursor 5 dropped the new ids 1..3 as duplicates, silently, until the new stream
// passed id 5.
#include <filesystem>
#include <fstream>
#include <iterator>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class HistoryResetTest : public ServerFixture {
 protected:
  std::filesystem::path cursor_file() const { return dir_ / "cursor"; }
  std::shared_ptr<CursorStore> file_store() const { return std::make_shared<FileCursorStore>(cursor_file()); }

  /// Server A on db a.db: a client receives `n` notifications and stops (cursor saved).
  std::vector<std::uint64_t> first_life(int n) {
    start_server(server_options((dir_ / "a.db").string()));
    Client client(client_options("alice", file_store()));
    Recorder rec;
    rec.attach(client);
    client.start();
    EXPECT_TRUE(rec.wait_state(State::connected));
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(server_->publish("alice", "old", "{}"));
    EXPECT_TRUE(rec.wait_ids(ids.size()));
    client.stop();
    return ids;
  }
  /// Server A replaced by server B on a fresh database, same port.
  void replace_server() {
    server_.reset();
    start_server(server_options((dir_ / "b.db").string()));
  }
};

TEST_F(HistoryResetTest, AClientWhoseServerGotAFreshDatabaseGetsAResetGapAndTheNewStreamFromItsStart) {
  const auto old_ids = first_life(5);
  ASSERT_EQ(old_ids.back(), 5u);
  const auto old_file = read_file(cursor_file());
  replace_server();
  std::vector<std::uint64_t> new_ids;
  for (int i = 0; i < 3; ++i) new_ids.push_back(server_->publish("alice", "new", "{}"));
  ASSERT_EQ(new_ids, (std::vector<std::uint64_t>{1, 2, 3})) << "a fresh database counts from 1 again";

  Client client(client_options("alice", file_store()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(3)) << "the new stream's ids 1..3 were dropped as duplicates of the old 1..5";
  EXPECT_EQ(rec.ids(), new_ids);
  const auto gaps = rec.gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].reason, GapReason::reset);
  EXPECT_EQ(gaps[0].last_seen_id, 5u);
  EXPECT_FALSE(gaps[0].previous_epoch.empty());
  EXPECT_FALSE(gaps[0].epoch.empty());
  EXPECT_NE(gaps[0].epoch, gaps[0].previous_epoch);
  // The application saw one connection come up, no failure.
  for (const auto& s : rec.states()) EXPECT_NE(s.state, State::reconnecting) << s.detail;

  const auto later = server_->publish("alice", "new", "{}");
  ASSERT_TRUE(rec.wait_ids(4));
  EXPECT_EQ(rec.ids().back(), later);
  client.stop();
  EXPECT_EQ(read_file(cursor_file()), std::to_string(later) + "\n" + gaps[0].epoch + "\n");
  EXPECT_NE(old_file, read_file(cursor_file()));
}

TEST_F(HistoryResetTest, ARunningClientFollowsItsServerOntoAFreshDatabase) {
  start_server(server_options((dir_ / "a.db").string()));
  Client client(client_options("alice", file_store()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  for (int i = 0; i < 5; ++i) server_->publish("alice", "old", "{}");
  ASSERT_TRUE(rec.wait_ids(5));

  replace_server();
  ASSERT_TRUE(rec.wait_gaps(1)) << "no reset gap";
  std::vector<std::uint64_t> new_ids;
  for (int i = 0; i < 3; ++i) new_ids.push_back(server_->publish("alice", "new", "{}"));
  ASSERT_TRUE(rec.wait_ids(8));
  auto ids = rec.ids();
  EXPECT_EQ(std::vector<std::uint64_t>(ids.begin() + 5, ids.end()), new_ids);
  EXPECT_EQ(rec.gaps().size(), 1u);
  EXPECT_EQ(rec.gaps()[0].reason, GapReason::reset);
}

TEST_F(HistoryResetTest, TheSameDatabaseAfterARestartIsNoReset) {
  first_life(3);
  server_.reset();
  start_server(server_options((dir_ / "a.db").string()));  // same file: same epoch
  const auto missed = server_->publish("alice", "while-away", "{}");
  Client client(client_options("alice", file_store()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{missed});
  EXPECT_TRUE(rec.gaps().empty());
}

TEST_F(HistoryResetTest, ANewDeviceResumesFromWhereItJoinedAfterARestartOfTheApp) {
  start_server(server_options((dir_ / "a.db").string()));
  server_->publish("alice", "before-the-device", "{}");
  {
    Client client(client_options("alice", file_store()));
    Recorder rec;
    rec.attach(client);
    client.start();
    ASSERT_TRUE(rec.wait_state(State::connected));
    // Only after the welcome was handled is the joining position stored.
    ASSERT_TRUE(eventually([&] { return client.metrics().cursor.has_value(); }));
    client.stop();
    EXPECT_TRUE(rec.ids().empty()) << "a new device gets live notifications only";
  }
  const auto while_closed = server_->publish("alice", "while-the-app-was-closed", "{}");
  Client client(client_options("alice", file_store()));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(1)) << "what was published while the app was closed was lost";
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{while_closed});
}

}  // namespace
}  // namespace herald::test
