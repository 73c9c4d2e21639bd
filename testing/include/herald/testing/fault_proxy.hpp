// FaultProxy: an in-process TCP proxy on 127.0.0.1:0 that forwards to an upstream
// 127.0.0.1:<port> and injects named faults (after Shopify toxiproxy's names), so tests
// can break a live connection on purpose instead of waiting for luck.
//
//   herald::testkit::FaultProxy proxy(server_port);
//   opts.url = proxy.url();                        // ws://127.0.0.1:<proxy port>/v1/stream
//   proxy.set_fault(herald::testkit::Fault::blackhole());
//   ...
//   proxy.set_fault(herald::testkit::Fault::none());  // traffic flows again
//
// Faults apply to the connections open when set_fault() is called and to new ones:
// - none:           forward both ways.
// - reset_peer:     an action, not a state: every current connection is reset on both
//                   sides now (SO_LINGER 0 + close, the peers see RST); the fault then
//                   reverts to none.
// - blackhole:      forwarding stops in both directions; nothing is closed. Connections
//                   (also new ones, whose upgrade then hangs) resume when it is cleared.
// - latency(d):     every chunk read from either side is held d before it is written.
// - cut_after(n):   each connection forwards at most n more bytes server -> client (n
//                   counted from set_fault() for current connections, from the accept for
//                   new ones), then both sides are closed. Lets a test cut inside a frame.
// - slicer:         server -> client bytes are written one byte per write (TCP_NODELAY).
// - bandwidth(bps): each direction of each connection forwards about bps bytes/s.
// - refuse:         new connections are accepted and closed at once (a flapping server);
//                   current connections are closed too.
// A connection whose upstream cannot be reached is closed at once.
//
// Thread safety: every member function may be called from any thread, concurrently. The
// proxy runs its I/O on one thread of its own. Memory per connection is bounded (one
// 16 KiB buffer per direction; a direction reads again only after it wrote what it had).
// The destructor closes every connection and joins the thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace herald::testkit {

/// A named fault and its parameter. Build one with the named constructors.
struct Fault {
  enum class Kind { none, reset_peer, blackhole, latency, cut_after, slicer, bandwidth, refuse };
  Kind kind = Kind::none;
  std::chrono::milliseconds delay{0};  ///< latency: added to every chunk
  std::uint64_t bytes = 0;             ///< cut_after: server -> client bytes before the cut
  std::uint64_t bytes_per_second = 0;  ///< bandwidth: per direction and connection (>= 1)

  static Fault none() { return {}; }
  static Fault reset_peer() { return {Kind::reset_peer, {}, 0, 0}; }
  static Fault blackhole() { return {Kind::blackhole, {}, 0, 0}; }
  static Fault latency(std::chrono::milliseconds d) { return {Kind::latency, d, 0, 0}; }
  static Fault cut_after(std::uint64_t n) { return {Kind::cut_after, {}, n, 0}; }
  static Fault slicer() { return {Kind::slicer, {}, 0, 0}; }
  static Fault bandwidth(std::uint64_t bps) { return {Kind::bandwidth, {}, 0, bps < 1 ? 1 : bps}; }
  static Fault refuse() { return {Kind::refuse, {}, 0, 0}; }
};

const char* to_string(Fault::Kind k) noexcept;

/// What the proxy has done since it was constructed; a consistent snapshot.
struct FaultProxyCounters {
  std::uint64_t connections_accepted = 0;  ///< TCP connections accepted from clients
  std::uint64_t connections_refused = 0;   ///< closed at once (refuse, or upstream down)
  std::uint64_t bytes_upstream = 0;        ///< client -> server bytes forwarded
  std::uint64_t bytes_downstream = 0;      ///< server -> client bytes forwarded
  std::uint64_t cuts = 0;                  ///< connections closed by cut_after
  std::uint64_t resets = 0;                ///< connections reset by reset_peer
  std::size_t open_connections = 0;        ///< connections being forwarded now
};

class FaultProxy {
 public:
  /// Listens on 127.0.0.1:0 and starts the I/O thread. Throws std::system_error when it
  /// cannot listen.
  explicit FaultProxy(std::uint16_t upstream_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  /// The port the proxy listens on.
  std::uint16_t port() const;
  /// "ws://127.0.0.1:<port><path>".
  std::string url(std::string_view path = "/v1/stream") const;

  /// New connections go to 127.0.0.1:`port` (current ones keep their upstream).
  void set_upstream(std::uint16_t port);
  std::uint16_t upstream() const;

  /// Switches the fault (see the file comment); takes effect at once.
  void set_fault(const Fault& fault);
  Fault fault() const;

  FaultProxyCounters counters() const;
  /// Waits until `pred(counters())` holds or `timeout` passes; returns whether it holds.
  bool wait(const std::function<bool(const FaultProxyCounters&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds{15}) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::testkit
