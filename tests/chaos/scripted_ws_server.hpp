// A WebSocket server that misbehaves on purpose: it selects subprotocol herald.v1 and
// then sends, on each connection, the frames a script gives for that connection (the
// script usually starts with welcome). Afterwards it keeps reading (answering pings and
// the close handshake) until the client goes away.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace herald::test {

struct ScriptedFrame {
  enum class Kind { text, binary, close };
  Kind kind = Kind::text;
  std::string payload;        ///< text or binary payload
  std::uint16_t code = 1000;  ///< close code

  static ScriptedFrame text(std::string s) { return {Kind::text, std::move(s), 1000}; }
  static ScriptedFrame binary(std::string s) { return {Kind::binary, std::move(s), 1000}; }
  static ScriptedFrame close(std::uint16_t code) { return {Kind::close, {}, code}; }
};

/// Frames of a well-behaved server.
std::string welcome_json(int heartbeat_s = 25);
std::string caught_up_json(std::uint64_t head_id);
std::string notification_json(std::uint64_t id, const std::string& data_json = "{}");

class ScriptedWsServer {
 public:
  /// `script(n)`: the frames for the n-th connection (0-based) after its upgrade.
  using Script = std::function<std::vector<ScriptedFrame>(std::size_t connection)>;
  /// `subprotocol`: selected in the upgrade response; empty: none (a protocol error).
  explicit ScriptedWsServer(Script script, std::string subprotocol = "herald.v1");
  ~ScriptedWsServer();
  ScriptedWsServer(const ScriptedWsServer&) = delete;
  ScriptedWsServer& operator=(const ScriptedWsServer&) = delete;

  std::uint16_t port() const;
  std::string url() const;
  /// WebSocket upgrades accepted so far.
  std::size_t connections() const;
  /// Connections whose TCP stream has ended (the client closed or dropped it).
  std::size_t connections_ended() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::test
