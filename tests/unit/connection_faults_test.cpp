// One connection (WsConnection) on in-memory layers: Beast's test::stream with a
// fail_count, so that every step fails in turn — the TCP connect, the proxy tunnel,
// each read and write of the WebSocket upgrade, of the stream and of the close
// handshake. Each run must end in a defined way (one failure event, or none after
// close()), with nothing left pending on the io_context (it runs dry: no hang) and the
// connection freed (nothing leaks), and no event after close().
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "herald/error.hpp"
#include "herald_asio/erased_stream.hpp"
#include "transport/stream_layers.hpp"
#include "transport/ws_connection.hpp"

namespace herald::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

// StreamLayers over a test::stream: no TLS, an http:// proxy whose tunnel opens at
// once. The connect and the tunnel count against the fail_count like each stream op;
// `injected` is set when the fail_count's failure reached the connection.
class MemoryLayers final : public StreamLayers {
  void note(const beast::error_code& ec) {
    if (ec == beast::test::error::test_failure) injected_ = true;
  }
  template <class Handler>
  auto noting_injection(Handler done) {
    return asio_support::on_executor(get_executor(),
                                     [this, d = std::move(done)](beast::error_code ec, auto... n) mutable {
                                       note(ec);
                                       std::move(d)(ec, n...);
                                     });
  }

 public:
  MemoryLayers(asio::io_context& io, beast::test::fail_count& fail, beast::test::stream& peer, bool& injected)
      : fail_(fail), stream_(io, fail), injected_(injected) {
    stream_.connect(peer);
  }

  /// Called as each operation starts; on_step also as a step of the attempt starts
  /// (connect, tunnel), which only the connection itself does (not Beast's operations).
  std::function<void()> on_operation = [] {};
  std::function<void()> on_step = [] {};

  asio::any_io_executor get_executor() override { return stream_.get_executor(); }
  void close() override { stream_.close(); }

  void async_connect(const asio::ip::tcp::resolver::results_type&, StepHandler done) override {
    on_step();
    on_operation();
    beast::error_code ec;
    injected_ = fail_.fail(ec) || injected_;
    asio::post(get_executor(), [d = std::move(done), ec]() mutable { std::move(d)(ec); });
  }

  SSL* proxy_tls() override { return nullptr; }
  void async_proxy_tls_handshake(StepHandler) override { ADD_FAILURE() << "no TLS to this proxy"; }

  void async_open_tunnel(const ProxyEndpoint&, const std::string&, std::uint16_t, TunnelHandler done) override {
    on_step();
    on_operation();
    beast::error_code ec;
    injected_ = fail_.fail(ec) || injected_;
    const std::error_code result = ec ? make_error_code(errc::proxy_failed) : std::error_code{};
    asio::post(get_executor(), [d = std::move(done), result]() mutable { std::move(d)(result, "scripted tunnel"); });
  }

  SSL* target_tls() override { return nullptr; }
  void async_target_tls_handshake(StepHandler) override { ADD_FAILURE() << "no TLS to this server"; }

  void async_read_some(asio_support::BufferArray<asio::mutable_buffer> buffers, TransferHandler done) override {
    on_operation();
    stream_.async_read_some(buffers, noting_injection(std::move(done)));
  }
  void async_write_some(asio_support::BufferArray<asio::const_buffer> buffers, TransferHandler done) override {
    on_operation();
    stream_.async_write_some(buffers, noting_injection(std::move(done)));
  }
  void async_teardown(beast::role_type role, StepHandler done) override {
    on_operation();
    using beast::websocket::async_teardown;
    async_teardown(role, stream_, noting_injection(std::move(done)));
  }
  void teardown(beast::role_type role, beast::error_code& ec) override {
    using beast::websocket::teardown;
    teardown(role, stream_, ec);
    note(ec);
  }

 private:
  beast::test::fail_count& fail_;
  beast::test::stream stream_;
  bool& injected_;
};

// The server's end: accepts the upgrade with herald.v1, sends two frames, then reads
// (the client's frame and its close) until the connection ends.
class ScriptedServer : public std::enable_shared_from_this<ScriptedServer> {
 public:
  explicit ScriptedServer(beast::test::stream& end) : ws_(end) {}

  void start() {
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::sec_websocket_protocol, "herald.v1"); }));
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->send(0);
    });
  }

 private:
  void send(std::size_t i) {
    if (i == frames_.size()) return read();
    ws_.async_write(asio::buffer(frames_[i]), [self = shared_from_this(), i](beast::error_code ec, std::size_t) {
      if (!ec) self->send(i + 1);
    });
  }
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->buffer_.clear();
      if (!ec) self->read();
    });
  }

  websocket::stream<beast::test::stream&> ws_;
  std::vector<std::string> frames_{R"({"type":"welcome"})", R"({"type":"notification","id":1})"};
  beast::flat_buffer buffer_;
};

struct Outcome {
  bool opened = false;
  std::size_t frames = 0;
  std::optional<errc> connect_failed;
  bool closed = false;     // the connection reported its end (event::Closed)
  bool we_closed = false;  // the client side called close() (after the second frame)
  std::size_t events_after_close = 0;
  bool ran_dry = false;                // io_context::run() returned on its own
  bool freed = false;                  // the connection object is gone afterwards
  bool injected = false;               // the fail_count's failure happened (else: a clean run)
  bool stopped_early = false;          // close() was called as operation #close_at started
  std::size_t started_after_stop = 0;  // attempt steps started after a close() before open
};

constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();

