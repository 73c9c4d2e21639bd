#include "chaos/scripted_ws_server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <mutex>
#include <thread>

namespace herald::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

std::string welcome_json(int heartbeat_s) {
  return R"({"type":"welcome","session_id":"s-scripted","user_id":"u1","protocol":1,"heartbeat_s":)" +
         std::to_string(heartbeat_s) +
         R"(,"token_expires_at":4102444800,"features":[],"resume":{"status":"ok","from_id":1}})";
}

std::string caught_up_json(std::uint64_t head_id) {
  return R"({"type":"caught_up","head_id":)" + std::to_string(head_id) + "}";
}

std::string notification_json(std::uint64_t id, const std::string& data_json) {
  return R"({"type":"notification","id":)" + std::to_string(id) +
         R"(,"created_at":"2026-11-27T10:00:00.000Z","topic":"t","data":)" + data_json + "}";
}

namespace {

struct Counters {
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> ended{0};
};

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(tcp::socket s, std::vector<ScriptedFrame> frames, std::shared_ptr<Counters> counters,
            std::string subprotocol)
      : ws_(std::move(s)),
        frames_(std::move(frames)),
        counters_(std::move(counters)),
        subprotocol_(std::move(subprotocol)) {}

  void run() {
    http::async_read(ws_.next_layer(), buffer_, request_,
                     [self = shared_from_this()](const error_code& ec, std::size_t) {
                       if (ec) return self->end();
                       self->ws_.set_option(
                           websocket::stream_base::decorator([p = self->subprotocol_](websocket::response_type& res) {
                             if (!p.empty()) res.set(http::field::sec_websocket_protocol, p);
                           }));
                       self->ws_.read_message_max(64 * 1024);
                       self->ws_.async_accept(self->request_, [self](const error_code& ec2) {
                         if (ec2) return self->end();
                         ++self->counters_->connections;
                         self->send(0);
                       });
                     });
  }

  void cut() {
    error_code ignore;
    beast::get_lowest_layer(ws_).socket().close(ignore);
  }

 private:
  void send(std::size_t i) {
    if (i == frames_.size()) return read();
    const auto& f = frames_[i];
    auto self = shared_from_this();
    if (f.kind == ScriptedFrame::Kind::close) {
      ws_.async_close(websocket::close_reason(f.code), [self](const error_code&) { self->read(); });
      return;
    }
    ws_.text(f.kind == ScriptedFrame::Kind::text);
    ws_.async_write(asio::buffer(f.payload), [self, i](const error_code& ec, std::size_t) {
      if (ec) return self->end();
      self->send(i + 1);
    });
  }

  void read() {
    ws_.async_read(in_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return self->end();
      self->in_.clear();
      self->read();
    });
  }

  void end() {
    if (ended_) return;
    ended_ = true;
    ++counters_->ended;
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  beast::flat_buffer in_;
  http::request<http::string_body> request_;
  std::vector<ScriptedFrame> frames_;
  std::shared_ptr<Counters> counters_;
  std::string subprotocol_;
  bool ended_ = false;
};

}  // namespace

struct ScriptedWsServer::Impl {
  Impl(Script s, std::string p) : script(std::move(s)), subprotocol(std::move(p)) {}
  Script script;
  std::string subprotocol;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  std::vector<std::weak_ptr<WsSession>> sessions;  // I/O thread only
  std::size_t accepted = 0;                        // I/O thread only
  std::uint16_t port = 0;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec) {
        if (acceptor.is_open()) accept();
        return;
      }
      auto s = std::make_shared<WsSession>(std::move(socket), script(accepted++), counters, subprotocol);
      sessions.push_back(s);
      s->run();
      accept();
    });
  }
};

ScriptedWsServer::ScriptedWsServer(Script script, std::string subprotocol)
    : impl_(std::make_shared<Impl>(std::move(script), std::move(subprotocol))) {
  const tcp::endpoint ep(asio::ip::address_v4::loopback(), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

ScriptedWsServer::~ScriptedWsServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    error_code ignore;
    impl->acceptor.close(ignore);
    for (auto& w : impl->sessions) {
      if (auto s = w.lock()) s->cut();
    }
  });
  impl_->thread.join();
}

std::uint16_t ScriptedWsServer::port() const { return impl_->port; }
std::string ScriptedWsServer::url() const { return "ws://127.0.0.1:" + std::to_string(impl_->port) + "/v1/stream"; }
std::size_t ScriptedWsServer::connections() const { return impl_->counters->connections; }
std::size_t ScriptedWsServer::connections_ended() const { return impl_->counters->ended; }

}  // namespace herald::test
