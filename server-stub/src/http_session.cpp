// One accepted TCP connection speaking HTTP/1.1: admin API and health requests
// (keep-alive), and the /v1/stream handshake checks before the WebSocket upgrade.
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "admin_api.hpp"
#include "admin_key.hpp"
#include "json_util.hpp"
#include "server_stream.hpp"
#include "sessions.hpp"
#include "stream_request.hpp"

namespace herald::server::detail {
namespace {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;
// Headers may carry a token of up to 8 KiB (TokenService::kMaxTokenBytes).
constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(5);

// All values of a (possibly repeated) header, joined with ", ".
std::string joined(const Request& req, std::string_view name) {
  std::string out;
  for (auto range = req.equal_range(name); range.first != range.second; ++range.first) {
    if (!out.empty()) out += ", ";
    out += std::string_view(range.first->value());
  }
  return out;
}

using Stream = ErasedServerStream;

// Runs on beast::tcp_stream (http://, ws://) or TlsStream after its handshake, behind
// Stream (server_stream.hpp).
class HttpSession final : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(ServerCore& core, std::unique_ptr<ServerStream> bytes) : core_(core), stream_(std::move(bytes)) {}

  void run() {
    conn_id_ = core_.connections().add(weak_from_this());
    if (core_.connections().shutting_down()) return finish(true);
    do_read();
  }

  void shutdown() override {
    // Idle keep-alive connections just go; a request in progress is cut.
    finish(false);
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(kMaxHeaderBytes);
    tcp_layer().expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (done_) return;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      return finish(true);
    }
    if (ec == http::error::body_limit) {
      return send(reply(413, error_body("payload_too_large", "request body larger than 64 KiB")), false);
    }
    if (ec == http::error::header_limit) {
      return send(reply(431, error_body("bad_request", "request headers too large")), false);
    }
    if (ec) return send(reply(400, error_body("bad_request", "malformed HTTP request")), false);

    Request req = parser_->release();
    if (target_path(req.target()) == kStreamPath) return handle_stream(std::move(req));

    HttpRequestView view{req.method_string(), req.target(), req[http::field::authorization], req.body()};
    HttpReply r = handle_http(core_, view);
    spdlog::debug("http {} {} -> {}", std::string_view(req.method_string()), target_path(req.target()), r.status);
    send(std::move(r), req.keep_alive());
  }

  void handle_stream(Request req) {
    const auto refuse = [this](unsigned status, std::string_view code, std::string_view why,
                               unsigned retry_after_s = 0) {
      spdlog::info("stream handshake refused: {} {} ({})", status, code, why);
      HttpReply r = reply(status, error_body(code));
      r.retry_after_s = retry_after_s;
      send(std::move(r), false);
    };
    // Order matters: a credential in the URL is refused before anything else.
    if (query_carries_credentials(req.target())) return refuse(400, "bad_request", "credential in query string");
    if (req.method() != http::verb::get || !beast::websocket::is_upgrade(req)) {
      return refuse(400, "bad_request", "not a WebSocket upgrade");
    }
    if (!offers_subprotocol(joined(req, "Sec-WebSocket-Protocol"), kSubprotocol)) {
      return refuse(400, "bad_request", "subprotocol herald.v1 not offered");
    }
    StreamAdmission admission;
    if (req.count(kLastSeenHeader) > 1) return refuse(400, "bad_request", "repeated Herald-Last-Seen-Id");
    if (req.count(kLastSeenHeader) == 1) {
      admission.last_seen_id = parse_last_seen_id(req[kLastSeenHeader]);
      if (!admission.last_seen_id) return refuse(400, "bad_request", "malformed Herald-Last-Seen-Id");
    }
    const auto auth_count = req.count(http::field::authorization);
    if (auth_count > 1) return refuse(400, "bad_request", "repeated Authorization header");
    if (auth_count == 1) {
      const std::string_view token = bearer_credentials(req[http::field::authorization]);
      if (token.empty()) return refuse(401, "invalid_token", "Authorization is not a Bearer token");
      TokenResult result = core_.tokens().verify(token);
      if (const auto* err = std::get_if<TokenError>(&result)) {
        return refuse(401, to_code(*err), "token verification failed");
      }
      admission.claims = std::get<TokenClaims>(std::move(result));
      bool revoked = false;
      try {
        revoked = core_.is_revoked(*admission.claims);
      } catch (const std::exception& e) {
        spdlog::error("revocation lookup failed: {}", e.what());
        return refuse(500, "internal_error", "store failure");
      }
      if (revoked) return refuse(403, "token_revoked", "token revoked");
    }
    if (core_.connections().shutting_down()) {
      return refuse(503, "draining", "server shutting down");
    }
    if (const auto remaining = core_.drain_remaining()) {
      return refuse(503, "draining", "server draining", drain_retry_after_s(*remaining));
    }
    done_ = true;
    core_.connections().remove(conn_id_);
    tcp_layer().expires_never();
    start_ws_session(core_, std::move(stream_).release(), std::move(req), std::move(admission));
  }

  static HttpReply reply(unsigned status, std::string body) {
    HttpReply r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

  void send(HttpReply r, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->result(r.status);
    res->version(11);
    res->set(http::field::server, "herald-server");
    res->set(http::field::content_type, "application/json");
    if (r.no_store) res->set(http::field::cache_control, "no-store");
    if (!r.allow.empty()) res->set(http::field::allow, r.allow);
    if (r.retry_after_s != 0) {
      res->set(http::field::retry_after, std::to_string(r.retry_after_s));
    } else if (r.status == 503) {
      res->set(http::field::retry_after, "1");
    }
    res->keep_alive(keep_alive);
    res->body() = std::move(r.body);
    res->prepare_payload();
    tcp_layer().expires_after(kReadTimeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (self->done_) return;
      if (ec || !keep_alive) return self->finish(!ec);
      self->do_read();
    });
  }

  // graceful: send FIN, then drain what the peer still sends (for a little while) so
  // that unread input does not turn our close into a reset that eats the response.
  void finish(bool graceful) {
    if (done_) return;
    done_ = true;
    core_.connections().remove(conn_id_);
    if (!graceful) return tcp_layer().close();
    beast::error_code ignored;
    tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer().expires_after(kLingerTimeout);
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->tcp_layer().close();
      self->drain();
    });
  }

  beast::tcp_stream& tcp_layer() { return stream_.bytes().tcp(); }

  ServerCore& core_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::uint64_t conn_id_ = 0;
  bool done_ = false;
  std::array<char, 4096> discard_{};
};

}  // namespace

void start_http_session(ServerCore& core, tcp::socket socket) {
  if (core.tls_context() == nullptr) {
    std::make_shared<HttpSession>(core, std::make_unique<ServerStreamOver<beast::tcp_stream>>(std::move(socket)))
        ->run();
    return;
  }
  // TLS first; a peer that does not complete it within kTlsHandshakeTimeout is cut.
  auto tls = std::make_shared<TlsStream>(std::move(socket), *core.tls_context());
  beast::get_lowest_layer(*tls).expires_after(kTlsHandshakeTimeout);
  tls->async_handshake(asio::ssl::stream_base::server, [&core, tls](beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS handshake failed: {}", ec.message());
      beast::get_lowest_layer(*tls).close();
      return;
    }
    beast::get_lowest_layer(*tls).expires_never();
    std::make_shared<HttpSession>(core, std::make_unique<ServerStreamOver<TlsStream>>(std::move(*tls)))->run();
  });
}

}  // namespace herald::server::detail
