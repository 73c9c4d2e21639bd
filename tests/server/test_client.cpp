#include "test_client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <stdexcept>

namespace herald::server::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Runs one asynchronous operation on `ioc` to completion, within `timeout`. On timeout
// `cancel` is called, the operation is let finish, and std::runtime_error is thrown.
template <class Start, class Cancel>
beast::error_code run_bounded(asio::io_context& ioc, std::chrono::milliseconds timeout, Start start, Cancel cancel) {
  bool done = false;
  beast::error_code result;
  start([&](beast::error_code ec) {
    done = true;
    result = ec;
  });
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    cancel();
    ioc.restart();
    ioc.run_for(std::chrono::seconds(2));
    throw std::runtime_error("test client: operation timed out");
  }
  return result;
}

void connect_tcp(asio::io_context& ioc, beast::tcp_stream& stream, std::uint16_t port) {
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  const auto ec = run_bounded(
      ioc, kTestTimeout, [&](auto done) { stream.async_connect(ep, [done](beast::error_code e) { done(e); }); },
      [&] { stream.close(); });
  if (ec) throw std::runtime_error("test client: connect failed: " + ec.message());
}

Headers headers_of(const http::fields& fields) {
  Headers out;
  for (const auto& f : fields) out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

}  // namespace

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      return v;
    }
  }
  return {};
}

HttpResult http_request(std::uint16_t port, const std::string& method, const std::string& target,
                        const Headers& headers, const std::string& body) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  connect_tcp(ioc, stream, port);
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.insert(k, v);
  if (!body.empty() || method == "POST") {
    req.body() = body;
    req.set(http::field::content_type, "application/json");
    req.prepare_payload();
  }
  auto ec = run_bounded(
      ioc, kTestTimeout,
      [&](auto done) { http::async_write(stream, req, [done](beast::error_code e, std::size_t) { done(e); }); },
      [&] { stream.close(); });
  // A server may answer (e.g. 413) before it read the whole body; read the answer anyway.
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  ec = run_bounded(
      ioc, kTestTimeout,
      [&](auto done) { http::async_read(stream, buffer, res, [done](beast::error_code e, std::size_t) { done(e); }); },
      [&] { stream.close(); });
  if (ec) throw std::runtime_error("test client: HTTP read failed: " + ec.message());
  HttpResult out;
  out.status = res.result_int();
  out.body = res.body();
  out.headers = headers_of(res.base());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

struct WsClient::State {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buffer;
};

WsClient::WsClient(std::unique_ptr<State> state) : state_(std::move(state)) {}

WsClient::~WsClient() {
  if (!state_) return;
  beast::error_code ignored;
  beast::get_lowest_layer(state_->ws).socket().close(ignored);
}

std::pair<std::unique_ptr<WsClient>, HttpResult> WsClient::connect(std::uint16_t port, const Options& options) {
  auto state = std::make_unique<State>();
  connect_tcp(state->ioc, beast::get_lowest_layer(state->ws), port);
  state->ws.set_option(websocket::stream_base::decorator([options](websocket::request_type& req) {
    if (!options.subprotocols.empty()) req.set(http::field::sec_websocket_protocol, options.subprotocols);
    for (const auto& [k, v] : options.headers) req.insert(k, v);
  }));
  state->ws.read_message_max(8 << 20);
  websocket::response_type res;
  const auto ec = run_bounded(
      state->ioc, kTestTimeout,
      [&](auto done) {
        state->ws.async_handshake(res, "127.0.0.1", options.target, [done](beast::error_code e) { done(e); });
      },
      [&] { beast::get_lowest_layer(state->ws).close(); });
  HttpResult result;
  result.status = res.result_int();
  result.body = res.body();
  result.headers = headers_of(res.base());
  if (ec) {
    if (result.status == 0) throw std::runtime_error("test client: handshake failed: " + ec.message());
    return {nullptr, result};
  }
  std::unique_ptr<WsClient> client(new WsClient(std::move(state)));
  client->subprotocol_ = result.header("Sec-WebSocket-Protocol");
  return {std::move(client), result};
}

