// End to end, a server's Retry-After on the wire: any number of digits is read, and the
// wait is never longer than ClientOptions::retry_after_max. The "server" answers every
// handshake with 503 and the header under test.
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

/// Listens on 127.0.0.1:0; answers each request with 503 draining and `retry_after`.
class RefusingHttpServer {
 public:
  explicit RefusingHttpServer(std::string retry_after)
      : response_("HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + retry_after +
                  "\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
                  R"({"error":"draining"})"),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_next();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~RefusingHttpServer() {
    io_.stop();
    thread_.join();
  }
  RefusingHttpServer(const RefusingHttpServer&) = delete;
  RefusingHttpServer& operator=(const RefusingHttpServer&) = delete;

  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/v1/stream";
  }
  /// Waits until `n` requests arrived; returns their arrival times (fewer on timeout).
  std::vector<std::chrono::steady_clock::time_point> wait_requests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock l(m_);
    cv_.wait_for(l, timeout, [&] { return arrivals_.size() >= n; });
    return arrivals_;
  }

 private:
  void accept_next() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;
      boost::system::error_code io_ec;  // a client that goes away is fine
      asio::streambuf request;
      asio::read_until(s, request, "\r\n\r\n", io_ec);
      {
        std::lock_guard l(m_);
        arrivals_.push_back(std::chrono::steady_clock::now());
      }
      cv_.notify_all();
      asio::write(s, asio::buffer(response_), io_ec);
      s.shutdown(tcp::socket::shutdown_both, io_ec);
      accept_next();
    });
  }

  const std::string response_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::chrono::steady_clock::time_point> arrivals_;
};

class HugeRetryAfter : public ::testing::TestWithParam<const char*> {};

// 9 digits (31 years) parked the client for good; 11 digits were ignored (the client
// came back after its 20 ms backoff). Both now mean retry_after_max: 1 s here.
TEST_P(HugeRetryAfter, IsClampedToRetryAfterMax) {
  RefusingHttpServer server(GetParam());
  ClientOptions o;
  o.url = server.url();
  o.token_provider = TokenProvider::fixed("not-checked-by-this-server");
  o.backoff_initial = 20ms;
  o.backoff_max = 200ms;
  o.retry_after_max = 1s;
  Client client(std::move(o));
  client.start();
  const auto arrivals = server.wait_requests(2, 10s);
  ASSERT_EQ(arrivals.size(), 2u) << "the client did not come back within 10 s";
  const auto gap = arrivals[1] - arrivals[0];
  EXPECT_GE(gap, 1s) << "sooner than the clamped Retry-After";
  EXPECT_LT(gap, 5s);
  EXPECT_EQ(client.metrics().last_error, make_error_code(errc::handshake_failed));
}

INSTANTIATE_TEST_SUITE_P(RetryAfter, HugeRetryAfter, ::testing::Values("999999999", "99999999999"));

}  // namespace
}  // namespace herald::test
