// One cancellation signal per kind of WebSocket operation (at most one of each is in
// flight), to end operations Beast 1.81 has parked on its own locks: when a frame
// fails the connection while our close runs, the close waits for the read lock and
// the read for the write lock, with no socket operation left that closing the socket
// would end. Bind each operation's handler to its slot; cancel_all() completes every
// parked one with operation_aborted. Used by the SDK's connection and the server's
// WebSocket session. Declare it before the websocket::stream whose handlers it serves.
#pragma once

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

namespace herald::asio_support {

struct ParkedOpCancellation {
  boost::asio::cancellation_signal read;
  boost::asio::cancellation_signal write;
  boost::asio::cancellation_signal ping;
  boost::asio::cancellation_signal close;

  void cancel_all() {
    const auto terminal = boost::asio::cancellation_type::terminal;
    read.emit(terminal);
    write.emit(terminal);
    ping.emit(terminal);
    close.emit(terminal);
  }
};

}  // namespace herald::asio_support
