// Interop of permessage-deflate with node's `ws` 8 (Debian's node-ws), both ways:
// - the SDK's Client against ws_server.js, a stand-in Herald server on `ws` with
//   perMessageDeflate on: every notification arrives once, in order, and the script
//   reports the offer it got, the extension it negotiated and the bytes it wrote;
// - ws_client.js, a `ws` client with perMessageDeflate on, against the reference server
//   with ServerOptions::permessage_deflate: it prints the negotiated extension and every
//   frame as JSON lines, which the test reads back.
// The scripts bind and connect 127.0.0.1 only and exit on their own within 20 s; the
// DaemonProcess destructor kills them when a test fails first.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "herald/client.hpp"
#include "interop/interop_fixture.hpp"
#include "support/recorder.hpp"

namespace herald::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

bool exits_within(DaemonProcess& p, std::chrono::milliseconds timeout) {
  return eventually([&] { return !p.running(); }, timeout);
}

TEST_F(NodeWsTest, SdkClientWithDeflateReadsANodeWsServer) {
  constexpr int kCount = 50;
  TempDir tmp;
  const auto log = tmp.path() / "node.log";
  std::unique_ptr<DaemonProcess> node;
  std::uint16_t port = 0;
  for (int attempt = 0; attempt < 3 && !node; ++attempt) {  // the port may be taken meanwhile
    port = pick_free_port();
    node = std::make_unique<DaemonProcess>(
        std::vector<std::string>{node_, script("ws_server.js"), std::to_string(port), std::to_string(kCount)}, log);
    if (!wait_until_listening(port, *node, 5s)) node.reset();
  }
  ASSERT_TRUE(node) << read_file(log);

  ClientOptions o;
  o.url = "ws://127.0.0.1:" + std::to_string(port) + "/v1/stream";
  o.token_provider = token_provider("u1");
  o.permessage_deflate = true;
  o.backoff_initial = 20ms;
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_ids(kCount)) << read_file(log);
  client.stop();  // close 1000: the script reports and exits
  ASSERT_TRUE(exits_within(*node, 5s)) << read_file(log);

  std::vector<std::uint64_t> expected;
  for (std::uint64_t id = 1; id <= kCount; ++id) expected.push_back(id);
  EXPECT_EQ(rec.ids(), expected) << "each notification once, in order";
  EXPECT_EQ(client.metrics().connects, 1u);
  const auto lines = json_lines(read_file(log));
  const auto connected = find_event(lines, "connected");
  ASSERT_TRUE(connected) << read_file(log);
  auto starts_with_deflate = [](const std::string& v) { return v.rfind("permessage-deflate", 0) == 0; };
  EXPECT_TRUE(starts_with_deflate(connected->value("offered", ""))) << "the SDK's offer: " << *connected;
  EXPECT_TRUE(starts_with_deflate(connected->value("negotiated", ""))) << "ws's answer: " << *connected;
  EXPECT_EQ(connected->at("extensions"), json::array({"permessage-deflate"})) << *connected;
  const auto closed = find_event(lines, "closed");
  ASSERT_TRUE(closed) << read_file(log);
  EXPECT_LT(closed->at("bytes_written").get<std::uint64_t>(), closed->at("payload_bytes").get<std::uint64_t>() / 2)
      << "ws did not compress: " << *closed;
  EXPECT_EQ(read_file(log).find("eyJ"), std::string::npos) << "a token reached the script's output";
}

class NodeWsClientTest : public NodeWsTest, public ::testing::WithParamInterface<bool> {};

// Parameter: whether the server accepts deflate. Off, the same client gets the same
// stream uncompressed.
TEST_P(NodeWsClientTest, NodeWsClientWithDeflateReadsHeraldServer) {
  const bool server_deflate = GetParam();
  constexpr int kCount = 50;
  auto so = base_server_options();
  so.permessage_deflate = server_deflate;
  start_server(so);
  // Published first, replayed from cursor 0: a fresh stream would get only what is
  // published after its welcome, a race with the publisher.
  std::vector<std::uint64_t> published;
  for (int i = 1; i <= kCount; ++i) {
    published.push_back(server_->publish("u1", "order.shipped", order_data(static_cast<std::uint64_t>(i))));
  }
  TempDir tmp;
  const auto log = tmp.path() / "node.log";
  // The token goes by environment (not argv, which `ps` shows); only the child keeps it.
  ::setenv("HERALD_TOKEN", issuer_->issue_token("u1", std::chrono::hours{1}).c_str(), 1);
  DaemonProcess node({node_, script("ws_client.js"), stream_url(), std::to_string(kCount)}, log);
  ::unsetenv("HERALD_TOKEN");
  ASSERT_TRUE(exits_within(node, 10s)) << read_file(log);

  const std::string out = read_file(log);
  const auto lines = json_lines(out);
  ASSERT_TRUE(find_event(lines, "done")) << out;
  const auto open = find_event(lines, "open");
  ASSERT_TRUE(open) << out;
  EXPECT_EQ(open->value("protocol", ""), "herald.v1");
  const std::string extensions = open->value("extensions", "");
  if (server_deflate) {
    EXPECT_EQ(extensions.rfind("permessage-deflate", 0), 0u) << *open;
  } else {
    EXPECT_EQ(extensions, "") << *open;
  }

  std::vector<std::string> types;
  std::vector<std::uint64_t> ids;
  std::uint64_t payload = 0;
  for (const auto& l : lines) {
    if (l.value("event", "") != "message") continue;
    const auto& frame = l.at("frame");
    EXPECT_FALSE(l.value("binary", true));
    types.push_back(frame.value("type", ""));
    payload += frame.dump().size();
    if (types.back() == "notification") ids.push_back(frame.at("id").get<std::uint64_t>());
  }
  ASSERT_GE(types.size(), 2u) << out;
  EXPECT_EQ(types.front(), "welcome");
  EXPECT_EQ(types.back(), "caught_up") << "the replay of all " << kCount << " comes before caught_up";
  EXPECT_EQ(ids, published) << "each notification once, in order";
  const auto bytes_read = find_event(lines, "done")->at("bytes_read").get<std::uint64_t>();
  if (server_deflate) {
    EXPECT_LT(bytes_read, payload / 2) << "not compressed: " << bytes_read << " bytes read for " << payload;
  } else {
    EXPECT_GT(bytes_read, payload) << "compressed although the server does not accept deflate";
  }
  EXPECT_EQ(out.find("eyJ"), std::string::npos) << "the token reached the script's output";
}

INSTANTIATE_TEST_SUITE_P(ServerDeflate, NodeWsClientTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "on" : "off"; });

}  // namespace
}  // namespace herald::test
