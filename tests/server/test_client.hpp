// A minimal HTTP/WebSocket client for the server tests. Every operation is bounded by
// a timeout (it throws std::runtime_error when it expires): no test can hang.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald::server::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;
inline constexpr std::chrono::seconds kTestTimeout{10};

struct HttpResult {
  unsigned status = 0;
  std::string body;
  Headers headers;
  std::string header(const std::string& name) const;  ///< "" when absent
  nlohmann::json json() const { return nlohmann::json::parse(body); }
};

/// One HTTP/1.1 request on a fresh connection.
HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const Headers& headers = {}, const std::string& body = {});

struct CloseInfo {
  std::uint16_t code = 0;
  std::string reason;
};

class WsClient {
 public:
  struct Options {
    std::string target = "/v1/stream";
    Headers headers;                         ///< e.g. Authorization, Herald-Last-Seen-Id
    std::string subprotocols = "herald.v1";  ///< Sec-WebSocket-Protocol ("" = none)
  };

  /// Upgrades, or returns the refusal as an HttpResult (status != 101).
  static std::pair<std::unique_ptr<WsClient>, HttpResult> connect(std::uint16_t port, const Options& options);
  ~WsClient();

  std::string selected_subprotocol() const { return subprotocol_; }

  /// Next text frame as JSON; throws on timeout or when the connection closes.
  nlohmann::json read_json(std::chrono::milliseconds timeout = kTestTimeout);
  /// Reads (and discards) frames until the server closes; returns its close frame.
  CloseInfo read_until_close(std::chrono::milliseconds timeout = kTestTimeout);
  void send_text(const std::string& text);
  void send_binary(const std::string& data);
  /// Close handshake from the client side (1000).
  void close();

  /// Bytes straight onto the TCP connection, past the WebSocket (e.g. half a frame).
  void send_raw(const std::string& bytes);
  /// Reads the connection's bytes (past the WebSocket, which does not answer) until a
  /// server close frame went by; returns its code.
  std::uint16_t read_raw_until_close_frame(std::chrono::milliseconds timeout = kTestTimeout);

  struct State;

 private:
  explicit WsClient(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::string subprotocol_;
};

}  // namespace herald::server::testing
