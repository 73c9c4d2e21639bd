// A Beast stream behind a virtual interface, so that a beast::websocket::stream is
// compiled once (over ErasedStream) however many stream types run under it: the SDK
// has four (TCP or TLS, with or without TLS to an https:// proxy), the reference
// server two (ws://, wss://). One Beast WebSocket instantiation per stream type made
// one file take ~7 minutes to compile (over 15 with a sanitizer). The price is one
// virtual call and one handler allocation per read and per write.
//
//   websocket::stream<ErasedStream> ws(
//       ErasedStream(std::make_unique<ByteStreamOver<beast::tcp_stream>>(std::move(tcp))));
//
// Completions run on the stream's executor (all our handlers do anyway).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace herald::asio_support {

/// At most this many buffers of a sequence go into one read or write. A stream may
/// transfer fewer bytes than offered, so the caller simply continues with the rest.
inline constexpr std::size_t kMaxBuffersPerTransfer = 8;
template <class Buffer>
using BufferArray = std::array<Buffer, kMaxBuffersPerTransfer>;

/// The first non-empty buffers of `sequence` (the remaining slots are empty).
template <class Buffer, class Sequence>
BufferArray<Buffer> first_buffers(const Sequence& sequence) {
  BufferArray<Buffer> out{};
  std::size_t n = 0;
  for (auto it = boost::asio::buffer_sequence_begin(sequence);
       it != boost::asio::buffer_sequence_end(sequence) && n < out.size(); ++it) {
    Buffer b(*it);
    if (b.size() != 0) out[n++] = b;
  }
  return out;
}

/// Up to this many bytes of a sequence of more buffers than a BufferArray holds are
/// copied into one (as beast::flat_stream does): an HTTP header of many small pieces
/// then goes out in one write and one TLS record. In pieces, a server that refuses the
/// connection right after the TLS handshake (TLS 1.3: no client certificate) resets it
/// under the later pieces, and the write's "broken pipe" hides the TLS alert.
inline constexpr std::size_t kCoalesceLimit = 16 * 1024;

/// What to write of `sequence`: its buffers, or its first bytes copied into `scratch`
/// (which must outlive the write) when they do not fit in a BufferArray.
template <class Sequence>
BufferArray<boost::asio::const_buffer> buffers_to_write(const Sequence& sequence, std::vector<char>& scratch) {
  std::size_t count = 0;
  for (auto it = boost::asio::buffer_sequence_begin(sequence); it != boost::asio::buffer_sequence_end(sequence); ++it) {
    if (boost::asio::const_buffer(*it).size() != 0) ++count;
  }
  if (count <= kMaxBuffersPerTransfer) return first_buffers<boost::asio::const_buffer>(sequence);
  scratch.resize(std::min(kCoalesceLimit, boost::asio::buffer_size(sequence)));
  scratch.resize(boost::asio::buffer_copy(boost::asio::buffer(scratch), sequence));
  BufferArray<boost::asio::const_buffer> out{};
  out[0] = boost::asio::buffer(scratch);
  return out;
}

/// The handler, to run on `ex`. An any_completion_handler cannot be handed to Asio's
/// SSL or Beast's operations directly in Boost 1.81: its executor
/// (any_completion_executor) does not support require(blocking.never), which they use.
template <class Handler>
auto on_executor(const boost::asio::any_io_executor& ex, Handler handler) {
  return boost::asio::bind_executor(
      ex, [h = std::move(handler)](auto... args) mutable { std::move(h)(std::move(args)...); });
}

/// Bytes in and out of a connection, and the WebSocket's end of it (Beast's teardown:
/// a TLS close_notify where there is TLS, then the TCP shutdown). Not tied to TCP, so
/// that a test can run a connection on beast::test::stream.
class ByteStream {
 public:
  using TransferHandler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  using StepHandler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

  virtual ~ByteStream() = default;
  /// The executor every completion runs on.
  virtual boost::asio::any_io_executor get_executor() = 0;
  /// Drops the connection at once (shutdown and close of the lowest layer); pending
  /// operations complete with an error.
  virtual void close() = 0;
  virtual void async_read_some(BufferArray<boost::asio::mutable_buffer> buffers, TransferHandler done) = 0;
  virtual void async_write_some(BufferArray<boost::asio::const_buffer> buffers, TransferHandler done) = 0;
  virtual void async_teardown(boost::beast::role_type role, StepHandler done) = 0;
  virtual void teardown(boost::beast::role_type role, boost::system::error_code& ec) = 0;
};

/// ByteStream over a concrete Beast stream on TCP (beast::tcp_stream,
/// beast::ssl_stream<...>). `Interface` is ByteStream or an interface derived from it
/// that adds operations (the SDK's StreamLayers; the server's, which asks for tcp()).
template <class Stream, class Interface = ByteStream>
class ByteStreamOver : public Interface {
 public:
  template <class... Args>
  explicit ByteStreamOver(Args&&... args) : stream_(std::forward<Args>(args)...) {}

  /// The lowest layer (overrides Interface::tcp() where the interface has one).
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(stream_); }

  boost::asio::any_io_executor get_executor() override { return tcp().get_executor(); }

  void close() override {
    boost::system::error_code ignored;
    tcp().socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
    tcp().close();
  }

  void async_read_some(BufferArray<boost::asio::mutable_buffer> buffers,
                       typename Interface::TransferHandler done) override {
    stream_.async_read_some(buffers, on_executor(get_executor(), std::move(done)));
  }

  void async_write_some(BufferArray<boost::asio::const_buffer> buffers,
                        typename Interface::TransferHandler done) override {
    stream_.async_write_some(buffers, on_executor(get_executor(), std::move(done)));
  }

  void async_teardown(boost::beast::role_type role, typename Interface::StepHandler done) override {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream_, on_executor(get_executor(), std::move(done)));
  }

  void teardown(boost::beast::role_type role, boost::system::error_code& ec) override {
    using boost::beast::websocket::teardown;
    teardown(role, stream_, ec);
  }

 protected:
  Stream stream_;
};

/// A ByteStream as the AsyncStream a beast::websocket::stream runs on.
template <class Interface = ByteStream>
class ErasedStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  explicit ErasedStream(std::unique_ptr<Interface> bytes) : bytes_(std::move(bytes)) {}

  Interface& bytes() noexcept { return *bytes_; }
  /// Hands the stream on (the HTTP session to the WebSocket session that upgrades it).
  std::unique_ptr<Interface> release() && { return std::move(bytes_); }
  executor_type get_executor() noexcept { return bytes_->get_executor(); }

  template <class MutableBufferSequence, class Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, BufferArray<boost::asio::mutable_buffer> b) {
          bytes_->async_read_some(b, std::move(handler));
        },
        token, first_buffers<boost::asio::mutable_buffer>(buffers));
  }

  template <class ConstBufferSequence, class Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, BufferArray<boost::asio::const_buffer> b) {
          bytes_->async_write_some(b, std::move(handler));
        },
        token, buffers_to_write(buffers, write_scratch_));
  }

  // Found by Beast's WebSocket through argument-dependent lookup.
  friend void teardown(boost::beast::role_type role, ErasedStream& s, boost::system::error_code& ec) {
    s.bytes_->teardown(role, ec);
  }
  template <class Handler>
  friend void async_teardown(boost::beast::role_type role, ErasedStream& s, Handler&& handler) {
    s.bytes_->async_teardown(role, std::forward<Handler>(handler));
  }
  friend void beast_close_socket(ErasedStream& s) { s.bytes_->close(); }

 private:
  std::unique_ptr<Interface> bytes_;
  std::vector<char> write_scratch_;  // at most one write is in flight on a stream
};

}  // namespace herald::asio_support
