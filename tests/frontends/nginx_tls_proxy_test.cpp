// nginx from Debian's packages as a TLS-terminating reverse proxy in front of the
// reference server: the client speaks wss:// to nginx (trusting the test CA), nginx
// speaks ws:// to the server on loopback. nginx closes an upgraded connection on which
// the server sent nothing for proxy_read_timeout; the server's heartbeat pings (and the
// pongs to the client's own pings) are that traffic when no notification is.
#include <memory>
#include <thread>

#include "frontends/frontend_fixture.hpp"
#include "support/test_pki.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

class NginxTlsProxy : public FrontendTest {
 protected:
  void SetUp() override {
    FrontendTest::SetUp();
    const auto binary = nginx_binary();
    if (!binary) GTEST_SKIP() << "nginx is not installed (scripts/deps.sh installs nginx-light)";
    binary_ = *binary;
    pki_ = std::make_unique<TestPki>(dir_ / "pki");
  }
  void TearDown() override {
    nginx_.reset();  // stops nginx, also when the test failed
    FrontendTest::TearDown();
  }

  /// The server on `db` with `heartbeat`, on the port of its previous start (0 at first).
  void start_herald(std::chrono::seconds heartbeat, const std::string& db = ":memory:") {
    auto o = base_server_options(db);
    o.heartbeat = heartbeat;
    start_server(std::move(o));
  }
  void start_nginx_in_front(std::chrono::seconds idle_timeout) {
    NginxOptions o;
    o.upstream_port = port_;
    o.cert_file = pki_->server().cert_file;
    o.key_file = pki_->server().key_file;
    o.idle_timeout = idle_timeout;
    nginx_ = start_nginx(binary_, o);
  }
  /// wss:// to nginx, trusting the test CA only.
  ClientOptions wss_options(const std::string& user) const {
    auto o = client_options("wss://127.0.0.1:" + std::to_string(nginx_->port()) + "/v1/stream", user);
    o.tls.use_system_store = false;
    o.tls.ca_pem = pki_->ca().cert_pem;
    return o;
  }

  /// A started wss:// client of u1 through nginx, recorded by `rec`.
  std::unique_ptr<Client> start_client(Recorder& rec) const {
    auto client = std::make_unique<Client>(wss_options("u1"));
    rec.attach(*client);
    client->start();
    return client;
  }

  /// Server heartbeat `heartbeat`, nginx proxy_read_timeout `read_timeout`, nothing
  /// published for `idle`: the client's one connection stays up and still delivers.
  void expect_idle_stream_survives(std::chrono::seconds heartbeat, std::chrono::seconds read_timeout,
                                   std::chrono::seconds idle) {
    start_herald(heartbeat);  // welcome.heartbeat_s: a ping each idle heartbeat, both ways
    start_nginx_in_front(read_timeout);
    Recorder rec;
    const auto client = start_client(rec);
    ASSERT_TRUE(rec.wait_state(State::connected)) << nginx_->log();
    std::vector<std::uint64_t> published{server_->publish("u1", "comment", R"({"n":1})")};
    ASSERT_TRUE(rec.wait_ids(1));

    // The one sleep that is the test: nothing is published for well past read_timeout.
    std::this_thread::sleep_for(idle);

    const auto m = client->metrics();
    EXPECT_EQ(m.connects, 1u) << "the idle connection was closed:\n" << nginx_->log();
    EXPECT_EQ(m.state, State::connected);
    EXPECT_EQ(rec.count_state(State::reconnecting), 0u);
    EXPECT_EQ(server_->connection_count(), 1u);
    published.push_back(server_->publish("u1", "comment", R"({"n":2})"));
    ASSERT_TRUE(rec.wait_ids(2));
    EXPECT_EQ(rec.ids(), published);
    EXPECT_EQ(client->metrics().connects, 1u);
    client->stop();
    expect_no_token_in(nginx_->log() + read_file(nginx_->dir() / "access.log"));
  }

  std::unique_ptr<TestPki> pki_;
  std::unique_ptr<RunningDaemon> nginx_;
};

// Nothing published for 8 s: past nginx's proxy_read_timeout (3 s), and past the
// server's silence limit (2 x heartbeat + 5 s = 7 s), which the client's pongs reset.
// (The server used to count only data messages there and cut every idle stream.)
TEST_F(NginxTlsProxy, HeartbeatKeepsAnIdleConnectionAlivePastProxyReadTimeout) {
  expect_idle_stream_survives(1s, 3s, 8s);
}

// The control: with the heartbeat (10 s) longer than proxy_read_timeout (2 s), nginx does
// cut the idle connection, so the test above proves the heartbeat, not a lenient nginx.
// The client reconnects and loses nothing.
TEST_F(NginxTlsProxy, WithAHeartbeatLongerThanProxyReadTimeoutNginxCutsTheIdleConnection) {
  start_herald(10s);
  start_nginx_in_front(2s);
  Recorder rec;
  const auto client = start_client(rec);
  ASSERT_TRUE(rec.wait_state(State::connected)) << nginx_->log();
  const auto connected_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(rec.wait_state(State::reconnecting)) << "nginx never closed the idle connection";
  EXPECT_GE(std::chrono::steady_clock::now() - connected_at, 1500ms) << "closed before proxy_read_timeout";
  ASSERT_TRUE(rec.wait_state(State::connected, 2));
  EXPECT_GE(client->metrics().connects, 2u);
  const auto id = server_->publish("u1", "comment", R"({"n":1})");
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{id});
  client->stop();
}

// The server behind nginx restarts (a new instance on the same port and SQLite file);
// what was published while it was down is caught up through nginx, once, in order.
TEST_F(NginxTlsProxy, ServerRestartBehindNginxLosesNothing) {
  start_herald(25s, db_file());
  start_nginx_in_front(60s);
  Recorder rec;
  const auto client = start_client(rec);
  ASSERT_TRUE(rec.wait_state(State::connected)) << nginx_->log();

  std::vector<std::uint64_t> published;
  const auto publish = [&](int n) {
    published.push_back(server_->publish("u1", "c", R"({"n":)" + std::to_string(n) + "}"));
  };
  for (int n = 0; n < 3; ++n) publish(n);
  ASSERT_TRUE(rec.wait_ids(3));

  server_->stop();  // nginx passes the close on; attempts meanwhile get 502 from nginx
  ASSERT_TRUE(rec.wait_state(State::reconnecting));
  server_ = std::make_unique<server::Server>(base_server_options(db_file()));
  for (int n = 3; n < 6; ++n) publish(n);  // stored while no server listens
  port_ = server_->start();

  ASSERT_TRUE(rec.wait_ids(6)) << nginx_->log();
  for (int n = 6; n < 9; ++n) publish(n);
  ASSERT_TRUE(rec.wait_ids(9));
  EXPECT_TRUE(DeliveredExactlyOnceInOrder(rec.ids(), published));
  EXPECT_EQ(rec.ids(), published);
  EXPECT_TRUE(rec.gaps().empty());
  EXPECT_EQ(client->metrics().connects, 2u);
  client->stop();
  expect_no_token_in(nginx_->log() + read_file(nginx_->dir() / "access.log"));
}

}  // namespace
}  // namespace herald::test
