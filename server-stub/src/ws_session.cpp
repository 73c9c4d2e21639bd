// One WebSocket stream: upgrade, optional auth frame, welcome, replay from the store
// (paged), caught_up, live fan-out, heartbeat pings, in-band reauth, token expiry and
// closing.
//
// Exactly-once ordering: the stream subscribes to live fan-out before it reads the
// store. While it replays, live notifications are ignored (each is already in the store
// and a later page reads it); after caught_up, live ones are sent when their id is above
// the last id queued. Everything runs on the single I/O thread.
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "frames.hpp"
#include "herald_asio/parked_op_cancellation.hpp"
#include "json_util.hpp"
#include "reauth.hpp"
#include "server_stream.hpp"
#include "sessions.hpp"
#include "stream_request.hpp"

namespace herald::server::detail {
namespace {

namespace websocket = boost::beast::websocket;

constexpr std::size_t kMaxClientFrameBytes = 64 * 1024;
constexpr std::size_t kReplayPage = 256;     // notifications read from the store at once
constexpr std::size_t kReplayLowWater = 64;  // read the next page below this many queued
constexpr auto kCloseGrace = std::chrono::seconds(1);
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// Token expiries are clamped to this: a far-future `exp` must not overflow the timer.
constexpr std::int64_t kMaxExpiryDelayMs = std::int64_t{10} * 366 * 24 * 3600 * 1000;

// Application close codes of protocol v1.
constexpr std::uint16_t kCloseTokenExpired = 4001;
constexpr std::uint16_t kCloseForbidden = 4003;
constexpr std::uint16_t kCloseProtocolError = 4004;
constexpr std::uint16_t kCloseSlowConsumer = 4008;
constexpr std::uint16_t kCloseNoAuth = 4401;

std::string new_session_id() {
  std::array<unsigned char, 12> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // Not a secret; uniqueness is what matters. Fall back to the clock.
    const auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(t >> (8 * i));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "s-";
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

using Stream = ErasedServerStream;

// Runs on beast::tcp_stream (ws://) or TlsStream (wss://), behind Stream: one WebSocket
// instantiation for both (server_stream.hpp).
class WsSession final : public Connection, public LiveStream, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(ServerCore& core, std::unique_ptr<ServerStream> stream, Request req, StreamAdmission admission)
      : core_(core),
        ws_(Stream(std::move(stream))),
        req_(std::move(req)),
        admission_(std::move(admission)),
        ping_timer_(core.io()),
        auth_timer_(core.io()),
        expiry_timer_(core.io()),
        cut_timer_(core.io()),
        session_id_(new_session_id()) {}

  void start() {
    conn_id_ = core_.connections().add(weak_from_this(), ConnectionKind::stream);
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = kHandshakeTimeout;
    // Not Beast's idle_timeout: without its own keep-alive pings it counts only data
    // messages, so it cut every idle stream whose client answered each ping. Liveness
    // is the heartbeat's (arm_ping): any frame from the client, pongs included, counts.
    timeout.idle_timeout = websocket::stream_base::none();
    timeout.keep_alive_pings = false;  // we ping on our own schedule (heartbeat)
    ws_.set_option(timeout);
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { heard_from_client(); });
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::sec_websocket_protocol, kSubprotocol);
      res.set(http::field::server, "herald-server");
    }));
    ws_.read_message_max(kMaxClientFrameBytes);  // larger: Beast closes with 1009 (inflated size)
    if (core_.options().permessage_deflate) {
      websocket::permessage_deflate pmd;
      pmd.server_enable = true;  // only when the client offers it; Beast's default windows
      ws_.set_option(pmd);
    }
    ws_.auto_fragment(false);
    ws_.text(true);
    ws_.async_accept(req_, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
  }

  void shutdown() override { close(websocket::close_code::going_away, "server shutting down"); }

  // Streams announce the drain; connections not streaming yet get it after welcome.
  void on_drain_started(std::chrono::milliseconds reconnect_within) override {
    if (phase_ == Phase::streaming) send_drain(reconnect_within);
  }

  void on_drain_ended() override { close(websocket::close_code::going_away, "server draining"); }

  void on_revoked(std::int64_t revoked_at_ms) override {
    if (phase_ != Phase::streaming) return;
    // A token issued after the revoke (e.g. a reconnect racing this notice) stays valid.
    if (issued_at_ms_ && *issued_at_ms_ > revoked_at_ms) return;
    refuse_revoked();
  }

  void on_live(const StoredNotification& n) override {
    if (phase_ != Phase::streaming || replaying_ || n.id <= last_queued_id_) return;
    last_queued_id_ = n.id;
    enqueue(encode_notification(n));
  }

 private:
  enum class Phase { accepting, awaiting_auth, streaming, closing, closed };

  void on_accept(beast::error_code ec) {
    if (ec) {
      spdlog::debug("websocket accept failed: {}", ec.message());
      return finish();
    }
    if (phase_ != Phase::accepting) return;  // shut down meanwhile
    accepted_ = true;
    if (admission_.claims) {
      begin_stream(*admission_.claims);
    } else {
      phase_ = Phase::awaiting_auth;
      auth_timer_.expires_after(core_.options().auth_frame_timeout);
      auth_timer_.async_wait([self = shared_from_this()](beast::error_code timer_ec) {
        if (!timer_ec && self->phase_ == Phase::awaiting_auth) {
          self->close(kCloseNoAuth, "no auth frame in time");
        }
      });
    }
    do_read();
  }

  void do_read() {
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); };
    ws_.async_read(read_buffer_, asio::bind_cancellation_slot(parked_.read.slot(), std::move(done)));
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == websocket::error::message_too_big) spdlog::info("session {}: client frame too big (1009)", session_id_);
      return finish();
    }
    heard_from_client();
    const bool text = ws_.got_text();
    std::string frame = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (phase_ == Phase::closing || phase_ == Phase::closed) return do_read();  // drain until close completes
    if (!text) {
      close(kCloseProtocolError, "binary frames are not allowed");
      return do_read();
    }
    nlohmann::json msg;
    try {
      msg = parse_bounded_json(frame);
    } catch (const JsonError&) {
      close(kCloseProtocolError, "frame is not JSON");
      return do_read();
    }
    const auto type = msg.is_object() ? msg.find("type") : msg.end();
    if (!msg.is_object() || type == msg.end() || !type->is_string()) {
      close(kCloseProtocolError, "frame is not a typed JSON object");
      return do_read();
    }
    const std::string& type_name = type->get_ref<const std::string&>();
    if (phase_ == Phase::awaiting_auth) {
      handle_auth_frame(msg, type_name);
    } else if (phase_ == Phase::streaming && type_name == "reauth" && core_.options().reauth) {
      handle_reauth(msg);
    }
    // Streaming: other client messages, and reauth when the server does not advertise
    // it (ServerOptions::reauth false), are ignored like any unknown type.
    do_read();
  }

  void handle_auth_frame(const nlohmann::json& msg, const std::string& type) {
    const auto token = msg.find("token");
    if (type != "auth" || token == msg.end() || !token->is_string()) {
      return close(kCloseNoAuth, "first frame must be an auth frame");
    }
    TokenResult result = core_.tokens().verify(token->get_ref<const std::string&>());
    if (const auto* err = std::get_if<TokenError>(&result)) {
      spdlog::info("session {}: auth frame refused: {}", session_id_, to_code(*err));
      enqueue(encode_error(to_code(*err), "token refused"));
      // Expired: the client gets a fresh token and reconnects at once (4001).
      return close(*err == TokenError::expired ? kCloseTokenExpired : kCloseForbidden, to_code(*err));
    }
    if (!admission_.last_seen_id) {
      const auto cursor = msg.find("last_seen_id");
      if (cursor != msg.end() && !cursor->is_null()) {
        if (!cursor->is_number_unsigned() || cursor->get<std::uint64_t>() > kMaxId) {
          return close(kCloseProtocolError, "bad last_seen_id");
        }
        admission_.last_seen_id = cursor->get<std::uint64_t>();
      }
    }
    auth_timer_.cancel();
    begin_stream(std::get<TokenClaims>(result));
  }

  // In-band refresh: a good token of the same user replaces the stream's token (its
  // expiry and its issue time for revocation checks); a bad one ends the stream with
  // error + 4003. Costs one HMAC and one indexed store read: a client sending reauths
  // back to back is held to its own pace by the read loop (one frame at a time, at most
  // 64 KiB each) and to the outbound queue limits by the reauth_ok answers.
  void handle_reauth(const nlohmann::json& msg) {
    spdlog::trace("session {}: reauth received", session_id_);
    ReauthResult result = check_reauth(core_, msg, user_id_);
    if (const auto* refusal = std::get_if<ReauthRefusal>(&result)) {
      spdlog::info("session {}: reauth refused: {}", session_id_, refusal->code);
      enqueue(encode_error(refusal->code, refusal->message));
      return close(refusal->close_code, refusal->code);
    }
    const TokenClaims& claims = std::get<TokenClaims>(result);
    issued_at_ms_ = claims.issued_at_ms;
    arm_expiry(claims.expires_at);
    spdlog::debug("session {}: reauth ok, token expires at {}", session_id_, claims.expires_at);
    enqueue(encode_reauth_ok(claims.expires_at));
  }

  void send_drain(std::chrono::milliseconds reconnect_within) {
    // Window 0: no announcement, the 1001 follows at once.
    if (drain_sent_ || reconnect_within <= std::chrono::milliseconds(0)) return;
    drain_sent_ = true;
    spdlog::info("session {}: drain announced ({} ms)", session_id_, reconnect_within.count());
    enqueue(encode_drain(reconnect_within.count()));
  }

  void refuse_revoked() {
    spdlog::info("session {}: token revoked (4003)", session_id_);
    enqueue(encode_error("token_revoked", "token revoked"));
    close(kCloseForbidden, "token_revoked");
  }

  void begin_stream(const TokenClaims& claims) {
    // Revoked between the handshake check and now, or an auth frame's token.
    if (core_.is_revoked(claims)) return refuse_revoked();
    phase_ = Phase::streaming;
    user_id_ = claims.user_id;
    issued_at_ms_ = claims.issued_at_ms;
    core_.connections().subscribe(user_id_, conn_id_, weak_from_this());
    subscribed_ = true;

    NotificationStore& store = core_.store();
    const UserStreamState state = store.state(user_id_);
    std::optional<std::uint64_t> first_after;
    if (admission_.last_seen_id) {
      const auto first = store.read_after(user_id_, *admission_.last_seen_id, 1);
      if (!first.empty()) first_after = first.front().id;
    }
    const ResumePlan plan = plan_resume(admission_.last_seen_id, state, first_after);
    WelcomeFrame welcome;
    welcome.session_id = session_id_;
    welcome.user_id = user_id_;
    welcome.heartbeat_s = static_cast<std::uint32_t>(core_.options().heartbeat.count());
    welcome.token_expires_at = claims.expires_at;
    welcome.features =
        core_.options().reauth ? std::vector<std::string>{"reauth", "drain"} : std::vector<std::string>{"drain"};
    welcome.resume = plan;
    welcome.epoch = store.epoch();
    enqueue(encode_welcome(welcome));
    // Opened while the server drains (auth-frame clients upgraded before it began).
    if (const auto remaining = core_.drain_remaining()) send_drain(*remaining);

    head_at_welcome_ = plan.head_id;
    pruned_at_welcome_ = state.pruned_through;
    last_queued_id_ = plan.replay_after;
    replaying_ = plan.replay;
    spdlog::info("session {}: stream open user={} resume={} from={} head={}", session_id_, user_id_,
                 plan.status == ResumeStatus::fresh ? "fresh"
                 : plan.status == ResumeStatus::ok  ? "ok"
                                                    : "gap",
                 plan.from_id.value_or(0), plan.head_id);
    if (replaying_) {
      pump_replay();
    } else {
      enqueue(encode_caught_up(plan.head_id));
    }
    arm_ping();
    arm_expiry(claims.expires_at);
  }

  // Queues the next page(s) of the replay while the queue is short.
  void pump_replay() {
    NotificationStore& store = core_.store();
    while (replaying_ && phase_ == Phase::streaming && queue_.size() < kReplayLowWater) {
      // Retention pruned ids we have not sent yet: the client must resume (and see a gap).
      if (store.state(user_id_).pruned_through > std::max(last_queued_id_, pruned_at_welcome_)) {
        return close(kCloseSlowConsumer, "replay fell behind retention");
      }
      const auto page = store.read_after(user_id_, last_queued_id_, kReplayPage);
      for (const auto& n : page) {
        last_queued_id_ = n.id;
        last_replayed_id_ = n.id;
        enqueue(encode_notification(n));
      }
      if (page.size() < kReplayPage) {
        replaying_ = false;
        enqueue(encode_caught_up(std::max(head_at_welcome_, last_replayed_id_)));
      }
    }
  }

  void enqueue(std::string frame) {
    if (phase_ == Phase::closing || phase_ == Phase::closed) return;
    const auto& opts = core_.options();
    if (queue_.size() >= opts.max_queued_frames || queued_bytes_ + frame.size() > opts.max_queued_bytes) {
      spdlog::warn("session {}: slow consumer ({} frames queued)", session_id_, queue_.size());
      return close(kCloseSlowConsumer, "slow consumer");
    }
    queued_bytes_ += frame.size();
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
  }

  void do_write() {
    writing_ = true;
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); };
    ws_.async_write(asio::buffer(queue_.front()), asio::bind_cancellation_slot(parked_.write.slot(), std::move(done)));
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    if (!queue_.empty()) {
      queued_bytes_ -= queue_.front().size();
      queue_.pop_front();
    }
    if (ec) return cut();
    if (phase_ == Phase::closing || phase_ == Phase::closed) {
      // Frames queued before close() (e.g. an error frame) still go out first.
      if (!queue_.empty()) return do_write();
      return send_close();
    }
    if (replaying_) pump_replay();
    if (!writing_ && !queue_.empty()) do_write();
  }

  void heard_from_client() { last_heard_ = std::chrono::steady_clock::now(); }

  // Every heartbeat: a ping, unless the client has been silent so long (no frame, no
  // pong to the last pings) that it is dead or half-open; then the stream is cut.
  void arm_ping() {
    ping_timer_.expires_after(core_.options().heartbeat);
    ping_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->phase_ != Phase::streaming) return;
      const auto silence_limit = 2 * self->core_.options().heartbeat + std::chrono::seconds(5);
      if (std::chrono::steady_clock::now() - self->last_heard_ > silence_limit) {
        spdlog::info("session {}: no frame or pong from the client for {} s: cut", self->session_id_,
                     std::chrono::duration_cast<std::chrono::seconds>(silence_limit).count());
        return self->cut();
      }
      if (!self->ping_in_flight_) {
        self->ping_in_flight_ = true;
        auto done = [self](beast::error_code) { self->ping_in_flight_ = false; };
        self->ws_.async_ping({}, asio::bind_cancellation_slot(self->parked_.ping.slot(), std::move(done)));
      }
      self->arm_ping();
    });
  }

  // (Re)arms the 4001 close at `expires_at` (unix s) + leeway. A reauth re-arms it; the
  // generation makes a wait that already completed for the previous token harmless.
  void arm_expiry(std::int64_t expires_at) {
    const std::int64_t exp_s = std::clamp<std::int64_t>(expires_at, 0, std::int64_t{1} << 40);
    const std::int64_t leeway_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(core_.options().leeway).count();
    const std::int64_t delay_ms =
        std::clamp<std::int64_t>(exp_s * 1000 + leeway_ms - unix_now_ms(), 0, kMaxExpiryDelayMs);
    const std::uint64_t generation = ++expiry_generation_;
    expiry_timer_.expires_after(std::chrono::milliseconds(delay_ms));
    expiry_timer_.async_wait([self = shared_from_this(), generation](beast::error_code ec) {
      if (!ec && generation == self->expiry_generation_) self->close(kCloseTokenExpired, "token expired");
    });
  }

  // Starts the close handshake (after frames already queued for it, like an error
  // frame); the connection is cut if it does not finish within kCloseGrace.
  void close(std::uint16_t code, std::string_view reason) {
    if (phase_ == Phase::closing || phase_ == Phase::closed) return;
    const bool accepted = accepted_;
    phase_ = Phase::closing;
    close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
    spdlog::info("session {}: closing {} ({})", session_id_, code, reason);
    cancel_timers();
    unsubscribe();
    cut_timer_.expires_after(kCloseGrace);
    cut_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->give_up_closing();
    });
    if (!accepted) return cut();
    // Keep a frame already being written and a pending error frame; drop the rest.
    if (code == kCloseSlowConsumer || code == websocket::close_code::going_away) {
      while (queue_.size() > (writing_ ? 1U : 0U)) {
        queued_bytes_ -= queue_.back().size();
        queue_.pop_back();
      }
    }
    if (!writing_ && queue_.empty())
      send_close();
    else if (!writing_)
      do_write();
  }

  void send_close() {
    if (close_sent_) return;
    close_sent_ = true;
    auto done = [self = shared_from_this()](beast::error_code) {
      // The read loop sees the peer's close (or the cut) and finishes the session.
    };
    ws_.async_close(close_reason_, asio::bind_cancellation_slot(parked_.close.slot(), std::move(done)));
  }

  // The close did not finish within kCloseGrace: cut the connection, and end every
  // operation still parked in Beast. Cutting alone is not enough: when a client frame
  // fails the connection while our close runs, Beast 1.81 parks the close (holding the
  // write lock, waiting for the read lock) and the read (holding the read lock, waiting
  // for the write lock); neither has a socket operation that the cut would end. Each
  // completes with operation_aborted; the read's finishes the session.
  void give_up_closing() {
    cut();
    parked_.cancel_all();
  }

  void cut() { ws_.next_layer().bytes().tcp().close(); }

  void cancel_timers() {
    ping_timer_.cancel();
    auth_timer_.cancel();
    expiry_timer_.cancel();
  }

  void unsubscribe() {
    if (subscribed_) core_.connections().unsubscribe(user_id_, conn_id_);
    subscribed_ = false;
  }

  // The read loop ended: the connection is over.
  void finish() {
    if (phase_ == Phase::closed) return;
    if (phase_ == Phase::streaming) spdlog::info("session {}: connection ended by peer", session_id_);
    phase_ = Phase::closed;
    cancel_timers();
    cut_timer_.cancel();
    unsubscribe();
    core_.connections().remove(conn_id_);
    cut();
  }

  ServerCore& core_;
  asio_support::ParkedOpCancellation parked_;  // before ws_: outlives the handlers it holds
  websocket::stream<Stream> ws_;
  Request req_;
  StreamAdmission admission_;
  asio::steady_timer ping_timer_;
  asio::steady_timer auth_timer_;
  asio::steady_timer expiry_timer_;
  asio::steady_timer cut_timer_;
  std::string session_id_;
  std::string user_id_;
  std::optional<std::int64_t> issued_at_ms_;  // of the current token (handshake or reauth)
  std::uint64_t expiry_generation_ = 0;       // bumped by each arm_expiry()
  bool drain_sent_ = false;
  bool accepted_ = false;  // the WebSocket handshake completed
  std::uint64_t conn_id_ = 0;
  Phase phase_ = Phase::accepting;
  bool subscribed_ = false;
  beast::flat_buffer read_buffer_;

  std::deque<std::string> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool ping_in_flight_ = false;
  std::chrono::steady_clock::time_point last_heard_ = std::chrono::steady_clock::now();
  bool close_sent_ = false;
  websocket::close_reason close_reason_;

  bool replaying_ = false;
  std::uint64_t last_queued_id_ = 0;    // highest notification id queued so far (or cursor)
  std::uint64_t last_replayed_id_ = 0;  // highest id sent by the replay
  std::uint64_t head_at_welcome_ = 0;
  std::uint64_t pruned_at_welcome_ = 0;
};

}  // namespace

void start_ws_session(ServerCore& core, std::unique_ptr<ServerStream> stream, Request req, StreamAdmission admission) {
  std::make_shared<WsSession>(core, std::move(stream), std::move(req), std::move(admission))->start();
}

}  // namespace herald::server::detail
