// SQLite store: durability across reopen, id monotonicity, retention and gap bookkeeping.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "store.hpp"

namespace herald::server::detail {
namespace {

class TempDb {
 public:
  TempDb() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("herald-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()) + ".db");
  }
  ~TempDb() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + suffix, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(SqliteStore, TheEpochIsCreatedOnceAndKeptAcrossReopens) {
  TempDb db;
  std::string first;
  {
    auto store = open_sqlite_store(db.path(), 100);
    first = store->epoch();
    store->append("u1", "t", "{}", 1);
  }
  EXPECT_EQ(first.rfind("e-", 0), 0u) << first;
  EXPECT_EQ(first.size(), 34u) << "e- and 128 random bits in hex";
  EXPECT_EQ(open_sqlite_store(db.path(), 100)->epoch(), first);
}

TEST(SqliteStore, ANewDatabaseGetsANewEpoch) {
  TempDb a;
  TempDb b;
  const auto epoch_a = open_sqlite_store(a.path(), 100)->epoch();
  EXPECT_NE(open_sqlite_store(b.path(), 100)->epoch(), epoch_a);
  EXPECT_NE(open_sqlite_store(":memory:", 100)->epoch(), open_sqlite_store(":memory:", 100)->epoch())
      << "an in-memory store is new every time";
}

TEST(SqliteStore, ReopenReadsBackEverything) {
  TempDb db;
  std::vector<std::uint64_t> ids;
  {
    auto store = open_sqlite_store(db.path(), 100);
    for (int i = 0; i < 3; ++i)
      ids.push_back(store->append("u1", "t", R"({"i":)" + std::to_string(i) + "}", 1000 + i).id);
    store->append("u2", "t", "{}", 5);
  }
  ASSERT_TRUE(ids[0] < ids[1] && ids[1] < ids[2]);
  auto store = open_sqlite_store(db.path(), 100);
  const auto all = store->read_after("u1", 0, 100);
  ASSERT_EQ(all.size(), 3U);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(all[i].id, ids[i]);
    EXPECT_EQ(all[i].data_json, R"({"i":)" + std::to_string(i) + "}");
    EXPECT_EQ(all[i].created_at_ms, static_cast<std::int64_t>(1000 + i));
    EXPECT_EQ(all[i].topic, "t");
  }
  EXPECT_EQ(store->state("u1").head_id, ids[2]);
  EXPECT_EQ(store->read_after("u1", ids[0], 100).size(), 2U);
  EXPECT_EQ(store->read_after("u1", ids[0], 1).size(), 1U);
  // Ids keep increasing after a restart.
  EXPECT_GT(store->append("u1", "t", "{}", 0).id, ids[2] + 1);
}

TEST(SqliteStore, RetentionPrunesOldestAndRemembersIt) {
  auto store = open_sqlite_store(":memory:", 3);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(store->append("u1", "t", "{}", 0).id);
  store->append("u2", "t", "{}", 0);
  const auto kept = store->read_after("u1", 0, 100);
  ASSERT_EQ(kept.size(), 3U);
  EXPECT_EQ(kept.front().id, ids[2]);
  const auto s = store->state("u1");
  EXPECT_EQ(s.head_id, ids[4]);
  EXPECT_EQ(s.pruned_through, ids[1]);
  EXPECT_EQ(store->state("u2").pruned_through, 0U);
  EXPECT_EQ(store->state("nobody").head_id, 0U);
}

TEST(SqliteStore, RetentionLoweredAcrossRestartPrunesOnNextAppend) {
  TempDb db;
  std::vector<std::uint64_t> ids;
  {
    auto store = open_sqlite_store(db.path(), 10);
    for (int i = 0; i < 6; ++i) ids.push_back(store->append("u1", "t", "{}", 0).id);
  }
  auto store = open_sqlite_store(db.path(), 2);
  const auto id = store->append("u1", "t", "{}", 0).id;
  const auto kept = store->read_after("u1", 0, 100);
  ASSERT_EQ(kept.size(), 2U);
  EXPECT_EQ(kept[0].id, ids[5]);
  EXPECT_EQ(kept[1].id, id);
  EXPECT_EQ(store->state("u1").pruned_through, ids[4]);
}

TEST(SqliteStore, ZeroRetentionIsRefused) { EXPECT_THROW(open_sqlite_store(":memory:", 0), std::invalid_argument); }

}  // namespace
}  // namespace herald::server::detail

namespace herald::server::detail {
namespace {

TEST(SqliteStore, RevocationsPersistAndNeverMoveBack) {
  TempDb db;
  {
    auto store = open_sqlite_store(db.path(), 10);
    EXPECT_FALSE(store->tokens_revoked_at("u1"));
    EXPECT_EQ(store->latest_revoke(), 0);
    EXPECT_EQ(store->revoke_tokens("u1", 2000), 2000);
    EXPECT_EQ(store->revoke_tokens("u1", 1500), 2000);  // an earlier instant changes nothing
    EXPECT_EQ(store->revoke_tokens("u2", 1000), 1000);
  }
  auto store = open_sqlite_store(db.path(), 10);
  EXPECT_EQ(store->tokens_revoked_at("u1"), 2000);
  EXPECT_EQ(store->tokens_revoked_at("u2"), 1000);
  EXPECT_FALSE(store->tokens_revoked_at("u3"));
  EXPECT_EQ(store->latest_revoke(), 2000);
}

}  // namespace
}  // namespace herald::server::detail