// One connection on fresh layers failing at the n-th counted operation; the client
// sends one frame after the first server frame and closes after the second — or as
// operation #close_at starts (posted, as the client's own close runs).
Outcome run_once(std::size_t n, std::size_t close_at = kNever) {
  Outcome out;
  asio::io_context io;
  beast::test::fail_count fail(n);
  beast::test::stream server_end(io);
  auto layers = std::make_unique<MemoryLayers>(io, fail, server_end, out.injected);
  MemoryLayers* layers_of_owner = layers.get();
  std::make_shared<ScriptedServer>(server_end)->start();

  WsConnection* conn = nullptr;  // alive while it calls back: its handlers hold it
  struct Observer {
    Outcome& out;
    WsConnection*& conn;
    void operator()(event::Opened&) const { out.opened = true; }
    void operator()(event::Refused&) const {}
    void operator()(event::ConnectFailed& e) const { out.connect_failed = e.why; }
    void operator()(event::Frame&) const {
      ++out.frames;
      if (out.frames == 1) conn->send(R"({"type":"ack","id":1})", false);
      if (out.frames == 2 && !out.we_closed) {
        out.we_closed = true;
        conn->close(1000, "done");
      }
    }
    void operator()(event::Activity&) const {}
    void operator()(event::Closed&) const { out.closed = true; }
  };
  auto events = [&out, observe = Observer{out, conn}](ConnectionEvent&& e) {
    if (out.we_closed) ++out.events_after_close;
    std::visit(observe, e);
  };
  ConnectionSettings settings;
  settings.connect_timeout = 10s;
  ProxyRoute proxy;
  proxy.endpoint.host = "127.0.0.1";
  proxy.endpoint.port = 3128;
  auto owner =
      WsConnection::create_on(std::move(layers), io.get_executor(), nullptr, proxy, std::move(events), settings);
  conn = owner.get();
  std::weak_ptr<WsConnection> watch = owner;
  std::size_t operations = 0;
  layers_of_owner->on_step = [&] {
    if (out.stopped_early && !out.opened) ++out.started_after_stop;
  };
  layers_of_owner->on_operation = [&, watch] {
    if (operations++ != close_at) return;
    asio::post(io, [&, watch] {
      if (auto c = watch.lock()) {
        out.we_closed = true;
        out.stopped_early = true;
        c->close(1001, "stop");
      }
    });
  };
  owner->open(StreamUrl{false, "stream.test", "80", "/v1/stream"}, "t0ken", 41);
  owner.reset();  // only the pending operations hold it now
  // A stuck operation would keep run() going until this bound; a normal run takes
  // milliseconds (the close handshake's own bound is 2 s, its give-up 3 s).
  io.run_for(10s);
  out.ran_dry = io.stopped();
  out.freed = watch.expired();
  return out;
}

TEST(ConnectionFaults, EveryOperationFailingInTurnEndsCleanly) {
  std::size_t n = 0;
  bool completed_without_failure = false;
  for (; n < 200 && !completed_without_failure; ++n) {
    SCOPED_TRACE("failing operation #" + std::to_string(n));
    const Outcome o = run_once(n);
    EXPECT_TRUE(o.ran_dry) << "an operation never completed";
    EXPECT_TRUE(o.freed) << "the connection was not freed";
    EXPECT_EQ(o.events_after_close, 0u) << "an event after close()";
    if (!o.opened) {
      // Before the upgrade: exactly one connect failure, the proxy's for its steps.
      ASSERT_TRUE(o.connect_failed.has_value()) << "ended before the upgrade without a failure event";
      EXPECT_FALSE(o.closed);
      EXPECT_TRUE(*o.connect_failed == errc::proxy_failed || *o.connect_failed == errc::connect_failed)
          << to_string(*o.connect_failed);
      if (n <= 1) {
        EXPECT_EQ(*o.connect_failed, errc::proxy_failed) << "connect and tunnel are proxy steps";
      }
    } else {
      EXPECT_FALSE(o.connect_failed.has_value());
      // Open: either our close() ended it (no event), or the failure was reported once.
      EXPECT_TRUE(o.we_closed || o.closed) << "an open connection ended without a word";
    }
    if (!o.injected) {
      // Nothing failed: the whole script ran, and our close() ended it quietly.
      EXPECT_TRUE(o.opened && o.frames == 2 && o.we_closed && !o.closed) << "a clean run did not run the script";
      completed_without_failure = true;
    }
  }
  EXPECT_TRUE(completed_without_failure) << "the script never ran to its end";
  EXPECT_GT(n, 8u) << "too few operations were failed to cover connect, tunnel, upgrade, read, write, close";
}

// stop() at every step: close() as each operation starts, from the TCP connect to the
// close handshake's teardown. No event after it, nothing left pending, nothing leaked.
TEST(ConnectionFaults, CloseAsEachOperationStartsEndsCleanly) {
  std::size_t k = 0;
  for (; k < 200; ++k) {
    SCOPED_TRACE("close() as operation #" + std::to_string(k) + " starts");
    const Outcome o = run_once(kNever, k);
    EXPECT_TRUE(o.ran_dry) << "an operation never completed";
    EXPECT_TRUE(o.freed) << "the connection was not freed";
    EXPECT_EQ(o.events_after_close, 0u) << "an event after close()";
    EXPECT_FALSE(o.injected);
    // An attempt ended by close() starts nothing more: a step that had completed just
    // before must not go on (a TCP connect would open a socket nothing closes).
    EXPECT_EQ(o.started_after_stop, 0u) << "a step started after close() ended the attempt";
    if (!o.stopped_early) break;  // past the last operation: the script ran to its end
  }
  EXPECT_GT(k, 8u) << "too few operations to cover connect, tunnel, upgrade, read, write, close";
}

}  // namespace
}  // namespace herald::detail
