#include "transport/ws_connection.hpp"

#include <algorithm>
#include <deque>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "protocol/messages.hpp"
#include "transport/tls_context.hpp"

namespace herald::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto kCloseTimeout = std::chrono::seconds{2};

// Delay-seconds of any length; a huge value saturates (the lifecycle clamps it to
// ClientOptions::retry_after_max), so it neither overflows nor is ignored.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view v) {
  constexpr std::int64_t kSaturated = 999'999'999;
  if (v.empty()) return std::nullopt;
  std::int64_t s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;  // HTTP-dates are not used by our servers
    s = std::min(kSaturated, s * 10 + (c - '0'));
  }
  return std::chrono::seconds{s};
}

// Plain and TLS connections differ only in the layers below the WebSocket and in the
// TLS handshake step; everything else is shared through this template.
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class NextLayer>
class Session final : public WsConnection, public std::enable_shared_from_this<Session<NextLayer>> {
 public:
  static constexpr bool kTls = std::is_same_v<NextLayer, TlsStream>;

  // `tls` is null for ws://; for wss:// the session shares it (it may outlive the client).
  template <class... Args>
  Session(const asio::any_io_executor& ex, std::shared_ptr<TlsClientContext> tls, ConnectionEvents events,
          ConnectionSettings settings, Args&&... args)
      : tls_(std::move(tls)),
        resolver_(ex),
        ws_(std::forward<Args>(args)...),
        events_(std::move(events)),
        settings_(settings) {}

  void open(const StreamUrl& url, const std::string& token, std::optional<std::uint64_t> last_seen_id) override {
    url_ = url;
    // The token lives only in this header (never in the URL or a log line).
    authorization_ = "Bearer " + token;
    if (last_seen_id) last_seen_ = std::to_string(*last_seen_id);
    beast::get_lowest_layer(ws_).expires_after(settings_.connect_timeout);
    resolver_.async_resolve(url_.host, url_.port,
                            [self = this->shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                              self->on_resolve(ec, std::move(r));
                            });
  }

  void close(std::uint16_t code, std::string reason) override {
    detach();
    if (closing_) return;
    closing_ = true;
    if (!ws_.is_open()) {
      abort();
      return;
    }
    websocket::stream_base::timeout t{};
    t.handshake_timeout = kCloseTimeout;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    websocket::close_reason why;
    why.code = code;
    why.reason = reason.substr(0, why.reason.max_size());
    ws_.async_close(why, [self = this->shared_from_this()](beast::error_code) {
      self->abort();
    });
  }

  void ping() override {
    if (ping_in_flight_ || !open_ || closing_) return;
    ping_in_flight_ = true;
    ws_.async_ping({}, [self = this->shared_from_this()](beast::error_code) { self->ping_in_flight_ = false; });
  }

  void send(std::string text, bool secret) override {
    if (!open_ || closing_) {
      if (secret) text.assign(text.size(), '\0');
      return;
    }
    outbox_.push_back(Outgoing{std::move(text), secret});
    if (!writing_) write_next();
  }

  void abort() override {
    resolver_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  void detach() override { detached_ = true; }

 private:
  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return fail(errc::connect_failed, "resolve " + url_.host + ": " + ec.message());
    beast::get_lowest_layer(ws_).async_connect(
        results, [self = this->shared_from_this()](beast::error_code e, const tcp::endpoint&) { self->on_connect(e); });
  }

  void on_connect(beast::error_code ec) {
    if (ec) return fail(errc::connect_failed, "connect " + url_.host + ":" + url_.port + ": " + ec.message());
    if constexpr (kTls) {
      SSL* ssl = ws_.next_layer().native_handle();
      tls_check_.host = url_.host;
      if (auto failure = tls_->prepare(ssl, tls_check_, url_.port)) return fail(failure->code, failure->detail);
      beast::get_lowest_layer(ws_).expires_after(settings_.connect_timeout);
      ws_.next_layer().async_handshake(asio::ssl::stream_base::client,
                                       [self = this->shared_from_this()](beast::error_code e) { self->on_tls(e); });
    } else {
      upgrade();
    }
  }

  void on_tls(beast::error_code ec) {
    if constexpr (kTls) {
      if (ec) return fail_tls(ec);
      if (auto failure = tls_->check_established(ws_.next_layer().native_handle(), tls_check_)) {
        return fail(failure->code, failure->detail);
      }
    }
    upgrade();
  }

  // TLS 1.3 reports a refused client certificate after the handshake, here or in the
  // upgrade: the errc names the TLS failure, not a generic connection failure.
  void fail_tls(beast::error_code ec) {
    const TlsFailure failure = TlsClientContext::classify(tls_check_, ec);
    fail(failure.code, failure.detail);
  }