nlohmann::json WsClient::read_json(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  const auto ec = run_bounded(
      s.ioc, timeout,
      [&](auto done) { s.ws.async_read(s.buffer, [done](beast::error_code e, std::size_t) { done(e); }); },
      [&] { beast::get_lowest_layer(s.ws).close(); });
  if (ec) {
    throw std::runtime_error("test client: read failed: " + ec.message() + " (close code " +
                             std::to_string(s.ws.reason().code) + ")");
  }
  const std::string text = beast::buffers_to_string(s.buffer.data());
  s.buffer.consume(s.buffer.size());
  return nlohmann::json::parse(text);
}

void WsClient::send_raw(const std::string& bytes) {
  auto& s = *state_;
  auto& tcp_layer = beast::get_lowest_layer(s.ws);
  const auto ec = run_bounded(
      s.ioc, kTestTimeout,
      [&](auto done) {
        asio::async_write(tcp_layer, asio::buffer(bytes), [done](beast::error_code e, std::size_t) { done(e); });
      },
      [&] { tcp_layer.close(); });
  if (ec) throw std::runtime_error("test client: raw write failed: " + ec.message());
}

std::uint16_t WsClient::read_raw_until_close_frame(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  auto& tcp_layer = beast::get_lowest_layer(s.ws);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string in;
  std::array<char, 4096> chunk{};
  for (;;) {
    // Complete server frames (unmasked) at the front of `in`.
    while (in.size() >= 2) {
      const auto b0 = static_cast<unsigned char>(in[0]);
      std::size_t len = static_cast<unsigned char>(in[1]) & 0x7f;
      std::size_t head = 2;
      if (len == 126) {
        if (in.size() < 4) break;
        len = (std::size_t{static_cast<unsigned char>(in[2])} << 8) | static_cast<unsigned char>(in[3]);
        head = 4;
      } else if (len == 127) {
        throw std::runtime_error("test client: a server frame over 64 KiB");
      }
      if (in.size() < head + len) break;
      if ((b0 & 0x0f) == 0x8) {
        return len >= 2 ? static_cast<std::uint16_t>((static_cast<unsigned char>(in[head]) << 8) |
                                                     static_cast<unsigned char>(in[head + 1]))
                        : std::uint16_t{1005};
      }
      in.erase(0, head + len);
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("test client: no close frame within the timeout");
    std::size_t got = 0;
    const auto ec = run_bounded(
        s.ioc, left,
        [&](auto done) {
          tcp_layer.async_read_some(asio::buffer(chunk), [done, &got](beast::error_code e, std::size_t n) {
            got = n;
            done(e);
          });
        },
        [&] { tcp_layer.close(); });
    if (ec) throw std::runtime_error("test client: raw read failed: " + ec.message());
    in.append(chunk.data(), got);
  }
}

CloseInfo WsClient::read_until_close(std::chrono::milliseconds timeout) {
  auto& s = *state_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const auto ec = run_bounded(
        s.ioc, left,
        [&](auto done) { s.ws.async_read(s.buffer, [done](beast::error_code e, std::size_t) { done(e); }); },
        [&] { beast::get_lowest_layer(s.ws).close(); });
    s.buffer.consume(s.buffer.size());
    if (ec) return CloseInfo{s.ws.reason().code, std::string(s.ws.reason().reason.data(), s.ws.reason().reason.size())};
  }
  throw std::runtime_error("test client: no close within the timeout");
}

void WsClient::send_text(const std::string& text) {
  auto& s = *state_;
  s.ws.text(true);
  const auto ec = run_bounded(
      s.ioc, kTestTimeout,
      [&](auto done) { s.ws.async_write(asio::buffer(text), [done](beast::error_code e, std::size_t) { done(e); }); },
      [&] { beast::get_lowest_layer(s.ws).close(); });
  if (ec) throw std::runtime_error("test client: write failed: " + ec.message());
}

void WsClient::send_binary(const std::string& data) {
  auto& s = *state_;
  s.ws.binary(true);
  const auto ec = run_bounded(
      s.ioc, kTestTimeout,
      [&](auto done) { s.ws.async_write(asio::buffer(data), [done](beast::error_code e, std::size_t) { done(e); }); },
      [&] { beast::get_lowest_layer(s.ws).close(); });
  if (ec) throw std::runtime_error("test client: write failed: " + ec.message());
}

void WsClient::close() {
  auto& s = *state_;
  run_bounded(
      s.ioc, kTestTimeout,
      [&](auto done) { s.ws.async_close(websocket::close_code::normal, [done](beast::error_code e) { done(e); }); },
      [&] { beast::get_lowest_layer(s.ws).close(); });
}

}  // namespace herald::server::testing
