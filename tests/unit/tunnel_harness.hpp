// Drives a proxy exchange (async_http_connect, async_socks5_connect) over Beast's
// in-memory test::stream: the test plays the proxy by pre-loading the client's input,
// and reads back what the client wrote and what it left unread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <system_error>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/fail_count.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

namespace herald::test {

struct TunnelResult {
  bool completed = false;
  std::error_code ec;
  std::string detail;
  std::string written;  ///< every byte the client sent to the "proxy"
  std::string unread;   ///< what the client left in its input: the tunnel's bytes
};

/// `start(stream, handler)` starts the exchange. `proxy_says` is what the proxy sends;
/// with `then_close` the proxy closes after it (the client reads EOF at its end).
template <class Start>
TunnelResult run_tunnel(Start start, const std::string& proxy_says, bool then_close,
                        boost::beast::test::fail_count* fail = nullptr) {
  boost::asio::io_context ioc;
  std::optional<boost::beast::test::stream> client;
  if (fail) {
    client.emplace(ioc, *fail);
  } else {
    client.emplace(ioc);
  }
  boost::beast::test::stream proxy(ioc);
  client->connect(proxy);
  client->append(proxy_says);
  if (then_close) proxy.close();
  TunnelResult result;
  start(*client, [&](std::error_code ec, std::string detail) {
    result.completed = true;
    result.ec = ec;
    result.detail = std::move(detail);
  });
  ioc.run_for(std::chrono::seconds{5});  // bounded: a hang shows as completed == false
  result.written = std::string(proxy.str());
  result.unread = std::string(client->str());
  return result;
}

}  // namespace herald::test
