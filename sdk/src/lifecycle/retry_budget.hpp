// How long the lifecycle keeps retrying before it gives up (errc::retries_exhausted):
// LifecycleConfig's max_attempts and max_elapsed. How long it waits between attempts is
// Backoff's business; whether an error is worth retrying at all is the caller's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace herald::detail {

/// A run of failed connection attempts, measured against two limits: the number of
/// consecutive failures and the time since the run began. A connection that proved
/// stable ends the run (reset()). Time is injected.
class RetryBudget {
 public:
  using Time = std::chrono::steady_clock::time_point;

  /// `max_attempts`: give up after this many consecutive failures; `max_elapsed`: after
  /// failing for this long. 0 for either: no limit of that kind.
  RetryBudget(std::uint32_t max_attempts, std::chrono::milliseconds max_elapsed)
      : max_attempts_(max_attempts), max_elapsed_(max_elapsed) {}

  /// One more failed attempt; the run's clock starts at the first.
  void record_failure(Time now) {
    ++failures_;
    start_clock(now);
  }
  /// Starts the run's clock, unless it runs already, without counting a failure: the
  /// end of a connection that had proved stable is not a failed attempt, but the time
  /// until the next stable one counts from there.
  void start_clock(Time now) {
    if (!failing_since_) failing_since_ = now;
  }
  /// Ends the run: a connection proved stable, or the application asked to retry now.
  void reset() {
    failures_ = 0;
    failing_since_.reset();
  }
  /// True once either limit is reached.
  bool exhausted(Time now) const {
    if (max_attempts_ != 0 && failures_ >= max_attempts_) return true;
    return max_elapsed_.count() > 0 && failing_since_ && now - *failing_since_ >= max_elapsed_;
  }
  /// Consecutive failed attempts in this run.
  std::uint64_t failures() const { return failures_; }

 private:
  std::uint32_t max_attempts_;
  std::chrono::milliseconds max_elapsed_;
  std::uint64_t failures_ = 0;
  std::optional<Time> failing_since_;  ///< start of the run
};

}  // namespace herald::detail
