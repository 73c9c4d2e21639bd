// Measures what TLS session resumption saves: 50 handshakes against the reference server
// with the SDK's TlsClientContext, each offering the session cached by the previous one
// (resumed), against 50 with a fresh context each (full). Prints the medians (the number
// in docs/networks.md) and asserts only that every handshake resumed: a speed claim is a
// measurement, not a test that a loaded CI machine (or a sanitizer build) could fail.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <iostream>

#include "tls_fixture.hpp"
#include "transport/tls_context.hpp"

namespace herald::test {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class TlsResumptionMeasure : public TlsFixture {
 protected:
  // One HTTPS GET /healthz; returns the handshake time. Reading the response also
  // takes in the TLS 1.3 session tickets, which the context caches.
  std::chrono::microseconds handshake(detail::TlsClientContext& tls) {
    asio::io_context io;
    asio::ssl::stream<tcp::socket> stream(io, tls.context());
    stream.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    detail::TlsPeerCheck check;
    check.host = "127.0.0.1";
    EXPECT_FALSE(tls.prepare(stream.native_handle(), check, std::to_string(port_)));
    const auto t0 = std::chrono::steady_clock::now();
    stream.handshake(asio::ssl::stream_base::client);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    EXPECT_FALSE(tls.check_established(stream.native_handle(), check));
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(stream, asio::buffer(request));
    asio::streambuf response;
    asio::read_until(stream, response, "\r\n\r\n");
    return std::chrono::duration_cast<std::chrono::microseconds>(elapsed);
  }

  static long long median_us(std::vector<std::chrono::microseconds> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2].count();
  }
};

TEST_F(TlsResumptionMeasure, EveryHandshakeWithACachedSessionResumesAndBothAreTimed) {
  start_tls_server(pki_->server());
  TlsOptions options;
  options.use_system_store = false;
  options.ca_pem = pki_->ca().cert_pem;
  constexpr int kRounds = 50;
  std::vector<std::chrono::microseconds> full, resumed;
  for (int i = 0; i < kRounds; ++i) {
    auto fresh = detail::TlsClientContext::create(options);
    full.push_back(handshake(*fresh));
  }
  auto cached = detail::TlsClientContext::create(options);
  (void)handshake(*cached);  // the first one is full and fills the cache
  for (int i = 0; i < kRounds; ++i) resumed.push_back(handshake(*cached));
  EXPECT_EQ(cached->sessions_resumed(), static_cast<std::uint64_t>(kRounds));
  const auto full_us = median_us(full);
  const auto resumed_us = median_us(resumed);
  std::cout << "TLS 1.3 handshake on loopback, median of " << kRounds << ": full " << full_us << " us, resumed "
            << resumed_us << " us\n";
  RecordProperty("full_us", std::to_string(full_us));
  RecordProperty("resumed_us", std::to_string(resumed_us));
}

}  // namespace
}  // namespace herald::test
