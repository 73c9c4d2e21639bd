// Where the SDK keeps the cursor: the id of the last notification the application was
// handed, and the epoch of the stream that id belongs to. The id is sent on every
// (re)connect as Herald-Last-Seen-Id, so the server replays exactly what the
// application missed; the epoch tells the client when the server's history started over
// (a restored or replaced database), so that ids of the old history are never compared
// with ids of the new one.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "herald/cursor.hpp"
#include "herald/export.hpp"

namespace herald {

/// Persistent cursor storage. Called on the client's I/O thread only; implementations
/// need no locking of their own unless they share state with other code. The id and the
/// epoch are one record: store them together (a crash must not leave a new epoch beside
/// an old id).
class HERALD_API CursorStore {
 public:
  virtual ~CursorStore() = default;
  /// The stored cursor, or nullopt for a new device: it joins the stream at its head (live
  /// notifications only) and the SDK saves that position at once, so from then on what is
  /// published while it is away is replayed.
  virtual std::optional<Cursor> load() = 0;
  /// Records a new cursor. May buffer; the SDK calls it after every delivery, when a new
  /// device joins or an epoch is first learnt, and when the server's history was reset
  /// (then the id is 0 and the epoch the new one).
  virtual void save(const Cursor& cursor) = 0;
  /// Makes every saved cursor durable. Called on stop, after a reset and periodically.
  virtual void flush() = 0;
};

/// Keeps the cursor in memory: it survives reconnects, not a restart of the process.
class HERALD_API MemoryCursorStore final : public CursorStore {
 public:
  explicit MemoryCursorStore(std::optional<Cursor> initial = std::nullopt);
  std::optional<Cursor> load() override;
  void save(const Cursor& cursor) override;
  void flush() override {}

 private:
  std::mutex mutex_;
  std::optional<Cursor> value_;
};

/// Keeps the cursor in a small text file, replaced atomically (write a temporary file,
/// fsync, rename, fsync the folder), so a crash at any moment leaves either the old or
/// the new value, never a torn one. The file holds the id on its first line and the
/// epoch, when known, on the second; a file of one line (written before epochs
/// existed) reads as a cursor with an unknown epoch.
///
/// Writes are coalesced: save() writes at most once per `min_interval` (the first save
/// after a quiet period is written at once) and flush() writes whatever is pending.
/// The redelivery window: after a crash of the process (not a clean stop, which
/// flushes), the application may be handed again the notifications it received in the
/// last `min_interval` before the crash. Set it to zero for one write per notification.
class HERALD_API FileCursorStore final : public CursorStore {
 public:
  explicit FileCursorStore(std::filesystem::path path,
                           std::chrono::milliseconds min_interval = std::chrono::milliseconds{1000});
  ~FileCursorStore() override;
  /// Throws std::runtime_error if the file exists but does not hold a cursor.
  std::optional<Cursor> load() override;
  void save(const Cursor& cursor) override;
  void flush() override;

 private:
  void write_now(const Cursor& cursor);

  std::filesystem::path path_;
  std::chrono::milliseconds min_interval_;
  std::mutex mutex_;
  std::optional<Cursor> pending_;
  std::optional<Cursor> written_;
  std::optional<std::chrono::steady_clock::time_point> last_write_;
};

}  // namespace herald
