// The Asio driver: feeds the Lifecycle its events and carries out its actions. All of
// it runs on one strand; the application's callbacks run there too.
#include "herald/client.hpp"

#include <array>
#include <atomic>
#include <future>
#include <map>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "client/endpoints.hpp"
#include "lifecycle/lifecycle.hpp"
#include "protocol/codec.hpp"
#include "token/jwt_claims.hpp"
#include "transport/proxy/proxy_selection.hpp"
#include "transport/tls_context.hpp"
#include "transport/url.hpp"
#include "transport/ws_connection.hpp"

namespace herald {

namespace asio = boost::asio;
using detail::SteadyTime;
using detail::TimerKind;

const char* to_string(State s) noexcept {
  switch (s) {
    case State::idle: return "idle";
    case State::connecting: return "connecting";
    case State::connected: return "connected";
    case State::reconnecting: return "reconnecting";
    case State::stopped: return "stopped";
  }
  return "unknown";
}

const char* to_string(GapReason r) noexcept {
  switch (r) {
    case GapReason::retention: return "retention";
    case GapReason::reset: return "reset";
  }
  return "unknown";
}

namespace {

ClientOptions validated(ClientOptions o) {
  if (!o.token_provider) throw std::invalid_argument("ClientOptions.token_provider is required");
  detail::check_stream_urls(o);
  if (o.connect_timeout.count() <= 0) throw std::invalid_argument("ClientOptions.connect_timeout must be positive");
  try {
    detail::check_proxy_options(o.proxy);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("ClientOptions.proxy: ") + e.what());
  }
  if (o.token_timeout.count() <= 0) throw std::invalid_argument("ClientOptions.token_timeout must be positive");
  if (o.backoff_initial.count() <= 0) throw std::invalid_argument("ClientOptions.backoff_initial must be positive");
  if (o.backoff_max < o.backoff_initial) throw std::invalid_argument("ClientOptions.backoff_max must be >= backoff_initial");
  if (o.max_frame_bytes < 1024) throw std::invalid_argument("ClientOptions.max_frame_bytes must be at least 1024");
  if (!(o.token_refresh_at > 0.0 && o.token_refresh_at < 1.0)) {
    throw std::invalid_argument("ClientOptions.token_refresh_at must be in (0, 1)");
  }
  if (o.token_refresh_interval.count() < 0) throw std::invalid_argument("ClientOptions.token_refresh_interval must not be negative");
  if (!(o.token_refresh_spread >= 0.0 && o.token_refresh_spread <= 0.2)) {
    throw std::invalid_argument("ClientOptions.token_refresh_spread must be in [0, 0.2]");
  }
  if (o.retry_after_max.count() <= 0) throw std::invalid_argument("ClientOptions.retry_after_max must be positive");
  if (o.reconnect_now_within.count() < 0) throw std::invalid_argument("ClientOptions.reconnect_now_within must not be negative");
  if (!o.cursor_store) o.cursor_store = std::make_shared<MemoryCursorStore>();
  return o;
}

detail::LifecycleConfig lifecycle_config(const ClientOptions& o) {
  detail::LifecycleConfig c;
  c.backoff_initial = o.backoff_initial;
  c.backoff_max = o.backoff_max;
  c.token_timeout = o.token_timeout;
  c.jitter = o.backoff_jitter;
  c.stable_after = o.backoff_reset_after;
  c.max_attempts = o.max_attempts;
  c.max_elapsed = o.max_elapsed;
  c.refresh = o.token_refresh;
  c.refresh_fraction = o.token_refresh_at;
  c.refresh_interval = o.token_refresh_interval;
  c.refresh_spread = o.token_refresh_spread;
  c.retry_after_max = o.retry_after_max;
  c.reconnect_now_within = o.reconnect_now_within;
  return c;
}

}  // namespace

struct Client::Impl : std::enable_shared_from_this<Impl> {
  using Strand = asio::strand<asio::any_io_executor>;

  Impl(ClientOptions o, asio::any_io_executor ex, std::shared_ptr<asio::io_context> own)
      : options(validated(std::move(o))),
        own_context(std::move(own)),
        strand(asio::make_strand(ex)),
        endpoints(options),  // throws naming a TLS field
        lifecycle(lifecycle_config(options), detail::default_random_source(), load_cursor()),
        decoder(options.max_frame_bytes),
        timers(make_timers(strand, std::make_index_sequence<detail::kTimerKinds>{})),
        flush_timer(strand) {
    metrics.cursor = lifecycle.cursor();
  }

