// Cursor stores: the memory store, and the file store's atomic replace, coalesced
// writes and corruption handling. Each test works in a fresh temporary folder.
#include "herald/cursor_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace herald {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;

TEST(MemoryCursorStore, StartsEmptyOrWithTheInitialValue) {
  EXPECT_FALSE(MemoryCursorStore{}.load());
  EXPECT_EQ(MemoryCursorStore{17}.load(), 17u);
}

TEST(MemoryCursorStore, RoundTrip) {
  MemoryCursorStore store;
  store.save(41);
  store.save(42);
  store.flush();
  EXPECT_EQ(store.load(), 42u);
}

class FileCursorStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "herald-unit-cursor-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = dir_ / "cursor.txt";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void write_file(const std::string& content) {
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  /// What a brand-new store (a restarted process) reads from disk.
  std::optional<std::uint64_t> on_disk() { return FileCursorStore(path_).load(); }
  std::vector<std::string> files_in_dir() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(FileCursorStoreTest, MissingFileMeansNewDevice) {
  FileCursorStore store(path_);
  EXPECT_FALSE(store.load());
  EXPECT_FALSE(fs::exists(path_)) << "load() must not create the file";
}

TEST_F(FileCursorStoreTest, SaveFlushAndReloadInANewObject) {
  {
    FileCursorStore store(path_, 0ms);
    store.save(123456789012345ull);
    store.flush();
  }
  EXPECT_EQ(on_disk(), 123456789012345ull);
}

TEST_F(FileCursorStoreTest, LargestIdRoundTrips) {
  FileCursorStore store(path_, 0ms);
  store.save(18446744073709551615ull);
  EXPECT_EQ(on_disk(), 18446744073709551615ull);
}

TEST_F(FileCursorStoreTest, ZeroIntervalWritesEverySave) {
  FileCursorStore store(path_, 0ms);
  for (std::uint64_t id : {1u, 2u, 3u, 10u}) {
    store.save(id);
    EXPECT_EQ(on_disk(), id);
  }
}

TEST_F(FileCursorStoreTest, LargeIntervalCoalescesSavesUntilFlush) {
  FileCursorStore store(path_, 24h);
  store.save(1);
  store.flush();  // whatever the first save did, the file now holds 1 and a write just happened
  ASSERT_EQ(on_disk(), 1u);
  store.save(2);
  store.save(3);
  EXPECT_EQ(on_disk(), 1u) << "saves within min_interval must not be written yet";
  EXPECT_EQ(store.load(), 3u) << "the store itself knows the pending cursor";
  store.flush();
  EXPECT_EQ(on_disk(), 3u);
  store.flush();  // nothing pending: harmless
  EXPECT_EQ(on_disk(), 3u);
}

// The header promises: "the first save after a quiet period is written at once". A
// store that never wrote has been quiet forever, whatever the machine's uptime.
TEST_F(FileCursorStoreTest, FirstSaveIsWrittenAtOnceEvenWithAHugeInterval) {
  FileCursorStore store(path_, std::chrono::duration_cast<std::chrono::milliseconds>(24h * 365 * 100));
  store.save(5);
  EXPECT_EQ(on_disk(), 5u);
}

TEST_F(FileCursorStoreTest, DestructorFlushesThePendingCursor) {
  {
    FileCursorStore store(path_, 24h);
    store.save(1);
    store.flush();
    store.save(2);
  }
  EXPECT_EQ(on_disk(), 2u);
}

TEST_F(FileCursorStoreTest, TemporaryFileDoesNotLinger) {
  {
    FileCursorStore store(path_, 0ms);
    for (std::uint64_t id = 1; id <= 20; ++id) store.save(id);
    store.flush();
  }
  EXPECT_THAT(files_in_dir(), ElementsAre("cursor.txt"));
}

TEST_F(FileCursorStoreTest, FileHoldsTheDecimalCursorAndANewline) {
  FileCursorStore(path_, 0ms).save(42);
  std::ifstream in(path_, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "42\n");
}

TEST_F(FileCursorStoreTest, TrailingWhitespaceIsTolerated) {
  write_file("77 \n\n");
  EXPECT_EQ(FileCursorStore(path_).load(), 77u);
}

TEST_F(FileCursorStoreTest, CorruptFileThrowsRuntimeError) {
  for (const std::string content : {"", "\n", "garbage", "12abc", "-1", "+5", "0x10", "1.5", " 12",
                                    "99999999999999999999999"}) {
    write_file(content);
    FileCursorStore store(path_);
    EXPECT_THROW(store.load(), std::runtime_error) << testing::PrintToString(content);
  }
}

TEST_F(FileCursorStoreTest, CorruptFileIsReplacedBySave) {
  write_file("garbage");
  FileCursorStore(path_, 0ms).save(9);
  EXPECT_EQ(on_disk(), 9u);
}

TEST_F(FileCursorStoreTest, SaveIntoAMissingFolderThrowsRuntimeError) {
  FileCursorStore store(dir_ / "no-such-folder" / "cursor.txt", 0ms);
  EXPECT_THROW(store.save(1), std::runtime_error);
}

}  // namespace
}  // namespace herald
