#include "lifecycle/backoff.hpp"

#include <algorithm>
#include <memory>
#include <random>

namespace herald::detail {

RandomSource default_random_source() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine](std::uint64_t upper) { return std::uniform_int_distribution<std::uint64_t>(0, upper)(*engine); };
}

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, RandomSource random, Jitter jitter)
    : base_(std::max(base, std::chrono::milliseconds{1})),
      cap_(std::max(cap, base_)),
      random_(std::move(random)),
      jitter_(jitter) {}

std::chrono::milliseconds Backoff::ceiling() const {
  // base * 2^attempts without overflow: stop doubling once the cap is reached.
  auto ceiling = base_;
  for (std::uint32_t i = 0; i < attempts_ && ceiling < cap_; ++i) ceiling = ceiling > cap_ / 2 ? cap_ : ceiling * 2;
  return std::min(ceiling, cap_);
}

std::chrono::milliseconds Backoff::next() {
  const auto upper = static_cast<std::uint64_t>(ceiling().count());
  if (attempts_ < 64) ++attempts_;
  const auto draw = [this](std::uint64_t u) { return std::min(random_(u), u); };  // a bad source cannot exceed u
  std::uint64_t delay = upper;
  switch (jitter_) {
    case Jitter::none: break;
    case Jitter::full: delay = draw(upper); break;
    case Jitter::half: delay = upper / 2 + draw(upper / 2); break;
  }
  return std::chrono::milliseconds{static_cast<std::int64_t>(delay)};
}

}  // namespace herald::detail
