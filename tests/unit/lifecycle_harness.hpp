// Drives detail::Lifecycle with a fake clock and a scripted random source, and makes
// its Actions easy to assert on: names(acts) turns them into short strings for exact
// sequence checks, find<T>/all<T> pick actions of one type.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "fake_clock.hpp"
#include "lifecycle/lifecycle.hpp"
#include "protocol/codec.hpp"
#include "scripted_random.hpp"

namespace herald::test {

using namespace std::chrono_literals;
using detail::Action;
using detail::Actions;
using detail::TimerKind;

inline const char* timer_name(TimerKind k) {
  switch (k) {
    case TimerKind::reconnect: return "reconnect";
    case TimerKind::token_timeout: return "token_timeout";
    case TimerKind::liveness: return "liveness";
    case TimerKind::handover: return "handover";
    case TimerKind::refresh: return "refresh";
    case TimerKind::reauth: return "reauth";
    case TimerKind::handover_timeout: return "handover_timeout";
  }
  return "?";
}

/// A short, stable name of an action: "FetchToken", "Open#1", "Close#1/4004",
/// "Abort#1", "Arm(reconnect)", "Cancel(liveness)", "Ping#1", "Deliver#42", "Save#0@e-2",
/// "State(connected)", "Gap", "Log".
inline std::string name_of(const Action& a) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, detail::FetchToken>) {
          return "FetchToken";
        } else if constexpr (std::is_same_v<T, detail::OpenConnection>) {
          return "Open#" + std::to_string(x.conn);
        } else if constexpr (std::is_same_v<T, detail::CloseConnection>) {
          return x.abort ? "Abort#" + std::to_string(x.conn)
                         : "Close#" + std::to_string(x.conn) + "/" + std::to_string(x.code);
        } else if constexpr (std::is_same_v<T, detail::ArmTimer>) {
          return std::string("Arm(") + timer_name(x.kind) + ")";
        } else if constexpr (std::is_same_v<T, detail::CancelTimer>) {
          return std::string("Cancel(") + timer_name(x.kind) + ")";
        } else if constexpr (std::is_same_v<T, detail::SendPing>) {
          return "Ping#" + std::to_string(x.conn);
        } else if constexpr (std::is_same_v<T, detail::SendReauth>) {
          return "Reauth#" + std::to_string(x.conn);
        } else if constexpr (std::is_same_v<T, detail::Deliver>) {
          return "Deliver#" + std::to_string(x.notification.id);
        } else if constexpr (std::is_same_v<T, detail::SaveCursor>) {
          return "Save#" + std::to_string(x.cursor.id) + (x.cursor.epoch.empty() ? "" : "@" + x.cursor.epoch);
        } else if constexpr (std::is_same_v<T, detail::ReportState>) {
          return std::string("State(") + to_string(x.state) + ")";
        } else if constexpr (std::is_same_v<T, detail::ReportGap>) {
          return "Gap";
        } else {
          static_assert(std::is_same_v<T, detail::Log>);
          return "Log";
        }
      },
      a);
}

/// Names of all actions, without Log lines unless asked for.
inline std::vector<std::string> names(const Actions& acts, bool with_logs = false) {
  std::vector<std::string> out;
  for (const auto& a : acts) {
    if (!with_logs && std::holds_alternative<detail::Log>(a)) continue;
    out.push_back(name_of(a));
  }
  return out;
}

template <typename T>
std::vector<T> all(const Actions& acts) {
  std::vector<T> out;
  for (const auto& a : acts) {
    if (const auto* x = std::get_if<T>(&a)) out.push_back(*x);
  }
  return out;
}

template <typename T>
std::optional<T> find(const Actions& acts) {
  for (const auto& a : acts) {
    if (const auto* x = std::get_if<T>(&a)) return *x;
  }
  return std::nullopt;
}

template <typename T>
std::size_t count(const Actions& acts) {
  return all<T>(acts).size();
}

