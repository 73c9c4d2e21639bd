// herald::Client: keeps one user's notification stream connected and hands every
// notification to the application exactly once, in order.
//
//   herald::ClientOptions opts;
//   opts.url = "wss://notify.example.com/v1/stream";
//   opts.token_provider = herald::TokenProvider::from_blocking([] { return fetch_jwt(); });
//   opts.cursor_store = std::make_shared<herald::FileCursorStore>("cursor.txt");
//   herald::Client client(std::move(opts));
//   client.on_notification([](const herald::Notification& n) { show(n.topic, n.data()); });
//   client.on_state([](const herald::StateEvent& e) { render(e.state); });
//   client.start();
//
// Threading and lifetime:
// - Distinct objects: safe. Shared objects: every member function may be called from
//   any thread, at any time. An on_* setter takes effect for every call that starts
//   after it returns; a callback already running on the I/O thread (even the one being
//   replaced, when it replaces itself) finishes as it started, on its own captures.
// - Callbacks never run concurrently with each other. They run on the client's I/O
//   thread: a thread the client owns, or the executor given to the advanced constructor.
//   Keep them short; a blocked callback blocks this client's stream. Or they run where
//   ClientOptions::callback_dispatcher puts them (a UI thread, a serial queue): then a
//   slow callback delays only itself.
// - stop() is idempotent, may be called from any thread, also from inside a callback,
//   and no callback runs after it returns. Destroying a running client stops it first;
//   destroying it from inside one of its own callbacks is safe too.
// - The cursor store is not called after stop() returns. stop() (or destruction) from
//   inside on_notification: the notification being handled counts as handed over — its
//   id is saved and flushed before that stop() returns, and the stored cursor never
//   moves past it.
// - Exceptions thrown by a callback are caught and logged; the notification counts as
//   handed over.
// - With ClientOptions::delivery_receipt = DeliveryReceipt::acknowledged, "handed
//   over" above means acknowledged (Client::acknowledge): the stored cursor follows the
//   application's acknowledgements instead of the callback's return.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "herald/cursor_store.hpp"
#include "herald/error.hpp"
#include "herald/events.hpp"
#include "herald/export.hpp"
#include "herald/notification.hpp"
#include "herald/proxy.hpp"
#include "herald/tls.hpp"
#include "herald/token_provider.hpp"

namespace boost::asio {
class any_io_executor;
}

namespace herald {

/// When a notification counts as taken by the application: the stored cursor (the
/// CursorStore, so what a restart of the process resumes from) never moves past one
/// that was not. Within a running client every notification is handed over once
/// either way; a reconnect resumes after the last one handed to on_notification.
enum class DeliveryReceipt {
  /// When on_notification returned (or threw). Default.
  callback_returned,
  /// When the application called Client::acknowledge() with its id or a later one's,
  /// for example once it committed the notification to its own database, or once the
  /// thread it posted the notification to showed it. Notifications delivered and not
  /// acknowledged are delivered again by the next client on the same store.
  acknowledged,
};

/// Runs a task on the application's side: posts it to a UI event loop, a serial queue, a
/// worker. See ClientOptions::callback_dispatcher.
using CallbackDispatcher = std::function<void(std::function<void()> task)>;

/// Every setting of a client. Only `url` (or `urls`) and `token_provider` are required.
struct ClientOptions {
  /// ws:// or wss:// URL of the stream endpoint, e.g. "wss://host/v1/stream".
  /// Must not carry a token in its query (token, access_token, jwt): rejected.
  std::string url;
  /// More stream endpoints (same rules as `url`), e.g. one per region or instance; `url`
  /// may then stay empty. The client puts `url` and these in a random order once (so a
  /// fleet configured alike does not stampede the first one) and connects to the
  /// current one; after a failed attempt or a lost connection the next one becomes
  /// current, with the normal backoff between attempts. ClientMetrics::endpoint names
  /// the one in use. The endpoints must serve the same streams (one store): the cursor
  /// carries over. Default empty.
  std::vector<std::string> urls;
  /// Where tokens come from. Required.
  std::shared_ptr<TokenProvider> token_provider;
  /// Where the cursor lives. Default: a MemoryCursorStore (catch-up across reconnects,
  /// not across restarts of the process).
  std::shared_ptr<CursorStore> cursor_store;
  /// Log lines go here. Default: nowhere.
  LogSink logger;
  /// Minimum level passed to `logger`. Default: info.
  LogLevel log_level = LogLevel::info;

