// The Asio driver: feeds the Lifecycle its events and carries out its actions. All of
// it runs on one strand; the application's callbacks run there too.
#include "herald/client.hpp"

#include <future>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "client/callback_gate.hpp"
#include "client/callback_slot.hpp"
#include "client/cursor_writer.hpp"
#include "client/endpoints.hpp"
#include "client/metrics_board.hpp"
#include "client/options.hpp"
#include "client/timer_table.hpp"
#include "lifecycle/lifecycle.hpp"
#include "protocol/codec.hpp"
#include "token/token_times.hpp"
#include "transport/proxy/proxy_selection.hpp"
#include "transport/tls_context.hpp"
#include "transport/url.hpp"
#include "transport/ws_connection.hpp"

namespace herald {

namespace asio = boost::asio;
using detail::SteadyTime;
using detail::TimerKind;

struct Client::Impl : std::enable_shared_from_this<Impl> {
  using Strand = asio::strand<asio::any_io_executor>;

  Impl(ClientOptions o, asio::any_io_executor ex, std::shared_ptr<asio::io_context> own)
      : Impl(detail::check_options(std::move(o)), std::move(ex), std::move(own)) {}

  Impl(detail::CheckedOptions checked, asio::any_io_executor ex, std::shared_ptr<asio::io_context> own)
      : options(std::move(checked.options)),
        own_context(std::move(own)),
        strand(asio::make_strand(ex)),
        endpoints(options, std::move(checked.urls)),  // throws naming a TLS field
        lifecycle(detail::lifecycle_config(options), detail::default_random_source(), load_cursor()),
        decoder(options.max_frame_bytes),
        timers(strand),
        // A dispatched callback reports its notification taken, as an acknowledgement.
        gate(options.callback_dispatcher ? std::make_shared<detail::CallbackGate>() : nullptr),
        cursor_writer(std::make_shared<detail::CursorWriter>(
            options.cursor_store, options.cursor_flush_interval, strand,
            options.delivery_receipt == DeliveryReceipt::acknowledged || gate,
            [this](LogLevel level, const std::string& line) { log(level, line); })),
        metrics(lifecycle.cursor()) {}

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
    timers.cancel_all();
    for (auto& [id, c] : connections) c->close(1000, "client stopped");
    connections.clear();
    // stop() from inside on_notification: that notification counts as handed over
    // (unless the application acknowledges what it took).
    cursor_writer->stop(delivering ? std::optional<Cursor>(Cursor{*delivering, lifecycle.epoch()}) : std::nullopt);
    metrics.state(State::stopped);
  }

  // The application's stop(): after it, the cursor store is no longer called.
  void stop_for_application() {
    stop_here();
    cursor_writer->close();
  }

