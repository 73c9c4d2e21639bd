#include "transport/ws_connection.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "herald_asio/parked_op_cancellation.hpp"
#include "protocol/messages.hpp"
#include "transport/attempt_step.hpp"
#include "transport/stream_layers.hpp"
#include "transport/tls_context.hpp"

namespace herald::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto kCloseTimeout = std::chrono::seconds{2};
// Beast's own close timeout (kCloseTimeout) only closes the socket. That does not end a
// close handshake that Beast has wedged on its own locks (see close()), so a close that
// has not completed by then is ended by cancelling the stream's operations.
constexpr auto kCloseGiveUp = kCloseTimeout + std::chrono::seconds{1};

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

// Every connection runs on its layers (see stream_layers.hpp): plain or TLS to the
// server, and with or without TLS to an https:// proxy around the tunnel.
class Session final : public WsConnection, public std::enable_shared_from_this<Session> {
 public:
  // `tls` is null for ws://; for wss:// the session shares it (it may outlive the client).
  Session(std::unique_ptr<StreamLayers> layers, const asio::any_io_executor& ex, std::shared_ptr<TlsClientContext> tls,
          std::optional<ProxyRoute> proxy, ConnectionEventSink events, ConnectionSettings settings)
      : tls_(std::move(tls)),
        proxy_(std::move(proxy)),
        resolver_(ex),
        deadline_(ex),
        ws_(std::move(layers)),
        events_(std::move(events)),
        settings_(settings) {}

