#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/socket_base.hpp>

#include "sessions.hpp"

namespace herald::server::detail {

Listener::Listener(ServerCore& core, const tcp::endpoint& endpoint) : core_(core), acceptor_(core.io()) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void Listener::run() { do_accept(); }

void Listener::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Listener::do_accept() {
  acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      start_http_session(self->core_, std::move(socket));
    }
    self->do_accept();
  });
}

}  // namespace herald::server::detail
