// FaultProxy implementation: one io_context thread; per connection a Session with two
// Pumps (client -> server, server -> client), each owning one bounded buffer. A Pump
// reads a chunk, then writes it out under the current fault, then reads again.
#include "herald/testing/fault_proxy.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace herald::testkit {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

const char* to_string(Fault::Kind k) noexcept {
  switch (k) {
    case Fault::Kind::none: return "none";
    case Fault::Kind::reset_peer: return "reset_peer";
    case Fault::Kind::blackhole: return "blackhole";
    case Fault::Kind::latency: return "latency";
    case Fault::Kind::cut_after: return "cut_after";
    case Fault::Kind::slicer: return "slicer";
    case Fault::Kind::bandwidth: return "bandwidth";
    case Fault::Kind::refuse: return "refuse";
  }
  return "?";
}

namespace {

/// What the test thread and the I/O thread share, under one mutex.
struct Shared {
  mutable std::mutex m;
  mutable std::condition_variable cv;
  Fault fault;
  std::uint64_t generation = 0;  // bumped by every set_fault()
  std::uint16_t upstream = 0;
  FaultProxyCounters counters;

  template <class F>
  void update(F&& f) {
    {
      std::lock_guard l(m);
      f(counters);
    }
    cv.notify_all();
  }
  std::pair<Fault, std::uint64_t> current() const {
    std::lock_guard l(m);
    return {fault, generation};
  }
};

constexpr std::size_t kBufferBytes = 16 * 1024;

class Session;

/// One direction of a session.
struct Pump {
  Pump(asio::io_context& io, tcp::socket& f, tcp::socket& t, bool down) : from(f), to(t), timer(io), downstream(down) {}
  tcp::socket& from;
  tcp::socket& to;
  asio::steady_timer timer;
  bool downstream;
  std::array<char, kBufferBytes> buf{};
  std::size_t len = 0;
  std::size_t off = 0;
  bool delayed = false;  // latency already applied to the chunk in buf
  bool eof = false;      // `from` sent FIN and everything was forwarded
  std::uint64_t generation = ~std::uint64_t{0};
  std::uint64_t cut_remaining = 0;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, tcp::socket client, std::shared_ptr<Shared> shared)
      : client_(std::move(client)),
        server_(io),
        shared_(std::move(shared)),
        up_(io, client_, server_, false),
        down_(io, server_, client_, true) {}

  void start(std::uint16_t upstream_port) {
    auto self = shared_from_this();
    server_.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), upstream_port), [self](const error_code& ec) {
      if (self->closed_) return;
      if (ec) {
        self->shared_->update([](FaultProxyCounters& c) { ++c.connections_refused; });
        self->close();
        return;
      }
      error_code ignore;
      self->client_.set_option(tcp::no_delay(true), ignore);
      self->server_.set_option(tcp::no_delay(true), ignore);
      self->connected_ = true;
      self->shared_->update([](FaultProxyCounters& c) { ++c.open_connections; });
      self->forward(self->up_);
      self->forward(self->down_);
    });
  }

  /// A fault was switched: wake paused pumps, act on reset/refuse.
  void on_fault_changed(Fault::Kind kind) {
    if (closed_) return;
    if (kind == Fault::Kind::reset_peer) {
      reset();
      return;
    }
    if (kind == Fault::Kind::refuse) {
      close();
      return;
    }
    up_.timer.cancel();
    down_.timer.cancel();
  }

  /// Graceful close of both sides (FIN; RST where unread data remains). `cut`: counted
  /// as a cut_after cut (in the same counter update, so waiters see both at once).
  void close(bool cut = false) {
    if (closed_) return;
    closed_ = true;
    error_code ignore;
    up_.timer.cancel();
    down_.timer.cancel();
    client_.shutdown(tcp::socket::shutdown_both, ignore);
    server_.shutdown(tcp::socket::shutdown_both, ignore);
    client_.close(ignore);
    server_.close(ignore);
    shared_->update([&](FaultProxyCounters& c) {
      if (connected_) --c.open_connections;
      if (cut) ++c.cuts;
    });
  }

  /// Abortive close of both sides: the peers see RST.
  void reset() {
    if (closed_) return;
    error_code ignore;
    client_.set_option(asio::socket_base::linger(true, 0), ignore);
    server_.set_option(asio::socket_base::linger(true, 0), ignore);
    closed_ = true;
    up_.timer.cancel();
    down_.timer.cancel();
    client_.close(ignore);
    server_.close(ignore);
    shared_->update([&](FaultProxyCounters& c) {
      if (connected_) --c.open_connections;
      ++c.resets;
    });
  }

 private:
  void wait_then_forward(Pump& p, std::chrono::steady_clock::duration d) {
    p.timer.expires_after(d);
    p.timer.async_wait([self = shared_from_this(), &p](const error_code&) {
      if (!self->closed_) self->forward(p);
    });
  }

  void forward(Pump& p) {
    if (closed_ || p.eof) return;
    const auto [fault, generation] = shared_->current();
    if (generation != p.generation) {
      p.generation = generation;
      p.cut_remaining = fault.bytes;
    }
    const bool cut = p.downstream && fault.kind == Fault::Kind::cut_after;
    if (cut && p.cut_remaining == 0) {
      close(/*cut=*/true);
      return;
    }
    if (fault.kind == Fault::Kind::blackhole) {  // park until the fault changes
      wait_then_forward(p, std::chrono::hours{24});
      return;
    }
    if (p.off == p.len) {
      read(p);
      return;
    }
    if (fault.kind == Fault::Kind::latency && !p.delayed) {
      p.delayed = true;
      wait_then_forward(p, fault.delay);
      return;
    }
    std::size_t chunk = p.len - p.off;
    if (p.downstream && fault.kind == Fault::Kind::slicer) chunk = 1;
    std::chrono::nanoseconds pause{0};
    if (fault.kind == Fault::Kind::bandwidth) {
      const std::uint64_t slice = fault.bytes_per_second / 50 > 0 ? fault.bytes_per_second / 50 : 1;
      chunk = std::min<std::size_t>(chunk, static_cast<std::size_t>(slice));
      pause = std::chrono::nanoseconds{static_cast<std::int64_t>(chunk * 1'000'000'000ull / fault.bytes_per_second)};
    }
    if (cut) chunk = std::min<std::size_t>(chunk, static_cast<std::size_t>(p.cut_remaining));
    asio::async_write(p.to, asio::buffer(p.buf.data() + p.off, chunk),
                      [self = shared_from_this(), &p, pause, cut](const error_code& ec, std::size_t n) {
                        if (self->closed_) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        p.off += n;
                        if (cut) p.cut_remaining -= std::min<std::uint64_t>(p.cut_remaining, n);
                        self->shared_->update([&](FaultProxyCounters& c) {
                          (p.downstream ? c.bytes_downstream : c.bytes_upstream) += n;
                        });
                        if (pause.count() > 0) {
                          self->wait_then_forward(p, pause);
                        } else {
                          self->forward(p);
                        }
                      });
  }

  void read(Pump& p) {
    p.from.async_read_some(asio::buffer(p.buf), [self = shared_from_this(), &p](const error_code& ec, std::size_t n) {
      if (self->closed_) return;
      if (ec == asio::error::eof) {  // half-close: pass the FIN on
        p.eof = true;
        error_code ignore;
        p.to.shutdown(tcp::socket::shutdown_send, ignore);
        if (self->up_.eof && self->down_.eof) self->close();
        return;
      }
      if (ec) {
        self->close();
        return;
      }
      p.len = n;
      p.off = 0;
      p.delayed = false;
      self->forward(p);
    });
  }

  tcp::socket client_;
  tcp::socket server_;
  std::shared_ptr<Shared> shared_;
  Pump up_;
  Pump down_;
  bool closed_ = false;
  bool connected_ = false;
};

}  // namespace

