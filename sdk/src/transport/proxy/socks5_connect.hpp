// async_socks5_connect: opens a SOCKS5 tunnel (RFC 1928, username/password per RFC
// 1929 when credentials are given) to host:port over an already connected stream
// (beast::tcp_stream, or any AsyncReadStream + AsyncWriteStream). `target_host` is sent
// as ATYP domain name (the proxy resolves it, socks5h://) unless it is an IP literal:
// for socks5:// (TargetNameResolution::local) the dialer resolves first and passes the
// address. The caller bounds it with the stream's expires_after().
//
//   stream.expires_after(connect_timeout);
//   async_socks5_connect(stream, "notify.example.com", 443, proxy.credentials,
//       [](std::error_code ec, std::string detail) { ... });
//
// Every reply is read to its exact length (BND.ADDR of each ATYP included), so no
// tunnel byte is consumed. Auth refused -> proxy_auth_failed; a CONNECT refusal ->
// proxy_failed with RFC 1928's reason ("connection refused by the target").
// Completion: void(std::error_code /* herald::errc or success */, std::string detail).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/coroutine.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "transport/proxy/proxy_error.hpp"
#include "transport/proxy/socks5_codec.hpp"

namespace herald::detail {

template <class Stream>
class Socks5ConnectOp : boost::asio::coroutine {
 public:
  Socks5ConnectOp(Stream& stream, std::string host, std::uint16_t port, std::optional<ProxyCredentials> credentials)
      : stream_(stream), state_(std::make_unique<State>()) {
    state_->host = std::move(host);
    state_->port = port;
    state_->credentials = std::move(credentials);
  }

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}, std::size_t /*bytes*/ = 0) {
    State& s = *state_;
    BOOST_ASIO_CORO_REENTER(*this) {
      s.out = socks5_greeting(s.credentials.has_value());
      BOOST_ASIO_CORO_YIELD boost::asio::async_write(stream_, boost::asio::buffer(s.out), std::move(self));
      if (ec) return complete_with(self, proxy_io_error("sending the SOCKS5 greeting", ec));
      s.in.assign(2, 0);
      BOOST_ASIO_CORO_YIELD boost::asio::async_read(stream_, boost::asio::buffer(s.in), std::move(self));
      if (ec) return complete_with(self, proxy_io_error("reading the SOCKS5 method selection", ec));
      {
        auto method = decode_socks5_method(s.in, s.credentials.has_value());
        if (auto* error = std::get_if<ProxyError>(&method)) return complete_with(self, std::move(*error));
        s.method = std::get<Socks5Method>(method);
      }
      if (s.method == Socks5Method::username_password) {
        {
          auto request = socks5_auth_request(*s.credentials);
          if (auto* error = std::get_if<ProxyError>(&request)) return complete_with(self, std::move(*error));
          s.out = std::move(std::get<Bytes>(request));
        }
        BOOST_ASIO_CORO_YIELD boost::asio::async_write(stream_, boost::asio::buffer(s.out), std::move(self));
        s.wipe_out();
        if (ec) return complete_with(self, proxy_io_error("sending the SOCKS5 credentials", ec));
        s.in.assign(2, 0);
        BOOST_ASIO_CORO_YIELD boost::asio::async_read(stream_, boost::asio::buffer(s.in), std::move(self));
        if (ec) return complete_with(self, proxy_io_error("reading the SOCKS5 authentication status", ec));
        if (auto error = decode_socks5_auth_reply(s.in)) return complete_with(self, std::move(*error));
      }
      {
        auto request = socks5_connect_request(s.host, s.port);
        if (auto* error = std::get_if<ProxyError>(&request)) return complete_with(self, std::move(*error));
        s.out = std::move(std::get<Bytes>(request));
      }
      BOOST_ASIO_CORO_YIELD boost::asio::async_write(stream_, boost::asio::buffer(s.out), std::move(self));
      if (ec) return complete_with(self, proxy_io_error("sending the SOCKS5 CONNECT request", ec));
      s.in.clear();
      for (;;) {
        {
          auto decoded = decode_socks5_reply(s.in);
          if (auto* error = std::get_if<ProxyError>(&decoded)) return complete_with(self, std::move(*error));
          if (auto* reply = std::get_if<Socks5Reply>(&decoded)) {
            if (reply->code != 0) {
              return complete_with(self, ProxyError{errc::proxy_failed, "the SOCKS5 proxy refused the tunnel: " +
                                                                            socks5_reply_text(reply->code)});
            }
            break;
          }
          s.have = s.in.size();
          s.in.resize(std::get<Socks5NeedBytes>(decoded).total);  // always more than s.have
        }
        BOOST_ASIO_CORO_YIELD boost::asio::async_read(
            stream_, boost::asio::buffer(s.in.data() + s.have, s.in.size() - s.have), std::move(self));
        if (ec) return complete_with(self, proxy_io_error("reading the SOCKS5 CONNECT reply", ec));
      }
      self.complete(std::error_code{}, std::string{});
    }
  }

 private:
  struct State {
    std::string host;
    std::uint16_t port = 0;
    std::optional<ProxyCredentials> credentials;
    Socks5Method method = Socks5Method::no_auth;
    Bytes out;
    Bytes in;
    std::size_t have = 0;
    void wipe_out() { std::fill(out.begin(), out.end(), std::uint8_t{0}); }
    ~State() {
      wipe_out();
      if (credentials) std::fill(credentials->password.begin(), credentials->password.end(), '\0');
    }
  };

  Stream& stream_;
  std::unique_ptr<State> state_;  // stable addresses for the buffers while the op moves
};

/// Starts the SOCKS5 exchange; see the file comment.
template <class Stream, class CompletionToken>
auto async_socks5_connect(Stream& stream, std::string_view target_host, std::uint16_t target_port,
                          const std::optional<ProxyCredentials>& credentials, CompletionToken&& token) {
  return boost::asio::async_compose<CompletionToken, void(std::error_code, std::string)>(
      Socks5ConnectOp<Stream>(stream, std::string(target_host), target_port, credentials), token, stream);
}

}  // namespace herald::detail
