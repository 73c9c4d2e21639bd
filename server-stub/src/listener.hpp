// Accepts TCP connections and hands each to an HTTP session.
#pragma once

#include <cstdint>
#include <memory>

#include "beast_types.hpp"
#include "server_core.hpp"

namespace herald::server::detail {

/// I/O thread only, except the constructor and port().
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  /// Opens, binds (SO_REUSEADDR) and listens. Throws boost::system::system_error.
  Listener(ServerCore& core, const tcp::endpoint& endpoint);
  std::uint16_t port() const noexcept { return port_; }
  void run();
  void close();

 private:
  void do_accept();
  ServerCore& core_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
};

}  // namespace herald::server::detail