struct FaultProxy::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::vector<std::weak_ptr<Session>> sessions;  // I/O thread only
  std::uint16_t port = 0;
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
        accept();
        return;
      }
      const Fault fault = shared->current().first;
      std::uint16_t upstream_port = 0;
      {
        std::lock_guard l(shared->m);
        upstream_port = shared->upstream;
      }
      shared->update([](FaultProxyCounters& c) { ++c.connections_accepted; });
      if (fault.kind == Fault::Kind::refuse) {
        shared->update([](FaultProxyCounters& c) { ++c.connections_refused; });
        error_code ignore;
        socket.shutdown(tcp::socket::shutdown_both, ignore);
        socket.close(ignore);
      } else {
        auto s = std::make_shared<Session>(io, std::move(socket), shared);
        std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
        sessions.push_back(s);
        s->start(upstream_port);
      }
      accept();
    });
  }

  template <class F>
  void for_each_session(F f) {
    for (auto& w : sessions) {
      if (auto s = w.lock()) f(*s);
    }
  }
};

FaultProxy::FaultProxy(std::uint16_t upstream_port) : impl_(std::make_shared<Impl>()) {
  impl_->shared->upstream = upstream_port;
  const tcp::endpoint ep(asio::ip::address_v4::loopback(), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

FaultProxy::~FaultProxy() {
  asio::post(impl_->io, [impl = impl_.get()] {
    error_code ignore;
    impl->acceptor.close(ignore);
    impl->for_each_session([](Session& s) { s.close(); });
    impl->sessions.clear();
  });
  impl_->thread.join();
}

std::uint16_t FaultProxy::port() const { return impl_->port; }

std::string FaultProxy::url(std::string_view path) const {
  return "ws://127.0.0.1:" + std::to_string(impl_->port) + std::string(path);
}

void FaultProxy::set_upstream(std::uint16_t port) {
  std::lock_guard l(impl_->shared->m);
  impl_->shared->upstream = port;
}

std::uint16_t FaultProxy::upstream() const {
  std::lock_guard l(impl_->shared->m);
  return impl_->shared->upstream;
}

void FaultProxy::set_fault(const Fault& fault) {
  {
    std::lock_guard l(impl_->shared->m);
    // reset_peer acts once on the current connections; new ones are not affected.
    impl_->shared->fault = fault.kind == Fault::Kind::reset_peer ? Fault::none() : fault;
    ++impl_->shared->generation;
  }
  asio::post(impl_->io, [impl = impl_.get(), kind = fault.kind] {
    impl->for_each_session([kind](Session& s) { s.on_fault_changed(kind); });
  });
}

Fault FaultProxy::fault() const {
  std::lock_guard l(impl_->shared->m);
  return impl_->shared->fault;
}

FaultProxyCounters FaultProxy::counters() const {
  std::lock_guard l(impl_->shared->m);
  return impl_->shared->counters;
}

bool FaultProxy::wait(const std::function<bool(const FaultProxyCounters&)>& pred,
                      std::chrono::milliseconds timeout) const {
  std::unique_lock l(impl_->shared->m);
  return impl_->shared->cv.wait_for(l, timeout, [&] { return pred(impl_->shared->counters); });
}

}  // namespace herald::testkit
