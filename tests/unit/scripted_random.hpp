// A RandomSource whose answers are scripted, and which records every `upper` it was
// asked for, so tests assert exact delays instead of ranges.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "lifecycle/backoff.hpp"

namespace herald::test {

class ScriptedRandom {
 public:
  /// Answers to give, in order. Once they run out, the source answers `upper`
  /// (the ceiling), which keeps delays deterministic and easy to read.
  void script(std::initializer_list<std::uint64_t> answers) { answers_.insert(answers_.end(), answers); }

  /// The `upper` of every call so far, in order.
  const std::vector<std::uint64_t>& uppers() const { return uppers_; }
  void clear_uppers() { uppers_.clear(); }

  std::uint64_t draw(std::uint64_t upper) {
    uppers_.push_back(upper);
    if (answers_.empty()) return upper;
    const auto v = answers_.front();
    answers_.pop_front();
    return v;
  }

 private:
  std::deque<std::uint64_t> answers_;
  std::vector<std::uint64_t> uppers_;
};

/// A detail::RandomSource bound to a shared ScriptedRandom (the source is copied by
/// its users; every copy talks to the same script).
inline detail::RandomSource source_of(const std::shared_ptr<ScriptedRandom>& r) {
  return [r](std::uint64_t upper) { return r->draw(upper); };
}

}  // namespace herald::test