  /// Deadline of one connection attempt, from name resolution to the end of the
  /// WebSocket upgrade (TCP connect, the proxy tunnel and the TLS handshakes included).
  /// Must be positive. Default 10 s.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Timeout of one TokenProvider::fetch. Default 30 s.
  std::chrono::milliseconds token_timeout{30'000};
  /// Reconnect backoff: the n-th consecutive failure waits a random time in
  /// [0, min(backoff_max, backoff_initial * 2^n)] (capped exponential, full jitter).
  /// Defaults 500 ms and 30 s.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  /// Turns the jitter off: every client then waits exactly min(max, initial * 2^n).
  /// Only for demonstrating reconnect storms; keep it on in production. Default true.
  bool backoff_jitter = true;
  /// The backoff starts over only after a connection stayed up this long after its
  /// catch-up (a server that accepts and closes at once sees growing delays). Default 10 s.
  std::chrono::milliseconds backoff_reset_after{10'000};
  /// Stop with errc::retries_exhausted after this many consecutive failed attempts.
  /// Default 0: retry forever.
  std::uint32_t max_attempts = 0;
  /// Stop with errc::retries_exhausted after failing for this long without a stable
  /// connection. Default 0: retry forever.
  std::chrono::milliseconds max_elapsed{0};
  /// Largest server frame accepted; bigger ones close the connection with 1009.
  /// Default 1 MiB.
  std::size_t max_frame_bytes = 1 << 20;
  /// Offer permessage-deflate (RFC 7692) in the upgrade. Used only when the server
  /// accepts it (herald-server --permessage-deflate); otherwise frames flow uncompressed
  /// as before. `max_frame_bytes` still bounds the decompressed size of each message.
  /// Default false, because (see docs/networks.md, "Compression"):
  /// - memory: each compressing connection keeps zlib state (a 32 KiB window per
  ///   direction plus deflate's tables, about 140 KiB more per connection on the
  ///   server, tens of KiB on the client);
  /// - secrecy: with context takeover, a message's compressed size depends on what was
  ///   sent before it, so an attacker who can put chosen text into notifications next
  ///   to a secret (a token, a one-time code) and see frame sizes can guess the secret
  ///   byte by byte (CRIME/BREACH).
  /// Turn it on for large, repetitive payloads on slow links, when no notification
  /// mixes secrets with attacker-chosen data.
  bool permessage_deflate = false;
  /// TLS of wss:// URLs: trust (system store by default, plus CA file, directory or PEM,
  /// or a verification hook), pins, client certificate, lowest version. Validated by the
  /// constructor (std::invalid_argument naming the field, e.g. "ClientOptions.tls.pins").
  /// For ws:// only used to verify an https:// proxy. Default: the system's trust
  /// store, TLS 1.2+. See herald/tls.hpp.
  TlsOptions tls;
  /// The proxy that carries the connection: HTTP CONNECT through an http:// or
  /// https:// proxy (Basic credentials from the URL's user info), or SOCKS5. Validated
  /// by the constructor (std::invalid_argument naming the field, never quoting the URL).
  /// Nothing is read from the environment unless the application asks for it:
  /// `proxy = ProxyOptions::from_environment()`. An https:// proxy's certificate is
  /// verified against its own host name with the trust of `tls` (system store, CA
  /// file, directory or PEM, verifier); `tls.pins` and the client certificate are for
  /// the stream server only. Default: none (connect directly). See herald/proxy.hpp.
  ProxyOptions proxy;
  /// Where the callbacks (on_notification, on_state, on_gap) run. Empty (default): on
  /// the client's I/O thread. Set: each callback is given to it as a task, in order, and
  /// it must run them one at a time in that order (a serial queue); it may drop tasks
  /// (a queue destroyed with tasks in it) and must not run one inline from inside the
  /// client (it is called on the I/O thread). With DeliveryReceipt::callback_returned a
  /// notification counts as taken when its task's callback returned, so what was queued
  /// and never run is delivered again by the next client on the same store. stop(), from
  /// any thread, waits for a callback running on another thread and drops the tasks not
  /// run yet; from inside a callback it does not wait and that callback's notification
  /// counts as taken. (Called on the client's I/O thread — from a token provider or the
  /// logger — it cannot wait: a callback running at that moment may still finish after.)
  /// A setter (on_notification, ...) applies to tasks dispatched after it returned.
  /// Exceptions of a callback are caught and logged (on the I/O thread); of the
  /// dispatcher itself too (that callback is dropped).
  CallbackDispatcher callback_dispatcher;
  /// When the stored cursor may move past a notification. Default: when on_notification
  /// returned. See DeliveryReceipt.
  DeliveryReceipt delivery_receipt = DeliveryReceipt::callback_returned;
  /// How often buffered cursor writes are flushed. Must not be negative. Default 1 s.
  std::chrono::milliseconds cursor_flush_interval{1'000};
  /// A server's Retry-After (429/503) is a floor for the next attempt, but never more
  /// than this: a longer one counts as this long, so a server cannot park a client
  /// indefinitely. Must be positive. Default 5 min.
  std::chrono::milliseconds retry_after_max{300'000};
  /// reconnect_now() inside a Retry-After window (the network changed, so the refusal
  /// may not hold any more) moves the next attempt to this long after the call, unless
  /// the window ends sooner; later calls inside the window do not move it again. So a
  /// refused client tries at most once per this interval however often reconnect_now()
  /// is called. 0: at once. Default 5 s.
  std::chrono::milliseconds reconnect_now_within{5'000};

  /// Proactive token refresh. A token whose expiry is known (Token::expires_at, else the
  /// JWT's `exp`) is replaced before it expires, without the application seeing a state
  /// change, a gap or a duplicate: in-band (`reauth`) when the server advertises it,
  /// otherwise by make-before-break (a second connection with the new token and the
  /// cursor, switched to at its catch-up). The refresh falls at
  /// `token_refresh_at` × lifetime (iat → exp; a token without `iat` counts from its
  /// arrival), or `token_refresh_interval` after issue when that is set, moved by a
  /// random ±`token_refresh_spread` × lifetime, and never later than 30 s before expiry
  /// (a token shorter than 2 minutes: never later than 75 % into its life). Failed or
  /// timed-out fetches are retried with backoff while the current token is valid; a
  /// refresh that falls due while disconnected makes the next attempt fetch first. No
  /// attempt is ever made with a token known to be expired. Default on.
  bool token_refresh = true;
  /// Fraction of the token's lifetime at which it is refreshed, in (0, 1). Default 0.75
  /// (45 minutes for a one-hour token).
  double token_refresh_at = 0.75;
  /// When positive: refresh this long after the token was issued instead (still never
  /// later than the deadline above). Default 0 (use the fraction).
  std::chrono::milliseconds token_refresh_interval{0};
  /// Random spread, as a fraction of the lifetime, in [0, 0.2]: a fleet that connected
  /// together does not refresh together. Default 0.05 (±3 minutes for one hour).
  double token_refresh_spread = 0.05;
};

/// Counters for dashboards and tests; a consistent snapshot.
struct ClientMetrics {
  State state = State::idle;
  /// Connections whose WebSocket upgrade succeeded, switch connections included.
  std::uint64_t connects = 0;
  /// Connections opened to replace one that was lost (the application saw
  /// `reconnecting`); the first connection and switches are not reconnects.
  std::uint64_t reconnects = 0;
  /// Make-before-break switches completed (drain, reconnect_now() while connected, a
  /// token refresh without reauth); invisible to the application.
  std::uint64_t switches = 0;
  /// Notifications handed to on_notification (with a callback_dispatcher: given to it
  /// as tasks, whether or not the task ran yet).
  std::uint64_t notifications_delivered = 0;
  /// Notifications dropped because the server sent them twice on one connection (or
  /// replayed at or below the cursor the connection resumed from). The overlap of the
  /// two connections of a switch, each carrying the same ids, is not counted.
  std::uint64_t duplicates_dropped = 0;
  /// Proactive token refreshes completed on a live connection (in-band or by switching).
  std::uint64_t token_refreshes = 0;
  /// The id of the last notification handed to on_notification (or the stored cursor
  /// before the first): where a reconnect resumes. Under DeliveryReceipt::acknowledged
  /// the stored cursor may be behind it.
  std::optional<std::uint64_t> cursor;
  std::error_code last_error;
  /// The delay chosen for the pending (or last) reconnect.
  std::chrono::milliseconds current_backoff{0};
  /// wss://: TLS handshakes that resumed the session of an earlier connection (no
  /// certificate exchange; see docs/networks.md for the time saved).
  std::uint64_t tls_sessions_resumed = 0;
  /// When reconnecting: the moment of the next attempt.
  std::optional<std::chrono::system_clock::time_point> next_attempt_at;
  /// The stream URL of the latest connection attempt, as configured in
  /// ClientOptions::url or ::urls ("" before the first attempt).
  std::string endpoint;
};

class HERALD_API Client {
 public:
  /// Owns one I/O thread. Throws std::invalid_argument naming the bad field.
  explicit Client(ClientOptions options);
  /// Runs on `executor` (share one io_context among many clients). Callbacks run there.
  /// Do not call stop() or destroy the client from a thread that must run `executor`
  /// for stop() to complete, unless from inside this client's own callbacks.
  /// Build the application with the Boost version Herald was built with (the CMake
  /// package asks for it exactly) and without BOOST_ASIO_DISABLE_VISIBILITY: Herald
  /// ships no compiled Asio, and the app's Asio (header-only or separately compiled)
  /// and Herald's share one copy of Asio's state (docs/packaging.md).
  Client(ClientOptions options, const boost::asio::any_io_executor& executor);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Set or replace a callback (an empty function: none). Any thread, any time, also
  /// from inside a callback; see "Threading and lifetime" above.
  void on_notification(std::function<void(const Notification&)> cb);
  void on_state(std::function<void(const StateEvent&)> cb);
  void on_gap(std::function<void(const GapEvent&)> cb);

  /// Starts connecting. Calling it again, or after stop(), does nothing.
  void start();
  /// Closes the connection, flushes the cursor; no callback and no call of the cursor
  /// store happens after it returns. From inside on_notification: that notification's
  /// id is saved and flushed before stop() returns.
  void stop();

  /// Tells the client that the network changed or the app came to the foreground. A
  /// client waiting to retry tries at once (its backoff starts over) — or, when the
  /// server asked it to wait (Retry-After), within `reconnect_now_within` (5 s); a
  /// connected one opens a fresh connection and switches to it once caught up, without
  /// a visible state change (make-before-break). Any thread; does nothing when stopped.
  void reconnect_now();

  /// DeliveryReceipt::acknowledged: the application has taken notification `id` and
  /// every one delivered before it (acknowledge in the order of delivery; one call for
  /// the latest of a batch is enough). The stored cursor moves to it; it is flushed
  /// within `cursor_flush_interval` and by stop(). Any thread, any time, also from inside
  /// on_notification. An id that was not delivered by this client or was acknowledged
  /// already does nothing, and so does a call after stop() began: acknowledge before
  /// stopping what should count as taken. With DeliveryReceipt::callback_returned it
  /// does nothing.
  void acknowledge(std::uint64_t id);

  ClientMetrics metrics() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald
