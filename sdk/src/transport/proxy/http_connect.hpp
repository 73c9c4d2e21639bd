// async_http_connect: asks an HTTP proxy for a tunnel (CONNECT host:port) over an
// already connected stream — beast::tcp_stream for an http:// proxy,
// beast::ssl_stream<beast::tcp_stream> after the TLS handshake with an https:// proxy.
// The caller bounds it with the stream's expires_after(); a timeout then ends it with
// proxy_failed.
//
//   stream.expires_after(connect_timeout);
//   async_http_connect(stream, "notify.example.com", 443, proxy.credentials,
//       [](std::error_code ec, std::string detail) { /* TLS to the target next */ });
//
// The response header is read byte-exactly (never more than can belong to it), so
// every byte after it is still unread in the stream when the handler runs: the tunnel
// loses nothing. The request, which holds the credentials, is wiped after it is sent.
// Completion: void(std::error_code /* herald::errc or success */, std::string detail).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "transport/proxy/connect_response.hpp"
#include "transport/proxy/proxy_error.hpp"

namespace herald::detail {

template <class Stream>
class HttpConnectOp : boost::asio::coroutine {
 public:
  HttpConnectOp(Stream& stream, std::string request) : stream_(stream), state_(std::make_unique<State>()) {
    state_->request = std::move(request);
  }

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t bytes = 0) {
    BOOST_ASIO_CORO_REENTER(*this) {
      BOOST_ASIO_CORO_YIELD boost::asio::async_write(stream_, boost::asio::buffer(state_->request), std::move(self));
      state_->wipe_request();
      if (ec) return complete_with(self, proxy_io_error("sending the CONNECT request", ec));
      while ((state_->wanted = connect_header_bytes_wanted(state_->header)) > 0) {
        if (state_->header.size() + state_->wanted > kMaxConnectResponseHeader) {
          return complete_with(
              self, ProxyError{errc::proxy_failed, "the proxy's answer to CONNECT exceeds " +
                                                       std::to_string(kMaxConnectResponseHeader) + " bytes"});
        }
        state_->header.resize(state_->header.size() + state_->wanted);
        BOOST_ASIO_CORO_YIELD boost::asio::async_read(
            stream_,
            boost::asio::buffer(state_->header.data() + state_->header.size() - state_->wanted, state_->wanted),
            std::move(self));
        state_->header.resize(state_->header.size() - state_->wanted + bytes);
        if (ec) return complete_with(self, proxy_io_error("reading the answer to CONNECT", ec));
      }
      if (auto error = check_connect_response(state_->header)) return complete_with(self, std::move(*error));
      self.complete(std::error_code{}, std::string{});
    }
  }

 private:
  struct State {
    std::string request;
    std::string header;
    std::size_t wanted = 0;
    void wipe_request() {
      std::fill(request.begin(), request.end(), '\0');
      request.clear();
    }
    ~State() { wipe_request(); }
  };

  Stream& stream_;
  std::unique_ptr<State> state_;  // stable addresses for the buffers while the op moves
};

/// Starts the CONNECT exchange; see the file comment.
template <class Stream, class CompletionToken>
auto async_http_connect(Stream& stream, std::string_view target_host, std::uint16_t target_port,
                        const std::optional<ProxyCredentials>& credentials, CompletionToken&& token) {
  return boost::asio::async_compose<CompletionToken, void(std::error_code, std::string)>(
      HttpConnectOp<Stream>(stream, connect_request(target_host, target_port, credentials)), token, stream);
}

}  // namespace herald::detail