/// The time of the ArmTimer of `kind` in `acts`, if any.
inline std::optional<detail::SteadyTime> armed_at(const Actions& acts, TimerKind kind) {
  for (const auto& t : all<detail::ArmTimer>(acts)) {
    if (t.kind == kind) return t.at;
  }
  return std::nullopt;
}

/// How long after `now` the reconnect timer armed in `acts` fires, in ms (-1: not armed).
inline long long delay_ms(const Actions& acts, detail::SteadyTime now) {
  const auto at = armed_at(acts, TimerKind::reconnect);
  if (!at) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*at - now).count();
}

/// The default configuration with jitter off: every delay is the backoff step itself.
inline detail::LifecycleConfig without_jitter() {
  detail::LifecycleConfig c;
  c.jitter = false;
  return c;
}

/// The last ReportState in `acts`.
inline std::optional<detail::ReportState> last_state(const Actions& acts) {
  auto states = all<detail::ReportState>(acts);
  if (states.empty()) return std::nullopt;
  return states.back();
}

/// A welcome frame; `status` is "ok", "gap" or "fresh". `head_id` and `epoch` are left
/// out unless given.
inline std::string welcome_json(std::string_view status = "ok", unsigned heartbeat_s = 25,
                                std::optional<std::uint64_t> from_id = std::nullopt,
                                std::optional<std::uint64_t> head_id = std::nullopt, std::string_view epoch = {}) {
  std::string s = R"({"type":"welcome","session_id":"s-1","user_id":"u1","protocol":1,"heartbeat_s":)" +
                  std::to_string(heartbeat_s) + R"(,"features":["reauth","drain"],"resume":{"status":")" +
                  std::string(status) + "\"";
  if (from_id) s += R"(,"from_id":)" + std::to_string(*from_id);
  if (head_id) s += R"(,"head_id":)" + std::to_string(*head_id);
  if (!epoch.empty()) s += R"(,"epoch":")" + std::string(epoch) + "\"";
  s += "}}";
  return s;
}

inline std::string caught_up_json(std::uint64_t head_id = 0) {
  return R"({"type":"caught_up","head_id":)" + std::to_string(head_id) + "}";
}

inline std::string drain_json(std::chrono::milliseconds reconnect_within) {
  return R"({"type":"drain","reconnect_within_ms":)" + std::to_string(reconnect_within.count()) + "}";
}

/// The Log messages in `acts`.
inline std::vector<std::string> log_messages(const Actions& acts) {
  std::vector<std::string> out;
  for (const auto& a : acts) {
    if (const auto* l = std::get_if<detail::Log>(&a)) out.push_back(l->message);
  }
  return out;
}

inline std::string notification_json(std::uint64_t id) {
  return R"({"type":"notification","id":)" + std::to_string(id) +
         R"(,"created_at":"2026-11-27T10:00:00.123Z","topic":"comment","data":{"n":)" + std::to_string(id) + "}}";
}

/// Lifecycle + fake clock + scripted random, with one call per event. Every call
/// records the current connection id and the armed reconnect time from its actions.
class LifecycleHarness {
 public:
  /// `cursor` and `epoch`: what the cursor store holds (nullopt: a new device).
  explicit LifecycleHarness(std::optional<std::uint64_t> cursor = std::nullopt, detail::LifecycleConfig config = {},
                            std::string epoch = {})
      : config_(config),
        random_(std::make_shared<ScriptedRandom>()),
        lc_(config, source_of(random_),
            cursor ? std::optional<Cursor>(Cursor{*cursor, std::move(epoch)}) : std::nullopt) {}

  FakeClock clock;
  detail::Lifecycle& lifecycle() { return lc_; }
  ScriptedRandom& random() { return *random_; }
  const detail::LifecycleConfig& config() const { return config_; }
  detail::ConnId conn() const { return conn_; }
  const std::optional<detail::OpenConnection>& last_open() const { return last_open_; }
  std::optional<detail::SteadyTime> reconnect_at() const { return reconnect_at_; }