  template <std::size_t... I>
  static std::array<asio::steady_timer, sizeof...(I)> make_timers(Strand& s, std::index_sequence<I...>) {
    return {((void)I, asio::steady_timer(s))...};
  }

  std::optional<Cursor> load_cursor() {
    try {
      return options.cursor_store->load();
    } catch (const std::exception& e) {
      throw std::invalid_argument(std::string("ClientOptions.cursor_store: ") + e.what());
    }
  }

  // ---- logging ----
  void log(LogLevel level, const std::string& msg) const {
    if (!options.logger || level < options.log_level || options.log_level == LogLevel::off) return;
    try {
      options.logger(level, msg);
    } catch (...) {  // a failing logger must not take the client down
    }
  }

  // ---- running things on the strand ----
  template <class F>
  void on_strand(F&& f) {
    asio::post(strand, [w = weak_from_this(), f = std::forward<F>(f)]() mutable {
      if (auto self = w.lock()) f(*self);
    });
  }

  void start() {
    on_strand([](Impl& self) {
      if (self.stopped) return;
      self.execute(self.lifecycle.start(std::chrono::steady_clock::now()));
    });
  }

  // Runs on the strand. After it, no callback of this client runs again.
  void stop_here() {
    if (stopped) return;
    stopped = true;
    (void)lifecycle.stop(std::chrono::steady_clock::now());  // the driver tears down itself
    for (auto& t : timers) t.cancel();
    flush_timer.cancel();
    for (auto& [id, c] : connections) c->close(1000, "client stopped");
    connections.clear();
    // stop() from inside on_notification: that notification counts as handed over.
    if (delivering) save_cursor(Cursor{*delivering, lifecycle.epoch()});
    flush_cursor();
    set_metric_state(State::stopped);
  }

  void stop() {
    if (strand.running_in_this_thread()) return stop_here();
    std::lock_guard lock(stop_mutex);
    if (stop_complete) return;
    std::promise<void> done;
    auto finished = done.get_future();
    asio::post(strand, [self = shared_from_this(), &done] {
      self->stop_here();
      done.set_value();
    });
    finished.wait();
    stop_complete = true;
  }

  // ---- carrying out the lifecycle's actions ----
  void execute(detail::Actions actions) {
    for (auto& a : actions) {
      if (stopped) return;  // stop() was called from a callback of this batch
      std::visit([this](auto& act) { run(act); }, a);
    }
    std::lock_guard lock(metrics_mutex);
    metrics.token_refreshes = lifecycle.token_refreshes();
    metrics.connects = lifecycle.connects();
    metrics.reconnects = lifecycle.reconnects();
    metrics.switches = lifecycle.switches();
    metrics.duplicates_dropped = lifecycle.duplicates_dropped();
  }

  void run(detail::FetchToken&) {
    const auto gen = ++token_generation;
    log(LogLevel::debug, "fetching a token");
    try {
      options.token_provider->fetch([w = weak_from_this(), gen](TokenResult r) {
        if (auto self = w.lock()) {
          asio::post(self->strand, [w, gen, r = std::move(r)]() mutable {
            if (auto s = w.lock()) s->token_arrived(gen, std::move(r));
          });
        }
      });
    } catch (const std::exception& e) {
      token_fetch_threw(gen, e.what());
    } catch (...) {
      token_fetch_threw(gen, "the token provider threw");
    }
  }

  // Posted, not handled at once: the throw happened inside execute() of the batch that
  // asked for the token, and the rest of that batch (its token timeout) must be carried
  // out before the lifecycle hears the answer, as with any other answer.
  void token_fetch_threw(std::uint64_t gen, std::string why) {
    asio::post(strand, [w = weak_from_this(), gen, r = TokenResult{std::nullopt, std::move(why)}]() mutable {
      if (auto s = w.lock()) s->token_arrived(gen, std::move(r));
    });
  }

