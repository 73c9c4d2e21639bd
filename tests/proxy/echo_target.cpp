#include "proxy/echo_target.hpp"

#include <array>
#include <mutex>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace herald::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Handlers hold a plain pointer: the Impl outlives them (its io_context destroys them).
struct EchoTarget::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  mutable std::mutex mutex;
  std::string received;
  std::thread thread;

  void accept() {
    acceptor.async_accept([self = this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      self->echo(std::make_shared<tcp::socket>(std::move(socket)), std::make_shared<std::array<char, 4096>>());
      self->accept();
    });
  }

  void echo(std::shared_ptr<tcp::socket> socket, std::shared_ptr<std::array<char, 4096>> buffer) {
    socket->async_read_some(asio::buffer(*buffer),
                            [self = this, socket, buffer](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;
                              {
                                std::lock_guard lock(self->mutex);
                                self->received.append(buffer->data(), n);
                              }
                              asio::async_write(*socket, asio::buffer(buffer->data(), n),
                                                [self, socket, buffer](boost::system::error_code wec, std::size_t) {
                                                  if (!wec) self->echo(socket, buffer);
                                                });
                            });
  }
};

EchoTarget::EchoTarget() : impl_(std::make_unique<Impl>()) {
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

EchoTarget::~EchoTarget() {
  impl_->ioc.stop();
  impl_->thread.join();
}

std::uint16_t EchoTarget::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string EchoTarget::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

}  // namespace herald::test
