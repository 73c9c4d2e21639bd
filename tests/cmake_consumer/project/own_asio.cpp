// An application that uses Asio itself -- exactly who the executor constructor is for:
// it runs its own io_context on its own thread, has its own TCP acceptor and socket and
// a steady_timer on it, and runs a herald::Client on the same io_context. Built twice
// by the consumer project: with Asio header-only, and with the application compiling
// Asio separately (asio_src.cpp, BOOST_ASIO_SEPARATE_COMPILATION), which is where a
// library that ships its own compiled Asio breaks the link (duplicate definitions).
#include <herald/client.hpp>
#include <herald/testing/test_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

namespace asio = boost::asio;

int main() {
  using namespace std::chrono_literals;
  herald::testkit::TestServer server;
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });

  // The application's own Asio: a loopback echo of one message, and a timer.
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket served(io), client_socket(io);
  std::array<char, 5> echoed{};
  std::promise<bool> echo_done;
  acceptor.async_accept(served, [&](boost::system::error_code ec) {
    if (ec) return echo_done.set_value(false);
    asio::async_read(served, asio::buffer(echoed), [&](boost::system::error_code e, std::size_t) {
      echo_done.set_value(!e && std::string(echoed.data(), echoed.size()) == "hello");
    });
  });
  client_socket.async_connect(acceptor.local_endpoint(), [&](boost::system::error_code ec) {
    if (!ec) asio::async_write(client_socket, asio::buffer("hello", 5), [](boost::system::error_code, std::size_t) {});
  });
  asio::steady_timer timer(io, 10ms);
  std::promise<bool> timer_fired;
  timer.async_wait([&](boost::system::error_code ec) { timer_fired.set_value(!ec); });

  // Herald on the same io_context: its callbacks run on the application's io thread.
  herald::ClientOptions options;
  options.url = server.url();
  options.token_provider = server.token_provider("alice");
  std::promise<bool> delivered;
  auto delivered_once = std::make_shared<std::once_flag>();
  auto client = std::make_unique<herald::Client>(std::move(options), io.get_executor());
  const auto io_thread_id = io_thread.get_id();
  client->on_notification([&, delivered_once](const herald::Notification& n) {
    std::call_once(*delivered_once,
                   [&] { delivered.set_value(n.topic == "app.asio" && std::this_thread::get_id() == io_thread_id); });
  });
  client->on_state([&](const herald::StateEvent& e) {
    if (e.state == herald::State::connected) server.publish("alice", "app.asio");
  });
  client->start();

  bool ok = true;
  for (auto* result : {&echo_done, &timer_fired, &delivered}) {
    auto future = result->get_future();
    ok = ok && future.wait_for(15s) == std::future_status::ready && future.get();
  }
  client->stop();
  client.reset();
  asio::post(io, [&] {
    acceptor.close();
    served.close();
    client_socket.close();
  });
  work.reset();
  io_thread.join();
  std::puts(ok ? "herald own-asio consumer: ok" : "herald own-asio consumer: FAILED");
  return ok ? 0 : 1;
}
