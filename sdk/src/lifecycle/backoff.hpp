// Capped exponential backoff with jitter: delay = U(0, min(cap, base * 2^n)) (full
// jitter, for reconnects) or ceiling/2 + U(0, ceiling/2) (half jitter, for token refresh
// retries). The cap is applied first and the jitter second, so clients that reach the
// cap keep spreading out instead of re-synchronising on it. Randomness is injected.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <utility>

namespace herald::detail {

/// Returns a uniformly distributed integer in [0, upper] (inclusive).
using RandomSource = std::function<std::uint64_t(std::uint64_t upper)>;

/// A RandomSource seeded from std::random_device.
RandomSource default_random_source();

/// How a delay is drawn below its ceiling.
enum class Jitter {
  /// The ceiling itself (only to demonstrate why jitter matters: synchronised clients
  /// reconnect in one spike).
  none,
  /// U(0, ceiling): reconnects.
  full,
  /// ceiling/2 + U(0, ceiling/2): spread out, but never much sooner than the ceiling
  /// (token refresh retries).
  half,
};

/// The delays between consecutive failed attempts of one kind, and their count.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, RandomSource random, Jitter jitter);
  /// `jitter` false: Jitter::none.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, RandomSource random, bool jitter = true)
      : Backoff(base, cap, std::move(random), jitter ? Jitter::full : Jitter::none) {}

  /// The delay before the next attempt; each call counts one more failed attempt.
  std::chrono::milliseconds next();
  /// The ceiling next() would draw from now: min(cap, base * 2^attempts).
  std::chrono::milliseconds ceiling() const;
  /// Forgets the failures (after a connection proved stable).
  void reset() { attempts_ = 0; }
  std::uint32_t attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  RandomSource random_;
  Jitter jitter_;
  std::uint32_t attempts_ = 0;
};

}  // namespace herald::detail
