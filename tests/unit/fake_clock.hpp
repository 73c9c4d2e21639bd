// A steady clock that only moves when the test says so.
#pragma once

#include <chrono>

#include "lifecycle/lifecycle.hpp"

namespace herald::test {

class FakeClock {
 public:
  /// Starts at an arbitrary point well after the steady clock's epoch.
  static constexpr detail::SteadyTime kOrigin = detail::SteadyTime{} + std::chrono::hours{1000};

  detail::SteadyTime now() const { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  void set(detail::SteadyTime t) { now_ = t; }
  /// Milliseconds since kOrigin, for readable assertions.
  static long long ms_since_origin(detail::SteadyTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - kOrigin).count();
  }

 private:
  detail::SteadyTime now_ = kOrigin;
};

}  // namespace herald::test
