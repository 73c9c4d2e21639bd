// The driver's timers: one Asio timer per lifecycle TimerKind, on the client's strand.
// Arming a kind replaces its pending expiry. A wait that had already completed when its
// timer was cancelled or re-armed cannot be taken back, so each arming has a generation
// and only the current one counts (TimerTable::current).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "lifecycle/lifecycle.hpp"

namespace herald::detail {

class TimerTable {
 public:
  template <class Executor>
  explicit TimerTable(const Executor& ex) : slots_(make(ex, std::make_index_sequence<kTimerKinds>{})) {}

  /// Arms `kind` for `at`. Unless cancelled first, `fired(kind, generation)` runs on the
  /// timer's executor once it expires; the owner, once it knows it is still alive, checks
  /// current(kind, generation) before acting.
  template <class Fired>
  void arm(TimerKind kind, SteadyTime at, Fired fired) {
    auto& slot = slots_[index(kind)];
    const auto generation = ++slot.generation;
    slot.timer.expires_at(at);
    slot.timer.async_wait([fired = std::move(fired), kind, generation](const boost::system::error_code& ec) mutable {
      if (!ec) fired(kind, generation);
    });
  }

  /// False once `kind` was cancelled or armed again after the arming of `generation`.
  bool current(TimerKind kind, std::uint64_t generation) const { return slots_[index(kind)].generation == generation; }

  void cancel(TimerKind kind) {
    auto& slot = slots_[index(kind)];
    ++slot.generation;
    slot.timer.cancel();
  }

  void cancel_all() {
    for (std::size_t i = 0; i < kTimerKinds; ++i) cancel(static_cast<TimerKind>(i));
  }

 private:
  struct Slot {
    boost::asio::steady_timer timer;
    std::uint64_t generation = 0;
  };

  static std::size_t index(TimerKind kind) { return static_cast<std::size_t>(kind); }

  template <class Executor, std::size_t... I>
  static std::array<Slot, sizeof...(I)> make(const Executor& ex, std::index_sequence<I...>) {
    return {((void)I, Slot{boost::asio::steady_timer(ex), 0})...};
  }

  std::array<Slot, kTimerKinds> slots_;
};

}  // namespace herald::detail
