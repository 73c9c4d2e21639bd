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

void PrintTo(const Cursor& c, std::ostream* os) { *os << c.id << (c.epoch.empty() ? "" : "@" + c.epoch); }

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::ElementsAre;

TEST(MemoryCursorStore, StartsEmptyOrWithTheInitialValue) {
  EXPECT_FALSE(MemoryCursorStore{}.load());
  EXPECT_EQ(MemoryCursorStore{Cursor{17}}.load(), Cursor{17});
}

TEST(MemoryCursorStore, RoundTrip) {
  MemoryCursorStore store;
  store.save(Cursor{41});
  store.save(Cursor{42});
  store.flush();
  EXPECT_EQ(store.load(), Cursor{42});
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
  /// The id a brand-new store (a restarted process) reads from disk.
  std::optional<std::uint64_t> on_disk() {
    const auto c = FileCursorStore(path_).load();
    return c ? std::optional<std::uint64_t>(c->id) : std::nullopt;
  }
  std::string file_content() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
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
    store.save(Cursor{123456789012345ull});
    store.flush();
  }
  EXPECT_EQ(on_disk(), 123456789012345ull);
}

TEST_F(FileCursorStoreTest, LargestIdRoundTrips) {
  FileCursorStore store(path_, 0ms);
  store.save(Cursor{18446744073709551615ull});
  EXPECT_EQ(on_disk(), 18446744073709551615ull);
}

TEST_F(FileCursorStoreTest, ZeroIntervalWritesEverySave) {
  FileCursorStore store(path_, 0ms);
  for (std::uint64_t id : {1u, 2u, 3u, 10u}) {
    store.save(Cursor{id});
    EXPECT_EQ(on_disk(), id);
  }
}

TEST_F(FileCursorStoreTest, LargeIntervalCoalescesSavesUntilFlush) {
  FileCursorStore store(path_, 24h);
  store.save(Cursor{1});
  store.flush();  // whatever the first save did, the file now holds 1 and a write just happened
  ASSERT_EQ(on_disk(), 1u);
  store.save(Cursor{2});
  store.save(Cursor{3});
  EXPECT_EQ(on_disk(), 1u) << "saves within min_interval must not be written yet";
  EXPECT_EQ(store.load(), Cursor{3}) << "the store itself knows the pending cursor";
  store.flush();
  EXPECT_EQ(on_disk(), 3u);
  store.flush();  // nothing pending: harmless
  EXPECT_EQ(on_disk(), 3u);
}

// The header promises: "the first save after a quiet period is written at once". A
// store that never wrote has been quiet forever, whatever the machine's uptime.
TEST_F(FileCursorStoreTest, FirstSaveIsWrittenAtOnceEvenWithAHugeInterval) {
  FileCursorStore store(path_, std::chrono::duration_cast<std::chrono::milliseconds>(24h * 365 * 100));
  store.save(Cursor{5});
  EXPECT_EQ(on_disk(), 5u);
}

TEST_F(FileCursorStoreTest, DestructorFlushesThePendingCursor) {
  {
    FileCursorStore store(path_, 24h);
    store.save(Cursor{1});
    store.flush();
    store.save(Cursor{2});
  }
  EXPECT_EQ(on_disk(), 2u);
}

TEST_F(FileCursorStoreTest, TemporaryFileDoesNotLinger) {
  {
    FileCursorStore store(path_, 0ms);
    for (std::uint64_t id = 1; id <= 20; ++id) store.save(Cursor{id});
    store.flush();
  }
  EXPECT_THAT(files_in_dir(), ElementsAre("cursor.txt"));
}

TEST_F(FileCursorStoreTest, FileHoldsTheDecimalCursorAndANewline) {
  FileCursorStore(path_, 0ms).save(Cursor{42});
  EXPECT_EQ(file_content(), "42\n");
}

TEST_F(FileCursorStoreTest, TheEpochIsKeptOnTheSecondLine) {
  FileCursorStore(path_, 0ms).save(Cursor{42, "e-7f3a"});
  EXPECT_EQ(file_content(), "42\ne-7f3a\n");
  EXPECT_EQ(FileCursorStore(path_).load(), (Cursor{42, "e-7f3a"}));
}

TEST_F(FileCursorStoreTest, AFileWrittenBeforeEpochsReadsWithAnUnknownEpoch) {
  write_file("42\n");
  EXPECT_EQ(FileCursorStore(path_).load(), (Cursor{42, ""}));
  write_file("42\r\ne-1\r\n");
  EXPECT_EQ(FileCursorStore(path_).load(), (Cursor{42, "e-1"})) << "CRLF line ends";
}

TEST_F(FileCursorStoreTest, AnInvalidEpochOrAnOversizedFileThrowsRuntimeError) {
  for (const std::string& content : {std::string("5\nbad epoch\n"), std::string("5\ne-1\nthird line"),
                                     "5\n" + std::string(65, 'e'), "5\n" + std::string(400, '\n') + "e-1"}) {
    write_file(content);
    EXPECT_THROW(FileCursorStore(path_).load(), std::runtime_error) << testing::PrintToString(content);
  }
}

TEST_F(FileCursorStoreTest, TrailingWhitespaceIsTolerated) {
  write_file("77 \n\n");
  EXPECT_EQ(FileCursorStore(path_).load(), Cursor{77});
}

TEST_F(FileCursorStoreTest, CorruptFileThrowsRuntimeError) {
  for (const std::string content :
       {"", "\n", "garbage", "12abc", "-1", "+5", "0x10", "1.5", " 12", "99999999999999999999999"}) {
    write_file(content);
    FileCursorStore store(path_);
    EXPECT_THROW(store.load(), std::runtime_error) << testing::PrintToString(content);
  }
}

TEST_F(FileCursorStoreTest, CorruptFileIsReplacedBySave) {
  write_file("garbage");
  FileCursorStore(path_, 0ms).save(Cursor{9});
  EXPECT_EQ(on_disk(), 9u);
}

TEST_F(FileCursorStoreTest, SaveIntoAMissingFolderThrowsRuntimeError) {
  FileCursorStore store(dir_ / "no-such-folder" / "cursor.txt", 0ms);
  EXPECT_THROW(store.save(Cursor{1}), std::runtime_error);
}

}  // namespace
}  // namespace herald