  void upgrade() {
    // The WebSocket stream takes over the timeouts from here.
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = settings_.connect_timeout;
    t.idle_timeout = websocket::stream_base::none();  // liveness is the lifecycle's job
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.read_message_max(settings_.max_frame_bytes);
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(http::field::user_agent, "herald-sdk/0.1");
      req.set(http::field::authorization, authorization_);
      req.set(http::field::sec_websocket_protocol, protocol::kSubprotocol);
      if (!last_seen_.empty()) req.set(protocol::kLastSeenHeader, last_seen_);
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::close && !detached_ && events_.on_activity) events_.on_activity();
    });
    const bool default_port = url_.port == (url_.tls ? "443" : "80");
    const std::string host = default_port ? url_.host : url_.host + ":" + url_.port;
    ws_.async_handshake(response_, host, url_.target,
                        [self = this->shared_from_this()](beast::error_code ec) { self->on_upgrade(ec); });
  }

  void on_upgrade(beast::error_code ec) {
    authorization_.assign(authorization_.size(), '\0');  // do not keep the secret around
    authorization_.clear();
    if (ec == websocket::error::upgrade_declined) {
      HandshakeRefusal r;
      r.status = response_.result_int();
      r.error = protocol::refusal_code(response_.body());
      r.retry_after = parse_retry_after(response_[http::field::retry_after]);
      abort();
      if (!detached_ && events_.on_refused) events_.on_refused(r);
      return;
    }
    if (ec) {
      if (kTls && ec.category() == asio::error::get_ssl_category()) return fail_tls(ec);
      return fail(errc::connect_failed, "WebSocket upgrade: " + ec.message());
    }
    if (response_[http::field::sec_websocket_protocol] != protocol::kSubprotocol) {
      abort();
      return fail(errc::protocol_violation, "the server did not select subprotocol herald.v1");
    }
    open_ = true;
    if (!detached_ && events_.on_open) events_.on_open();
    read();
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (detached_) return;
      detached_ = true;
      if (ec == websocket::error::closed) {
        if (events_.on_closed) events_.on_closed(ws_.reason().code, std::string(ws_.reason().reason.data(), ws_.reason().reason.size()));
      } else if (ec == websocket::error::message_too_big) {
        if (events_.on_closed) events_.on_closed(std::uint16_t{1009}, "message too big");
      } else if (events_.on_closed) {
        events_.on_closed(std::nullopt, ec.message());
      }
      abort();
      return;
    }
    if (!detached_ && events_.on_frame) {
      const auto data = buffer_.cdata();
      events_.on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()), !ws_.got_text());
    }
    buffer_.clear();
    if (!detached_) read();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(outbox_.front().text), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      auto& done = self->outbox_.front();
      if (done.secret) done.text.assign(done.text.size(), '\0');
      self->outbox_.pop_front();
      self->writing_ = false;
      if (ec || self->closing_) {  // the read loop reports a broken connection
        for (auto& o : self->outbox_) {
          if (o.secret) o.text.assign(o.text.size(), '\0');
        }
        self->outbox_.clear();
        return;
      }
      if (!self->outbox_.empty() && !self->closing_) self->write_next();
    });
  }

  void fail(errc why, std::string detail) {
    if (detached_) return;
    detached_ = true;
    abort();
    if (events_.on_connect_failed) events_.on_connect_failed(why, std::move(detail));
  }

  // Declared before ws_: the SSL object inside ws_ points at both until it is freed.
  std::shared_ptr<TlsClientContext> tls_;
  TlsPeerCheck tls_check_;
  tcp::resolver resolver_;
  websocket::stream<NextLayer> ws_;
  ConnectionEvents events_;
  ConnectionSettings settings_;
  StreamUrl url_;
  std::string authorization_;
  std::string last_seen_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  bool detached_ = false;
  bool open_ = false;
  bool closing_ = false;
  bool ping_in_flight_ = false;
  struct Outgoing {
    std::string text;
    bool secret = false;
  };
  std::deque<Outgoing> outbox_;  // one async_write at a time
  bool writing_ = false;
};

}  // namespace

std::shared_ptr<WsConnection> WsConnection::create(const asio::any_io_executor& executor,
                                                   std::shared_ptr<TlsClientContext> tls, ConnectionEvents events,
                                                   ConnectionSettings settings) {
  if (tls) {
    auto& context = tls->context();
    return std::make_shared<Session<TlsStream>>(executor, std::move(tls), std::move(events), settings, executor,
                                                context);
  }
  return std::make_shared<Session<beast::tcp_stream>>(executor, nullptr, std::move(events), settings, executor);
}

}  // namespace herald::detail