  void token_arrived(std::uint64_t gen, TokenResult r) {
    if (stopped || gen != token_generation) return;
    const auto now = std::chrono::steady_clock::now();
    const auto wall_now = std::chrono::system_clock::now();
    const auto to_steady = [&](std::chrono::system_clock::time_point t) {
      return now + std::chrono::duration_cast<std::chrono::steady_clock::duration>(t - wall_now);
    };
    std::optional<std::string> value;
    std::optional<SteadyTime> expires;
    std::optional<SteadyTime> issued;
    if (r.token) {
      // Lifetime: the provider's expiry, else the JWT's exp; start: the JWT's iat.
      const auto claims = detail::read_jwt_times(r.token->value);
      std::optional<std::chrono::system_clock::time_point> exp = r.token->expires_at;
      if (!exp && claims.exp) exp = std::chrono::system_clock::time_point{std::chrono::seconds{*claims.exp}};
      if (exp) expires = to_steady(*exp);
      if (claims.iat) issued = to_steady(std::chrono::system_clock::time_point{std::chrono::seconds{*claims.iat}});
      value = std::move(r.token->value);
    }
    execute(lifecycle.token_ready(now, std::move(value), expires, issued, std::move(r.error)));
  }

  void reconnect_now() {
    on_strand([](Impl& self) {
      if (!self.stopped) self.execute(self.lifecycle.reconnect_now(std::chrono::steady_clock::now()));
    });
  }

  // A connection that reported its end is gone: forget it.
  void forget(detail::ConnId id) { connections.erase(id); }

  // An attempt to, or a connection with, endpoint `index` failed.
  void endpoint_failed(std::size_t index) { endpoints.failed(index); }

  void run(detail::OpenConnection& open) {
    const auto id = open.conn;
    const auto index = endpoints.current_index();
    const detail::Endpoint& endpoint = endpoints.current();
    detail::ConnectionEvents ev;
    auto w = weak_from_this();
    auto now = [] { return std::chrono::steady_clock::now(); };
    ev.on_open = [w, id, now] {
      if (auto s = w.lock(); s && !s->stopped) s->opened(id, now());
    };
    ev.on_refused = [w, id, index, now](const detail::HandshakeRefusal& r) {
      if (auto s = w.lock(); s && !s->stopped) {
        s->forget(id);
        s->endpoint_failed(index);
        s->execute(s->lifecycle.handshake_refused(now(), id, r));
      }
    };
    ev.on_connect_failed = [w, id, index, now](errc why, std::string detail) {
      if (auto s = w.lock(); s && !s->stopped) {
        s->forget(id);
        s->endpoint_failed(index);
        s->execute(s->lifecycle.connect_failed(now(), id, std::move(detail), why));
      }
    };
    ev.on_frame = [w, id, now](std::string_view frame, bool binary) {
      if (auto s = w.lock(); s && !s->stopped) s->frame_arrived(id, now(), frame, binary);
    };
    ev.on_activity = [w, id, now] {
      if (auto s = w.lock(); s && !s->stopped) s->lifecycle.activity(now(), id);
    };
    ev.on_closed = [w, id, index, now](std::optional<std::uint16_t> code, std::string reason) {
      if (auto s = w.lock(); s && !s->stopped) {
        s->forget(id);
        s->endpoint_failed(index);
        s->execute(s->lifecycle.closed(now(), id, code, std::move(reason)));
      }
    };
    detail::ConnectionSettings settings{options.connect_timeout, options.max_frame_bytes, options.permessage_deflate};
    auto connection = detail::WsConnection::create(strand, endpoint.tls, endpoint.proxy, std::move(ev), settings);
    connections[id] = connection;
    const auto& url = endpoint.url;
    log(LogLevel::debug,
        "connecting to " + url.host + ":" + url.port + url.target +
            (endpoint.proxy ? " via proxy " + detail::describe(endpoint.proxy->endpoint) : std::string()));
    {
      std::lock_guard lock(metrics_mutex);
      metrics.endpoint = endpoint.text;
    }
    connection->open(url, open.token, open.last_seen_id);
  }

  void opened(detail::ConnId id, SteadyTime now) { execute(lifecycle.connected(now, id)); }

