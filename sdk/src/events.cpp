#include "herald/events.hpp"

namespace herald {

const char* to_string(State s) noexcept {
  switch (s) {
    case State::idle: return "idle";
    case State::connecting: return "connecting";
    case State::connected: return "connected";
    case State::reconnecting: return "reconnecting";
    case State::stopped: return "stopped";
  }
  return "unknown";
}

const char* to_string(GapReason r) noexcept {
  switch (r) {
    case GapReason::retention: return "retention";
    case GapReason::reset: return "reset";
  }
  return "unknown";
}

}  // namespace herald