  void stop() {
    if (gate) {
      // No dispatched callback runs after stop() returns: wait for one running on another
      // thread (never on the strand: a callback may be waiting for it). One that calls
      // stop() itself has its notification taken, as a callback on the strand has.
      const auto taken = gate->close(/*wait=*/!strand.running_in_this_thread());
      if (taken && options.delivery_receipt == DeliveryReceipt::callback_returned) acknowledge_taken(*taken);
    }
    if (strand.running_in_this_thread()) return stop_for_application();
    std::lock_guard lock(stop_mutex);
    if (stop_complete) return;
    // The promise travels with the task: set_value() may still be running on the I/O
    // thread when wait() returns here, so it must not be an object of this frame.
    std::promise<void> done;
    auto finished = done.get_future();
    asio::post(strand, [self = shared_from_this(), done = std::move(done)]() mutable {
      self->stop_for_application();
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
    metrics.counters(lifecycle);
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
    } catch (const std::system_error& e) {
      token_fetch_threw(gen, TokenResult{std::nullopt, e.what(), e.code()});
    } catch (const std::exception& e) {
      token_fetch_threw(gen, TokenResult{std::nullopt, e.what(), {}});
    } catch (...) {
      token_fetch_threw(gen, TokenResult{std::nullopt, "the token provider threw", {}});
    }
  }

  // Posted, not handled at once: the throw happened inside execute() of the batch that
  // asked for the token, and the rest of that batch (its token timeout) must be carried
  // out before the lifecycle hears the answer, as with any other answer.
  void token_fetch_threw(std::uint64_t gen, TokenResult failure) {
    asio::post(strand, [w = weak_from_this(), gen, r = std::move(failure)]() mutable {
      if (auto s = w.lock()) s->token_arrived(gen, std::move(r));
    });
  }

  void token_arrived(std::uint64_t gen, TokenResult r) {
    if (stopped || gen != token_generation) return;
    const auto now = std::chrono::steady_clock::now();
    std::optional<std::string> value;
    detail::TokenTimes times;
    if (r.token) {
      times = detail::token_times(*r.token, now, std::chrono::system_clock::now());
      value = std::move(r.token->value);
    }
    execute(
        lifecycle.token_ready(now, std::move(value), times.expires_at, times.issued_at, std::move(r.error), r.code));
  }

  void reconnect_now() {
    on_strand([](Impl& self) {
      if (!self.stopped) self.execute(self.lifecycle.reconnect_now(std::chrono::steady_clock::now()));
    });
  }

  void run(detail::OpenConnection& open) {
    const auto id = open.conn;
    const auto index = endpoints.current_index();
    const detail::Endpoint& endpoint = endpoints.current();
    auto events = [w = weak_from_this(), id, index](detail::ConnectionEvent&& e) {
      if (auto s = w.lock(); s && !s->stopped) {
        std::visit([&](auto& ev) { s->connection_event(id, index, std::chrono::steady_clock::now(), ev); }, e);
      }
    };
    detail::ConnectionSettings settings{options.connect_timeout, options.max_frame_bytes, options.permessage_deflate};
    auto connection = detail::WsConnection::create(strand, endpoint.tls, endpoint.proxy, std::move(events), settings);
    connections[id] = connection;
    const auto& url = endpoint.url;
    log(LogLevel::debug,
        "connecting to " + url.host + ":" + url.port + url.target +
            (endpoint.proxy ? " via proxy " + detail::describe(endpoint.proxy->endpoint) : std::string()));
    metrics.endpoint(endpoint.text);
    connection->open(url, open.token, open.last_seen_id);
  }

  // ---- what connection `id` (to endpoint `index`) reports ----
  void connection_event(detail::ConnId id, std::size_t, SteadyTime now, detail::event::Opened&) {
    execute(lifecycle.connected(now, id));
  }
  void connection_event(detail::ConnId id, std::size_t index, SteadyTime now, detail::event::Refused& e) {
    connection_ended(id, index);
    execute(lifecycle.handshake_refused(now, id, e.refusal));
  }
  void connection_event(detail::ConnId id, std::size_t index, SteadyTime now, detail::event::ConnectFailed& e) {
    connection_ended(id, index);
    execute(lifecycle.connect_failed(now, id, std::move(e.detail), e.why));
  }
  void connection_event(detail::ConnId id, std::size_t, SteadyTime now, detail::event::Frame& e) {
    detail::protocol::DecodeResult decoded;
    if (e.binary) {
      decoded.error = detail::protocol::DecodeError::not_json;
      decoded.detail = "binary frame";
    } else {
      decoded = decoder.decode(e.text);
    }
    execute(lifecycle.frame(now, id, std::move(decoded)));
  }
  void connection_event(detail::ConnId id, std::size_t, SteadyTime now, detail::event::Activity&) {
    lifecycle.activity(now, id);
  }
  void connection_event(detail::ConnId id, std::size_t index, SteadyTime now, detail::event::Closed& e) {
    connection_ended(id, index);
    execute(lifecycle.closed(now, id, e.code, std::move(e.reason)));
  }

  // A connection that reported its end is gone; an attempt to, or a connection with,
  // its endpoint failed, so the next endpoint becomes current.
  void connection_ended(detail::ConnId id, std::size_t endpoint_index) {
    connections.erase(id);
    endpoints.failed(endpoint_index);
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
    timers.arm(a.kind, a.at, [w = weak_from_this()](TimerKind kind, std::uint64_t generation) {
      auto s = w.lock();
      if (!s || s->stopped || !s->timers.current(kind, generation)) return;
      s->execute(s->lifecycle.timer(std::chrono::steady_clock::now(), kind));
    });
  }

  void run(detail::CancelTimer& c) { timers.cancel(c.kind); }

  void run(detail::Deliver& d) {
    if (stopped) return;
    const auto id = d.notification.id;
    const auto epoch = lifecycle.epoch();
    cursor_writer->handing_over(id, epoch);  // before the callback, which may acknowledge it
    call_application(on_notification, std::move(d.notification), "notification", id);
    // The cursor advances only after the application's callback returned (or, when the
    // callback called stop(), stop() saved and flushed it: the store is done then).
    cursor_writer->handed_over(id, epoch);
    metrics.delivered(id);
  }

  // The application's acknowledge().
  void acknowledge(std::uint64_t id) {
    if (options.delivery_receipt == DeliveryReceipt::acknowledged) acknowledge_taken(id);
  }

  // Notification `id` (and everything before it) was taken. Any thread.
  void acknowledge_taken(std::uint64_t id) {
    if (strand.running_in_this_thread()) return cursor_writer->taken(id);
    on_strand([id](Impl& self) { self.cursor_writer->taken(id); });
  }

  void run(detail::SaveCursor& c) {
    cursor_writer->set(c.cursor);
    metrics.cursor(c.cursor.id);
  }

  void run(detail::ReportState& r) {
    metrics.state(r.state, r.reason);
    std::optional<std::chrono::system_clock::time_point> next_at;
    if (r.next_attempt_at) {
      next_at = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                       *r.next_attempt_at - std::chrono::steady_clock::now());
    }
    metrics.next_attempt(next_at, lifecycle.last_delay());
    if (r.reason) {
      log(r.state == State::stopped ? LogLevel::error : LogLevel::warn,
          std::string(to_string(r.state)) + ": " + r.reason.message() +
              (r.detail.empty() ? "" : " (" + r.detail + ")"));
    } else {
      log(LogLevel::info, to_string(r.state));
    }
    const bool permanent = r.state == State::stopped;
    StateEvent ev;
    ev.state = r.state;
    ev.reason = r.reason;
    ev.detail = r.detail;
    ev.next_attempt_at = next_at;
    call_application(on_state, std::move(ev), "state");
    if (permanent) stop_here();  // a permanent failure: nothing more will happen
  }