  void frame_arrived(detail::ConnId id, SteadyTime now, std::string_view frame, bool binary) {
    detail::protocol::DecodeResult decoded;
    if (binary) {
      decoded.error = detail::protocol::DecodeError::not_json;
      decoded.detail = "binary frame";
    } else {
      decoded = decoder.decode(frame);
    }
    execute(lifecycle.frame(now, id, std::move(decoded)));
  }

  void run(detail::CloseConnection& c) {
    const auto it = connections.find(c.conn);
    if (it == connections.end()) return;
    if (c.abort) {
      it->second->detach();
      it->second->abort();
    } else {
      it->second->close(c.code, c.reason);
    }
    connections.erase(it);
  }

  void run(detail::SendPing& p) {
    if (const auto it = connections.find(p.conn); it != connections.end()) it->second->ping();
  }

  void run(detail::SendReauth& r) {
    const auto it = connections.find(r.conn);
    if (it != connections.end()) it->second->send(detail::protocol::encode_reauth(r.token), /*secret=*/true);
    r.token.assign(r.token.size(), '\0');
  }

  void run(detail::ArmTimer& a) {
    auto& t = timers[static_cast<std::size_t>(a.kind)];
    const auto gen = ++timer_generation[static_cast<std::size_t>(a.kind)];
    t.expires_at(a.at);
    t.async_wait([w = weak_from_this(), kind = a.kind, gen](const boost::system::error_code& ec) {
      if (ec) return;
      auto s = w.lock();
      if (!s || s->stopped || gen != s->timer_generation[static_cast<std::size_t>(kind)]) return;
      s->execute(s->lifecycle.timer(std::chrono::steady_clock::now(), kind));
    });
  }

  void run(detail::CancelTimer& c) {
    ++timer_generation[static_cast<std::size_t>(c.kind)];
    timers[static_cast<std::size_t>(c.kind)].cancel();
  }

  void run(detail::Deliver& d) {
    if (stopped) return;
    const auto id = d.notification.id;
    if (on_notification) {
      delivering = id;
      try {
        on_notification(d.notification);
      } catch (const std::exception& e) {
        log(LogLevel::error, std::string("notification callback threw: ") + e.what());
      } catch (...) {
        log(LogLevel::error, "notification callback threw");
      }
      delivering.reset();
    }
    // The cursor advances only after the application's callback returned (or, when the
    // callback called stop(), stop() saved and flushed it: the store is done then).
    if (!stopped) save_cursor(Cursor{id, lifecycle.epoch()});
    {
      std::lock_guard lock(metrics_mutex);
      ++metrics.notifications_delivered;
      metrics.cursor = id;
    }
    if (!flush_pending && !stopped) {
      flush_pending = true;
      flush_timer.expires_after(options.cursor_flush_interval);
      flush_timer.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
        auto s = w.lock();
        if (!s) return;
        s->flush_pending = false;
        if (!ec && !s->stopped) s->flush_cursor();
      });
    }
  }

  void run(detail::SaveCursor& c) {
    save_cursor(c.cursor);
    flush_cursor();
    std::lock_guard lock(metrics_mutex);
    metrics.cursor = c.cursor.id;
  }

  void save_cursor(const Cursor& cursor) {
    try {
      options.cursor_store->save(cursor);
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("cursor store save failed: ") + e.what());
    }
  }

  void flush_cursor() {
    try {
      options.cursor_store->flush();
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("cursor store flush failed: ") + e.what());
    }
  }

  void run(detail::ReportState& r) {
    set_metric_state(r.state, r.reason);
    std::optional<std::chrono::system_clock::time_point> next_at;
    if (r.next_attempt_at) {
      next_at = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                       *r.next_attempt_at - std::chrono::steady_clock::now());
    }
    {
      std::lock_guard lock(metrics_mutex);
      metrics.next_attempt_at = next_at;
      metrics.current_backoff = lifecycle.last_delay();
    }
    if (r.reason) {
      log(r.state == State::stopped ? LogLevel::error : LogLevel::warn,
          std::string(to_string(r.state)) + ": " + r.reason.message() + (r.detail.empty() ? "" : " (" + r.detail + ")"));
    } else {
      log(LogLevel::info, to_string(r.state));
    }
    const bool permanent = r.state == State::stopped;
    if (on_state) {
      StateEvent ev;
    ev.state = r.state;
    ev.reason = r.reason;
    ev.detail = r.detail;
    ev.next_attempt_at = next_at;
      guarded([&] { on_state(ev); }, "state");
    }
    if (permanent) stop_here();  // a permanent failure: nothing more will happen
  }

  void run(detail::ReportGap& g) {
    log(LogLevel::warn, g.gap.reason == GapReason::reset
                            ? "gap: the server's history was reset; the stream is handed over again from its start"
                            : "gap: the server no longer has every notification after the cursor");
    if (on_gap && !stopped) guarded([&] { on_gap(g.gap); }, "gap");
  }

  void run(detail::Log& l) { log(l.level, l.message); }

  template <class F>
  void guarded(F&& f, const char* what) {
    try {
      f();
    } catch (...) {
      log(LogLevel::error, std::string(what) + " callback threw");
    }
  }

  void set_metric_state(State s, std::error_code ec = {}) {
    std::lock_guard lock(metrics_mutex);
    metrics.state = s;
    if (ec) metrics.last_error = ec;
  }

  ClientOptions options;
  std::shared_ptr<asio::io_context> own_context;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  Strand strand;
  detail::Endpoints endpoints;  // TLS contexts and proxy routes shared with the connections
  detail::Lifecycle lifecycle;
  detail::protocol::Decoder decoder;
  std::array<asio::steady_timer, detail::kTimerKinds> timers;
  std::array<std::uint64_t, detail::kTimerKinds> timer_generation{};
  asio::steady_timer flush_timer;
  bool flush_pending = false;
  std::optional<std::uint64_t> delivering;  // the id whose on_notification is running
  std::map<detail::ConnId, std::shared_ptr<detail::WsConnection>> connections;  // at most two
  std::uint64_t token_generation = 0;
  bool stopped = false;  // strand only
  std::mutex stop_mutex;
  bool stop_complete = false;  // guarded by stop_mutex

  std::function<void(const Notification&)> on_notification;
  std::function<void(const StateEvent&)> on_state;
  std::function<void(const GapEvent&)> on_gap;

  mutable std::mutex metrics_mutex;
  ClientMetrics metrics;
};

