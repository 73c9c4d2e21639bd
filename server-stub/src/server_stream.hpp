// The stream an HTTP or WebSocket session of the server runs on: plain TCP or TLS,
// behind one interface (herald_asio/erased_stream.hpp), with its TCP layer at hand for
// the sessions' timeouts.
#pragma once

#include <boost/beast/core/tcp_stream.hpp>

#include "herald_asio/erased_stream.hpp"

namespace herald::server::detail {

class ServerStream : public asio_support::ByteStream {
 public:
  virtual boost::beast::tcp_stream& tcp() = 0;
};

/// ServerStream over beast::tcp_stream or TlsStream.
template <class Stream>
using ServerStreamOver = asio_support::ByteStreamOver<Stream, ServerStream>;

using ErasedServerStream = asio_support::ErasedStream<ServerStream>;

}  // namespace herald::server::detail
