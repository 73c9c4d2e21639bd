// herald::Cursor: a position in a user's notification stream — the last id handed to
// the application, and the epoch of the history that id belongs to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace herald {

/// A position in a user's stream. What a CursorStore keeps.
struct Cursor {
  Cursor() = default;
  explicit Cursor(std::uint64_t id_, std::string epoch_ = {}) : id(id_), epoch(std::move(epoch_)) {}

  /// The last id handed to the application; 0: before the first notification (the whole
  /// retained stream is replayed).
  std::uint64_t id = 0;
  /// The server's `welcome.resume.epoch` the id belongs to; empty when not known (a cursor
  /// stored before epochs existed, or a server that sends none). Valid epochs satisfy
  /// is_valid_epoch().
  std::string epoch;
  friend bool operator==(const Cursor&, const Cursor&) = default;
};

/// Longest epoch a server may send (docs/protocol.md § 4).
inline constexpr std::size_t kMaxEpochLength = 64;

/// An epoch is 1 to 64 characters from [A-Za-z0-9._:~-], so it is safe in a file line, a
/// settings value and a log line. The SDK refuses a welcome whose epoch is not.
constexpr bool is_valid_epoch(std::string_view e) noexcept {
  if (e.empty() || e.size() > kMaxEpochLength) return false;
  for (const char c : e) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '~' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace herald
