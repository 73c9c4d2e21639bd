// Where the SDK keeps the cursor: the id of the last notification the application was
// handed. It is sent on every (re)connect as Herald-Last-Seen-Id, so the server replays
// exactly what the application missed.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

namespace herald {

/// Persistent cursor storage. Called on the client's I/O thread only; implementations
/// need no locking of their own unless they share state with other code.
class CursorStore {
 public:
  virtual ~CursorStore() = default;
  /// The stored cursor, or nullopt for a new device (live stream only, from now).
  virtual std::optional<std::uint64_t> load() = 0;
  /// Records a new cursor. May buffer; the SDK calls it after every delivery.
  virtual void save(std::uint64_t id) = 0;
  /// Makes every saved cursor durable. Called on stop and periodically.
  virtual void flush() = 0;
};

/// Keeps the cursor in memory: it survives reconnects, not a restart of the process.
class MemoryCursorStore final : public CursorStore {
 public:
  explicit MemoryCursorStore(std::optional<std::uint64_t> initial = std::nullopt);
  std::optional<std::uint64_t> load() override;
  void save(std::uint64_t id) override;
  void flush() override {}

 private:
  std::mutex mutex_;
  std::optional<std::uint64_t> value_;
};

/// Keeps the cursor in a small text file, replaced atomically (write a temporary file,
/// fsync, rename, fsync the folder), so a crash at any moment leaves either the old or
/// the new value, never a torn one.
///
/// Writes are coalesced: save() writes at most once per `min_interval` (the first save
/// after a quiet period is written at once) and flush() writes whatever is pending.
/// The redelivery window: after a crash of the process (not a clean stop, which
/// flushes), the application may be handed again the notifications it received in the
/// last `min_interval` before the crash. Set it to zero for one write per notification.
class FileCursorStore final : public CursorStore {
 public:
  explicit FileCursorStore(std::filesystem::path path,
                           std::chrono::milliseconds min_interval = std::chrono::milliseconds{1000});
  ~FileCursorStore() override;
  /// Throws std::runtime_error if the file exists but does not hold a cursor.
  std::optional<std::uint64_t> load() override;
  void save(std::uint64_t id) override;
  void flush() override;

 private:
  void write_now(std::uint64_t id);

  std::filesystem::path path_;
  std::chrono::milliseconds min_interval_;
  std::mutex mutex_;
  std::optional<std::uint64_t> pending_;
  std::optional<std::uint64_t> written_;
  std::optional<std::chrono::steady_clock::time_point> last_write_;
};

}  // namespace herald