Client::Client(ClientOptions options) {
  auto ctx = std::make_shared<asio::io_context>(1);
  impl_ = std::make_shared<Impl>(std::move(options), ctx->get_executor(), ctx);
  impl_->work.emplace(ctx->get_executor());
  // The thread shares ownership of its io_context, so that a client destroyed from one
  // of its own callbacks can let the thread finish on its own.
  impl_->thread = std::thread([ctx] { ctx->run(); });
}

Client::Client(ClientOptions options, const asio::any_io_executor& executor)
    : impl_(std::make_shared<Impl>(std::move(options), executor, nullptr)) {}

Client::~Client() {
  if (!impl_) return;
  impl_->stop();
  impl_->work.reset();
  if (impl_->thread.joinable()) {
    if (impl_->thread.get_id() == std::this_thread::get_id()) {
      // Destroyed from inside one of its own callbacks: the handler on the stack holds
      // the state alive; the thread runs out of work and ends by itself.
      impl_->thread.detach();
    } else {
      impl_->thread.join();
    }
  }
}

void Client::on_notification(std::function<void(const Notification&)> cb) { impl_->on_notification = std::move(cb); }
void Client::on_state(std::function<void(const StateEvent&)> cb) { impl_->on_state = std::move(cb); }
void Client::on_gap(std::function<void(const GapEvent&)> cb) { impl_->on_gap = std::move(cb); }
// Each takes a copy of impl_ first: a callback may destroy this Client on the I/O thread
// while the call is still returning from its post to the strand, and the copy keeps the
// strand (and the io_context it lives in) alive until then. ASan found it: a client
// destroyed inside on_state(connecting), reported while start() was still posting.
void Client::start() {
  const auto impl = impl_;
  impl->start();
}
void Client::stop() {
  const auto impl = impl_;
  impl->stop();
}
void Client::reconnect_now() {
  const auto impl = impl_;
  impl->reconnect_now();
}

ClientMetrics Client::metrics() const {
  std::lock_guard lock(impl_->metrics_mutex);
  auto m = impl_->metrics;
  if (const auto& tls = impl_->endpoints.tls()) m.tls_sessions_resumed = tls->sessions_resumed();
  return m;
}

}  // namespace herald