  void open(const StreamUrl& url, const std::string& token, std::optional<std::uint64_t> last_seen_id) override {
    url_ = url;
    // The token lives only in this header (never in the URL or a log line).
    authorization_ = "Bearer " + token;
    if (last_seen_id) last_seen_ = std::to_string(*last_seen_id);
    deadline_.expires_after(settings_.connect_timeout);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->attempt_timed_out();
    });
    tunnel_host_ = url_.host;
    if (proxy_ && proxy_->endpoint.name_resolution == TargetNameResolution::local && !is_ip_literal(url_.host)) {
      // socks5:// (curl's meaning): the client resolves, the proxy gets an address.
      step_ = AttemptStep::resolving_target;
      resolver_.async_resolve(url_.host, url_.port,
                              [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) {
                                self->on_target_resolved(ec, r);
                              });
      return;
    }
    resolve_first_hop();
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
    ws_.async_close(why, asio::bind_cancellation_slot(
                             parked_.close.slot(), [self = shared_from_this()](beast::error_code) { self->abort(); }));
    // Beast 1.81 can deadlock here: if the read in progress fails the connection (a
    // message over max_frame_bytes, bad UTF-8...) while this close holds the write lock,
    // the read parks waiting for the write lock while holding the read lock, and the
    // close parks waiting for the read lock. Neither has a socket operation or a timer
    // pending, so closing the socket (Beast's timeout, abort()) does not wake them, and
    // the parked handlers keep this Session and the io_context's work alive forever.
    // Only cancelling the parked operations releases them.
    deadline_.expires_after(kCloseGiveUp);
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->give_up_closing();
    });
  }

  void ping() override {
    if (ping_in_flight_ || !open_ || closing_) return;
    ping_in_flight_ = true;
    ws_.async_ping({},
                   asio::bind_cancellation_slot(parked_.ping.slot(), [self = shared_from_this()](beast::error_code) {
                     self->ping_in_flight_ = false;
                   }));
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
    deadline_.cancel();
    layers().close();
  }

  void detach() override { detached_ = true; }

 private:
  // The close handshake outlived kCloseGiveUp: end every operation of the stream, parked
  // or not. Each completes with operation_aborted (the read reports nothing: detached).
  void give_up_closing() {
    abort();
    parked_.cancel_all();
  }

  void attempt_timed_out() {
    if (step_ == AttemptStep::open) return;
    fail(step_errc(), std::string("timed out after ") + std::to_string(settings_.connect_timeout.count()) + " ms " +
                          describe(step_) + " (ClientOptions::connect_timeout)" + via_proxy());
  }

  // A failure before the tunnel is up is the proxy's when there is one.
  errc step_errc() const {
    const bool proxy_step = step_ == AttemptStep::resolving || step_ == AttemptStep::connecting ||
                            step_ == AttemptStep::proxy_tls || step_ == AttemptStep::tunnelling;
    return proxy_ && proxy_step ? errc::proxy_failed : errc::connect_failed;
  }

  std::string via_proxy() const { return proxy_ ? " via proxy " + detail::describe(proxy_->endpoint) : ""; }

  // Each step's completion first asks this: a step that completed (successfully) just
  // as the attempt ended — its deadline, close() — must not start the next one. Above
  // all not a TCP connect, which would open a new socket that nothing closes, its read
  // holding the connection and the client's I/O thread forever.
  bool attempt_over() {
    if (!detached_) return false;
    abort();
    return true;
  }

  void on_target_resolved(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (attempt_over()) return;
    if (ec) return fail(errc::connect_failed, "resolve " + url_.host + ": " + ec.message());
    // An IPv4 address when there is one: SOCKS5 proxies commonly have no IPv6 route.
    auto chosen = results.begin();
    for (auto it = results.begin(); it != results.end(); ++it) {
      if (it->endpoint().address().is_v4()) {
        chosen = it;
        break;
      }
    }
    tunnel_host_ = chosen->endpoint().address().to_string();
    resolve_first_hop();
  }

  // The first hop is the proxy when there is one, else the server.
  void resolve_first_hop() {
    step_ = AttemptStep::resolving;
    const std::string host = proxy_ ? proxy_->endpoint.host : url_.host;
    const std::string port = proxy_ ? std::to_string(proxy_->endpoint.port) : url_.port;
    resolver_.async_resolve(
        host, port,
        [self = shared_from_this()](beast::error_code ec, tcp::resolver::results_type r) { self->on_resolve(ec, r); });
  }

  std::string first_hop() const {
    return proxy_ ? host_port(proxy_->endpoint.host, proxy_->endpoint.port) : url_.host + ":" + url_.port;
  }

  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (attempt_over()) return;
    if (ec)
      return fail(step_errc(),
                  "resolve " + (proxy_ ? proxy_->endpoint.host : url_.host) + ": " + ec.message() + via_proxy());
    step_ = AttemptStep::connecting;
    layers().async_connect(results, [self = shared_from_this()](beast::error_code e) { self->on_connect(e); });
  }

  void on_connect(beast::error_code ec) {
    if (attempt_over()) return;
    if (ec) return fail(step_errc(), "connect " + first_hop() + ": " + ec.message() + via_proxy());
    if (SSL* ssl = layers().proxy_tls()) {
      step_ = AttemptStep::proxy_tls;
      proxy_check_.host = proxy_->endpoint.host;
      const auto port = std::to_string(proxy_->endpoint.port);
      if (auto failure = proxy_->tls->prepare(ssl, proxy_check_, port)) {
        return fail(failure->code, "TLS to the proxy: " + failure->detail + via_proxy());
      }
      layers().async_proxy_tls_handshake([self = shared_from_this()](beast::error_code e) { self->on_proxy_tls(e); });
    } else if (proxy_) {
      open_tunnel();
    } else {
      start_target_tls();
    }
  }

  void on_proxy_tls(beast::error_code ec) {
    if (attempt_over()) return;
    if (ec) return fail_proxy_tls(ec);
    if (auto failure = proxy_->tls->check_established(layers().proxy_tls(), proxy_check_)) {
      return fail(failure->code, "TLS to the proxy: " + failure->detail + via_proxy());
    }
    open_tunnel();
  }

  void fail_proxy_tls(beast::error_code ec) {
    const TlsFailure failure = TlsClientContext::classify(proxy_check_, ec);
    fail(failure.code, "TLS to the proxy: " + failure.detail + via_proxy());
  }

  void open_tunnel() {
    step_ = AttemptStep::tunnelling;
    auto done = [self = shared_from_this()](std::error_code ec, std::string detail) {
      if (self->attempt_over()) return;
      if (ec) return self->fail(static_cast<errc>(ec.value()), detail + self->via_proxy());
      self->start_target_tls();
    };
    const auto port = static_cast<std::uint16_t>(std::stoul(url_.port));
    layers().async_open_tunnel(proxy_->endpoint, tunnel_host_, port, std::move(done));
  }

  void start_target_tls() {
    SSL* ssl = layers().target_tls();
    if (!ssl) return upgrade();
    step_ = AttemptStep::tls;
    tls_check_.host = url_.host;
    if (auto failure = tls_->prepare(ssl, tls_check_, url_.port)) {
      return fail(failure->code, failure->detail);
    }
    layers().async_target_tls_handshake([self = shared_from_this()](beast::error_code e) { self->on_tls(e); });
  }

  void on_tls(beast::error_code ec) {
    if (attempt_over()) return;
    if (ec) return fail_tls(ec);
    if (auto failure = tls_->check_established(layers().target_tls(), tls_check_)) {
      return fail(failure->code, failure->detail);
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
    step_ = AttemptStep::upgrading;
    websocket::stream_base::timeout t{};
    t.handshake_timeout = websocket::stream_base::none();  // the attempt's deadline runs
    t.idle_timeout = websocket::stream_base::none();       // liveness is the lifecycle's job
    t.keep_alive_pings = false;
    ws_.set_option(t);
    // Beast applies the limit to the inflated size of a compressed message as well.
    ws_.read_message_max(settings_.max_frame_bytes);
    if (settings_.permessage_deflate) {
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;  // offered; used only if the server's response accepts it
      ws_.set_option(pmd);
    }
    ws_.set_option(websocket::stream_base::decorator([this](websocket::request_type& req) {
      req.set(http::field::user_agent, "herald-sdk/0.1");
      req.set(http::field::authorization, authorization_);
      req.set(http::field::sec_websocket_protocol, protocol::kSubprotocol);
      if (!last_seen_.empty()) req.set(protocol::kLastSeenHeader, last_seen_);
    }));
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::close && !detached_) report(event::Activity{});
    });
    const bool default_port = url_.port == (url_.tls ? "443" : "80");
    const std::string host = default_port ? url_.host : url_.host + ":" + url_.port;
    ws_.async_handshake(response_, host, url_.target,
                        [self = shared_from_this()](beast::error_code ec) { self->on_upgrade(ec); });
  }

  void on_upgrade(beast::error_code ec) {
    authorization_.assign(authorization_.size(), '\0');  // do not keep the secret around
    authorization_.clear();
    if (attempt_over()) return;
    if (ec == websocket::error::upgrade_declined) {
      HandshakeRefusal r;
      r.status = response_.result_int();
      r.error = protocol::refusal_code(response_.body());
      r.retry_after = parse_retry_after(response_[http::field::retry_after]);
      abort();
      if (!detached_) report(event::Refused{std::move(r)});
      return;
    }
    if (ec) {
      if (ec.category() == asio::error::get_ssl_category()) {
        if (layers().target_tls()) return fail_tls(ec);
        if (layers().proxy_tls()) return fail_proxy_tls(ec);
      }
      return fail(errc::connect_failed, "WebSocket upgrade: " + ec.message());
    }
    if (response_[http::field::sec_websocket_protocol] != protocol::kSubprotocol) {
      abort();
      return fail(errc::protocol_violation, "the server did not select subprotocol herald.v1");
    }
    open_ = true;
    step_ = AttemptStep::open;
    deadline_.cancel();
    if (!detached_) report(event::Opened{});
    read();
  }

  void read() {
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); };
    ws_.async_read(buffer_, asio::bind_cancellation_slot(parked_.read.slot(), std::move(done)));
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (detached_) return;
      detached_ = true;
      if (ec == websocket::error::closed) {
        const auto& why = ws_.reason();
        report(event::Closed{why.code, std::string(why.reason.data(), why.reason.size())});
      } else if (ec == websocket::error::message_too_big) {
        report(event::Closed{std::uint16_t{1009}, "message too big"});
      } else {
        report(event::Closed{std::nullopt, ec.message()});
      }
      abort();
      return;
    }
    if (!detached_) {
      const auto data = buffer_.cdata();
      report(event::Frame{std::string_view(static_cast<const char*>(data.data()), data.size()), !ws_.got_text()});
    }
    buffer_.clear();
    if (!detached_) read();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      auto& sent = self->outbox_.front();
      if (sent.secret) sent.text.assign(sent.text.size(), '\0');
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
    };
    ws_.async_write(asio::buffer(outbox_.front().text),
                    asio::bind_cancellation_slot(parked_.write.slot(), std::move(done)));
  }

  StreamLayers& layers() { return ws_.next_layer().bytes(); }

  void fail(errc why, std::string detail) {
    if (detached_) return;
    detached_ = true;
    abort();
    report(event::ConnectFailed{why, std::move(detail)});
  }

  void report(ConnectionEvent&& e) {
    if (events_) events_(std::move(e));
  }

  // Declared before ws_: the SSL objects inside ws_ point at these until they are freed.
  std::shared_ptr<TlsClientContext> tls_;
  TlsPeerCheck tls_check_;
  std::optional<ProxyRoute> proxy_;
  TlsPeerCheck proxy_check_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_;                // the whole attempt, until the upgrade is done; then the close
  asio_support::ParkedOpCancellation parked_;  // before ws_: outlives the handlers it holds
  websocket::stream<LayeredStream> ws_;
  AttemptStep step_ = AttemptStep::resolving;
  std::string tunnel_host_;  // what the proxy is asked to connect to
  ConnectionEventSink events_;
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
                                                   std::shared_ptr<TlsClientContext> tls,
                                                   std::optional<ProxyRoute> proxy, ConnectionEventSink events,
                                                   ConnectionSettings settings) {
  const bool proxy_tls = proxy && proxy->endpoint.kind == ProxyKind::https;
  if (proxy_tls && !proxy->tls) throw std::logic_error("an https:// proxy needs its TLS context");
  auto layers =
      StreamLayers::make(executor, proxy_tls ? &proxy->tls->context() : nullptr, tls ? &tls->context() : nullptr);
  return create_on(std::move(layers), executor, std::move(tls), std::move(proxy), std::move(events), settings);
}

std::shared_ptr<WsConnection> WsConnection::create_on(std::unique_ptr<StreamLayers> layers,
                                                      const asio::any_io_executor& executor,
                                                      std::shared_ptr<TlsClientContext> tls,
                                                      std::optional<ProxyRoute> proxy, ConnectionEventSink events,
                                                      ConnectionSettings settings) {
  return std::make_shared<Session>(std::move(layers), executor, std::move(tls), std::move(proxy), std::move(events),
                                   settings);
}

}  // namespace herald::detail