  void run(detail::ReportGap& g) {
    log(LogLevel::warn, g.gap.reason == GapReason::reset
                            ? "gap: the server's history was reset; the stream is handed over again from its start"
                            : "gap: the server no longer has every notification after the cursor");
    if (stopped) return;
    call_application(on_gap, g.gap, "gap");
  }

  void run(detail::Log& l) { log(l.level, l.message); }

  // Calls the application's callback in `slot` with `event`: here on the strand, or as a
  // task given to ClientOptions::callback_dispatcher. `notification`: the id it hands over.
  template <class Event>
  void call_application(const detail::CallbackSlot<Event>& slot, Event event, const char* what,
                        std::optional<std::uint64_t> notification = std::nullopt) {
    const auto cb = slot.get();
    if (!gate) {
      if (!cb) return;
      delivering = notification;
      if (auto failure = detail::call_guarded(*cb, event, what)) log(LogLevel::error, *failure);
      delivering.reset();
      return;
    }
    const bool report_taken = notification && options.delivery_receipt == DeliveryReceipt::callback_returned;
    if (!cb) {
      if (report_taken) cursor_writer->taken(*notification);
      return;
    }
    auto task = [gate = gate, w = weak_from_this(), cb, event = std::move(event), what, notification, report_taken] {
      if (!gate->enter(notification)) return;  // stop() was called
      auto failure = detail::call_guarded(*cb, event, what);
      if (auto self = w.lock()) {  // still inside: a stop() now waits for this report
        if (report_taken) self->acknowledge_taken(*notification);
        if (failure) self->on_strand([f = std::move(*failure)](Impl& s) { s.log(LogLevel::error, f); });
      }
      gate->leave();
    };
    try {
      options.callback_dispatcher(std::move(task));
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("callback_dispatcher threw: ") + e.what());
    } catch (...) {
      log(LogLevel::error, "callback_dispatcher threw");
    }
  }

  ClientOptions options;
  std::shared_ptr<asio::io_context> own_context;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  Strand strand;
  detail::Endpoints endpoints;  // TLS contexts and proxy routes shared with the connections
  detail::Lifecycle lifecycle;
  detail::protocol::Decoder decoder;
  detail::TimerTable timers;
  std::optional<std::uint64_t> delivering;     // the id whose on_notification is running
  std::shared_ptr<detail::CallbackGate> gate;  // with a callback_dispatcher
  std::shared_ptr<detail::CursorWriter> cursor_writer;
  std::map<detail::ConnId, std::shared_ptr<detail::WsConnection>> connections;  // at most two
  std::uint64_t token_generation = 0;
  bool stopped = false;  // strand only
  std::mutex stop_mutex;
  bool stop_complete = false;  // guarded by stop_mutex

  detail::CallbackSlot<Notification> on_notification;
  detail::CallbackSlot<StateEvent> on_state;
  detail::CallbackSlot<GapEvent> on_gap;

  detail::MetricsBoard metrics;
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

void Client::on_notification(std::function<void(const Notification&)> cb) {
  const auto impl = impl_;
  impl->on_notification.set(std::move(cb));
}
void Client::on_state(std::function<void(const StateEvent&)> cb) {
  const auto impl = impl_;
  impl->on_state.set(std::move(cb));
}
void Client::on_gap(std::function<void(const GapEvent&)> cb) {
  const auto impl = impl_;
  impl->on_gap.set(std::move(cb));
}
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
void Client::acknowledge(std::uint64_t id) {
  const auto impl = impl_;
  impl->acknowledge(id);
}

ClientMetrics Client::metrics() const {
  auto m = impl_->metrics.snapshot();
  if (const auto& tls = impl_->endpoints.tls()) m.tls_sessions_resumed = tls->sessions_resumed();
  return m;
}

}  // namespace herald
