// Measures what permessage-deflate costs (the numbers in docs/networks.md,
// "Compression"); asserts only that herald-server's --permessage-deflate flag decides
// the negotiation, since a cost claim is a measurement, not a test a loaded machine
// could fail.
// - Memory: herald-server (the binary) with and without the flag, 200 idle streams of
//   raw Beast clients that all offer deflate, each past welcome and caught_up: the
//   server's VmRSS growth per stream, and this process's heap growth (mallinfo2) per
//   client stream, which is what an SDK connection carries.
// - CPU: the in-process server and the SDK's Client, both on or both off, replaying
//   3000 notifications of about 225 bytes: the process's CPU time (user + system, both
//   sides together) per notification delivered.
#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "herald/client.hpp"
#include "herald/cursor_store.hpp"
#include "interop/interop_fixture.hpp"
#include "support/recorder.hpp"

namespace herald::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr int kStreams = 200;
constexpr std::uint64_t kNotifications = 3000;

long vm_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

class CompressionMeasure : public InProcessServerTest {
 protected:
  struct Memory {
    std::string extensions;  // the server's answer to the offer
    double server_kib_per_stream = 0;
    double client_kib_per_stream = 0;
  };

  // herald-server with or without --permessage-deflate, kStreams idle streams.
  Memory idle_streams(bool server_deflate) {
    TempDir tmp;
    write_file(tmp.path() / "jwt", kTestJwtSecret);
    write_file(tmp.path() / "admin", kTestAdminKey);
    const auto log = tmp.path() / "server.log";
    std::vector<std::string> argv{HERALD_SERVER_BINARY,
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--jwt-secret-file",
                                  (tmp.path() / "jwt").string(),
                                  "--admin-key-file",
                                  (tmp.path() / "admin").string(),
                                  "--log-level",
                                  "warn"};
    if (server_deflate) argv.emplace_back("--permessage-deflate");
    DaemonProcess server(argv, log);
    std::smatch m;
    std::string out;
    const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
    EXPECT_TRUE(
        eventually([&] { return std::regex_search(out = read_file(log), m, listening) || !server.running(); }, 10s));
    if (m.empty()) {
      ADD_FAILURE() << "herald-server did not start: " << out;
      return {};
    }
    const auto port = static_cast<std::uint16_t>(std::stoi(m[1].str()));
    const std::string token = issuer_->issue_token("u1", std::chrono::hours{1});

    Memory r;
    asio::io_context io;
    std::vector<std::unique_ptr<websocket::stream<tcp::socket>>> streams;
    const long rss_before = vm_rss_kib(server.pid());
    const auto heap_before = mallinfo2().uordblks;
    for (int i = 0; i < kStreams; ++i) {
      auto ws = std::make_unique<websocket::stream<tcp::socket>>(io);
      ws->next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
      websocket::permessage_deflate pmd;
      pmd.client_enable = true;
      ws->set_option(pmd);
      ws->set_option(websocket::stream_base::decorator([&token](websocket::request_type& req) {
        req.set(beast::http::field::sec_websocket_protocol, "herald.v1");
        req.set(beast::http::field::authorization, "Bearer " + token);
      }));
      websocket::response_type res;
      ws->handshake(res, "127.0.0.1:" + std::to_string(port), "/v1/stream");
      if (i == 0) r.extensions = std::string(res[beast::http::field::sec_websocket_extensions]);
      beast::flat_buffer b;
      ws->read(b);  // welcome
      b.clear();
      ws->read(b);  // caught_up
      streams.push_back(std::move(ws));
    }
    const auto heap_growth = static_cast<long long>(mallinfo2().uordblks) - static_cast<long long>(heap_before);
    r.client_kib_per_stream = static_cast<double>(heap_growth) / 1024.0 / kStreams;
    r.server_kib_per_stream = static_cast<double>(vm_rss_kib(server.pid()) - rss_before) / kStreams;
    return r;  // the streams are cut, then the server is stopped
  }

  // Both sides on or off; CPU seconds per notification delivered.
  double cpu_per_notification(bool deflate) {
    auto so = base_server_options();
    so.permessage_deflate = deflate;
    start_server(so);
    for (std::uint64_t i = 1; i <= kNotifications; ++i) server_->publish("alice", "order.shipped", order_data(i));
    ClientOptions o;
    o.url = stream_url();
    o.token_provider = token_provider("alice");
    o.cursor_store = std::make_shared<MemoryCursorStore>(Cursor{0});
    o.permessage_deflate = deflate;
    o.max_frame_bytes = 4096;
    Client client(o);
    Recorder rec;
    rec.attach(client);
    const double t0 = cpu_seconds();
    client.start();
    EXPECT_TRUE(rec.wait_ids(kNotifications));
    const double used = cpu_seconds() - t0;
    client.stop();
    server_->stop();
    return used / static_cast<double>(kNotifications);
  }
};

TEST_F(CompressionMeasure, MemoryPerIdleStream) {
  const Memory off = idle_streams(false);
  const Memory on = idle_streams(true);
  EXPECT_EQ(off.extensions, "") << "herald-server without --permessage-deflate accepted deflate";
  EXPECT_NE(on.extensions.find("permessage-deflate"), std::string::npos)
      << "herald-server --permessage-deflate did not accept deflate: '" << on.extensions << "'";
  std::cout << "[measure] " << kStreams << " idle streams, herald-server VmRSS growth per stream: deflate off "
            << off.server_kib_per_stream << " KiB, on " << on.server_kib_per_stream << " KiB (" << on.extensions
            << ")\n[measure] Beast client heap per stream (mallinfo2): deflate off " << off.client_kib_per_stream
            << " KiB, on " << on.client_kib_per_stream << " KiB\n";
}

TEST_F(CompressionMeasure, CpuPerNotification) {
  const double off = cpu_per_notification(false);
  const double on = cpu_per_notification(true);
  std::cout << "[measure] CPU per notification delivered (server + SDK client, " << kNotifications
            << " replayed, ~225 B each): deflate off " << off * 1e6 << " us, on " << on * 1e6 << " us\n";
}

}  // namespace
}  // namespace herald::test