  Actions start() { return seen(lc_.start(clock.now())); }
  Actions stop() { return seen(lc_.stop(clock.now())); }
  Actions token(std::string value = "tok", std::optional<detail::SteadyTime> expires_at = std::nullopt,
                std::optional<detail::SteadyTime> issued_at = std::nullopt) {
    return seen(lc_.token_ready(clock.now(), std::move(value), expires_at, issued_at, {}));
  }
  Actions token_failed(std::string error, std::error_code code = {}) {
    return seen(lc_.token_ready(clock.now(), std::nullopt, std::nullopt, std::nullopt, std::move(error), code));
  }
  Actions connected() { return connected(conn_); }
  Actions connected(detail::ConnId c) { return seen(lc_.connected(clock.now(), c)); }
  Actions connect_failed(std::string detail = "connection refused") {
    return seen(lc_.connect_failed(clock.now(), conn_, std::move(detail)));
  }
  Actions frame(std::string_view json) { return frame(conn_, json); }
  Actions frame(detail::ConnId c, std::string_view json) {
    return seen(lc_.frame(clock.now(), c, decoder_.decode(json)));
  }
  Actions closed(std::optional<std::uint16_t> code, std::string reason = {}) {
    return closed(conn_, code, std::move(reason));
  }
  Actions closed(detail::ConnId c, std::optional<std::uint16_t> code, std::string reason = {}) {
    return seen(lc_.closed(clock.now(), c, code, std::move(reason)));
  }
  Actions refused(unsigned status, std::string error, std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    return seen(
        lc_.handshake_refused(clock.now(), conn_, detail::HandshakeRefusal{status, std::move(error), retry_after}));
  }
  void activity() { lc_.activity(clock.now(), conn_); }
  Actions timer(TimerKind kind) { return seen(lc_.timer(clock.now(), kind)); }
  Actions reconnect_now() { return seen(lc_.reconnect_now(clock.now())); }

  // Events of one given connection: with make-before-break two are alive at once, and
  // conn() follows the newest OpenConnection, so handover tests name the id.
  Actions connect_failed_on(detail::ConnId c, std::string detail = "connection refused") {
    return seen(lc_.connect_failed(clock.now(), c, std::move(detail)));
  }
  Actions refused_on(detail::ConnId c, unsigned status, std::string error,
                     std::optional<std::chrono::seconds> retry_after = std::nullopt) {
    return seen(lc_.handshake_refused(clock.now(), c, detail::HandshakeRefusal{status, std::move(error), retry_after}));
  }
  void activity_on(detail::ConnId c) { lc_.activity(clock.now(), c); }

  /// Moves the clock to the armed reconnect time and fires the reconnect timer.
  Actions fire_reconnect() {
    if (reconnect_at_) clock.set(*reconnect_at_);
    reconnect_at_.reset();
    return timer(TimerKind::reconnect);
  }

  /// start → token → connected → welcome: a live connection. Returns its id.
  detail::ConnId bring_up(std::string_view welcome = {}) {
    start();
    token();
    connected();
    frame(welcome.empty() ? welcome_json() : std::string(welcome));
    return conn_;
  }

 private:
  Actions seen(Actions acts) {
    for (const auto& a : acts) {
      if (const auto* o = std::get_if<detail::OpenConnection>(&a)) {
        conn_ = o->conn;
        last_open_ = *o;
      }
      if (const auto* t = std::get_if<detail::ArmTimer>(&a); t && t->kind == TimerKind::reconnect)
        reconnect_at_ = t->at;
    }
    return acts;
  }

  detail::LifecycleConfig config_;
  std::shared_ptr<ScriptedRandom> random_;
  detail::Lifecycle lc_;
  detail::protocol::Decoder decoder_;
  detail::ConnId conn_ = 0;
  std::optional<detail::OpenConnection> last_open_;
  std::optional<detail::SteadyTime> reconnect_at_;
};

}  // namespace herald::test
