// herald::server::Server: owns the io_context, its thread, the listener and the core.
#include "herald/server/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "listener.hpp"
#include "server_core.hpp"

namespace herald::server {

namespace asio = boost::asio;

struct Server::Impl {
  explicit Impl(ServerOptions options) : core(std::move(options), io) {}

  asio::io_context io{1};
  detail::ServerCore core;  // after io: destroyed before it
  std::shared_ptr<detail::Listener> listener;
  std::thread thread;
  std::future<void> ran_out;  // ready when the I/O thread's run() returned
  std::mutex mutex;
  bool started = false;
  bool stopped = false;
  std::atomic<std::uint16_t> port{0};
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() { stop(); }

std::uint16_t Server::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->started) throw std::logic_error("Server::start called twice");
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(impl_->core.options().listen_address, ec);
  if (ec) throw std::invalid_argument("ServerOptions.listen_address is not an IP address");
  const detail::tcp::endpoint endpoint(address, impl_->core.options().port);
  impl_->listener = std::make_shared<detail::Listener>(impl_->core, endpoint);  // may throw
  impl_->port = impl_->listener->port();
  impl_->listener->run();
  impl_->started = true;
  std::promise<void> done;
  impl_->ran_out = done.get_future();
  impl_->thread = std::thread([impl = impl_.get(), done = std::move(done)]() mutable {
    for (;;) {
      try {
        impl->io.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("unexpected exception on the I/O thread: {}", e.what());
      }
    }
    done.set_value();
  });
  spdlog::info("listening on {}:{}", impl_->core.options().listen_address, impl_->port.load());
  return impl_->port;
}

void Server::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->listener->close();
    impl->core.shutdown();
  });
  impl_->core.mark_stopped();
  // Sessions close with 1001 and are cut after a grace period; run() then runs out of
  // work. The deadline only guards against a handler that never completes.
  if (impl_->ran_out.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    spdlog::warn("server did not stop in time; stopping the I/O loop");
    impl_->io.stop();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  spdlog::info("server stopped");
}

std::uint16_t Server::port() const { return impl_->port; }

std::uint64_t Server::publish(const std::string& user_id, const std::string& topic, const std::string& data_json) {
  return impl_->core.publish(user_id, topic, data_json);
}

std::string Server::issue_token(const std::string& user_id, std::chrono::seconds ttl) {
  return impl_->core.issue_token(user_id, ttl);
}

std::size_t Server::connection_count() const { return impl_->core.connections().live_count(); }

bool Server::wait_connection_count(std::size_t n, std::chrono::milliseconds timeout) const {
  return impl_->core.connections().wait_live_count(n, std::chrono::steady_clock::now() + timeout);
}

std::int64_t Server::revoke(const std::string& user_id) { return impl_->core.revoke(user_id); }

std::chrono::milliseconds Server::drain(std::chrono::milliseconds window) { return impl_->core.drain(window); }

bool Server::draining() const { return impl_->core.draining(); }

void Server::wait_drained() { impl_->core.wait_drained(); }

bool Server::wait_drained_for(std::chrono::milliseconds timeout) {
  // Bounded so that a huge timeout cannot overflow the clock arithmetic.
  const auto bounded = std::min(timeout, std::chrono::milliseconds(std::chrono::hours(24 * 365)));
  return impl_->core.wait_drained_until(std::chrono::steady_clock::now() + bounded);
}

}  // namespace herald::server
