// herald::Client through real proxies from Debian's packages, started on loopback by
// the tests: tinyproxy (HTTP CONNECT, Basic auth required; behind an in-test TLS
// terminator it plays an https:// proxy) and Dante's danted (SOCKS5), in front of the
// in-process reference server (ws:// and wss:// with the test PKI). Also the attempt's
// one deadline, against peers that accept TCP and then say nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "herald/client.hpp"
#include "proxy/proxy_daemons.hpp"
#include "proxy/tls_terminator.hpp"
#include "support/scoped_proxy_environment.hpp"
#include "tls/tls_fixture.hpp"

namespace herald::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string port_text(std::uint16_t port) { return std::to_string(port); }

/// Every log line of a client, to check that no secret reaches the log.
class LogLines {
 public:
  LogSink sink() {
    return [this](LogLevel, std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& l : lines_) out += l + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string details_of(const Recorder& rec) {
  std::string out;
  for (const auto& e : rec.states()) out += e.detail + "\n";
  return out;
}

class ProxiedClient : public TlsFixture {
 protected:
  ClientOptions ws_options(const std::string& user) const {
    ClientOptions o;
    o.url = stream_url();
    o.token_provider = token_provider(user);
    o.cursor_store = std::make_shared<MemoryCursorStore>(Cursor{0});
    o.backoff_initial = 20ms;
    o.backoff_max = 200ms;
    o.logger = logs_.sink();
    o.log_level = LogLevel::debug;
    return o;
  }
  std::string http_proxy_url(std::uint16_t port, const std::string& password = kPassword) const {
    return "http://" + kUser + ":" + password + "@127.0.0.1:" + port_text(port);
  }
  /// A client with `o` connects, and one notification published for alice arrives.
  void expect_one_delivered(const ClientOptions& o) {
    Client client(o);
    Recorder rec;
    rec.attach(client);
    client.start();
    ASSERT_TRUE(rec.wait_state(State::connected)) << details_of(rec);
    const auto id = server_->publish("alice", "t", "{}");
    ASSERT_TRUE(rec.wait_ids(1));
    EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{id});
  }
  mutable LogLines logs_;
};

class ClientThroughTinyproxy : public ProxiedClient {
 protected:
  void SetUp() override {
    ProxiedClient::SetUp();
    const auto binary = tinyproxy_binary();
    if (!binary) GTEST_SKIP() << "tinyproxy is not installed (scripts/deps.sh installs it)";
    proxy_ = start_tinyproxy(*binary, kUser, kPassword);
  }
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "tinyproxy log:\n" << proxy_->log();
    ProxiedClient::TearDown();
  }
  /// The proxy carried a tunnel to the server under test (tinyproxy logs each CONNECT).
  bool proxy_saw_connect() const {
    return proxy_->log().find("CONNECT 127.0.0.1:" + port_text(port_)) != std::string::npos;
  }

  std::unique_ptr<RunningProxy> proxy_;
};

TEST_F(ClientThroughTinyproxy, AWsClientReceivesThroughTheTunnel) {
  start_server(base_server_options());
  auto o = ws_options("alice");
  o.proxy.url = http_proxy_url(proxy_->port());
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected)) << details_of(rec);
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "t", "{}"));
  ASSERT_TRUE(rec.wait_ids(3));
  EXPECT_EQ(rec.ids(), published);
  EXPECT_TRUE(proxy_saw_connect()) << proxy_->log();
  EXPECT_THAT(logs_.all(), HasSubstr("via proxy http://<credentials>@127.0.0.1:"));
  EXPECT_THAT(logs_.all(), Not(HasSubstr(kPassword)));
}

TEST_F(ClientThroughTinyproxy, AWssClientRunsTlsToTheServerInsideTheTunnel) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("alice");
  o.proxy.url = http_proxy_url(proxy_->port());
  expect_one_delivered(o);
  EXPECT_TRUE(proxy_saw_connect()) << proxy_->log();
}

TEST_F(ClientThroughTinyproxy, AWrongPasswordStopsAtOnceWithProxyAuthFailedAndTheSecretNowhere) {
  start_server(base_server_options());
  auto o = ws_options("alice");
  o.proxy.url = http_proxy_url(proxy_->port(), "wrong-secret-9");
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::stopped));
  const auto states = rec.states();
  EXPECT_EQ(states.back().reason, errc::proxy_auth_failed) << states.back().detail;
  EXPECT_TRUE(states.back().reason == condition::permanent);
  EXPECT_EQ(rec.count_state(State::reconnecting), 0u) << "a permanent failure is not retried";
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_THAT(details_of(rec) + logs_.all(), Not(HasSubstr("wrong-secret-9")));
}

TEST_F(ClientThroughTinyproxy, TheStreamSurvivesAProxyRestartWithNothingLost) {
  start_server(base_server_options());
  auto o = ws_options("alice");
  o.proxy.url = http_proxy_url(proxy_->port());
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "before", "{}"));
  ASSERT_TRUE(rec.wait_ids(3));

  proxy_->stop();  // the tunnel goes with the proxy
  ASSERT_TRUE(rec.wait_state(State::reconnecting));
  for (int i = 0; i < 3; ++i) published.push_back(server_->publish("alice", "while-down", "{}"));
  ASSERT_TRUE(proxy_->restart()) << proxy_->log();
  ASSERT_TRUE(rec.wait_state(State::connected, 2)) << details_of(rec);
  ASSERT_TRUE(rec.wait_ids(6));
  published.push_back(server_->publish("alice", "after", "{}"));
  ASSERT_TRUE(rec.wait_ids(7));
  EXPECT_EQ(rec.ids(), published);
}

class ClientThroughHttpsProxy : public ClientThroughTinyproxy {
 protected:
  void SetUp() override {
    ClientThroughTinyproxy::SetUp();
    if (IsSkipped()) return;
    terminator_ = std::make_unique<TlsTerminator>(proxy_->port());
  }
  std::string https_proxy_url() const {
    return "https://" + kUser + ":" + kPassword + "@127.0.0.1:" + port_text(terminator_->port());
  }
  std::unique_ptr<TlsTerminator> terminator_;
};

TEST_F(ClientThroughHttpsProxy, WssRunsTlsInsideTheTlsSessionWithTheProxy) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("alice");
  o.tls.ca_pem += terminator_->certificate_pem();  // the proxy's certificate is trusted the same way
  o.proxy.url = https_proxy_url();
  expect_one_delivered(o);
  EXPECT_TRUE(proxy_saw_connect()) << proxy_->log();
}

TEST_F(ClientThroughHttpsProxy, WsRunsInsideTheTlsSessionWithTheProxy) {
  start_server(base_server_options());
  auto o = ws_options("alice");
  o.tls.use_system_store = false;
  o.tls.ca_pem = terminator_->certificate_pem();
  o.proxy.url = https_proxy_url();
  expect_one_delivered(o);
}

TEST_F(ClientThroughHttpsProxy, AnUntrustedProxyCertificateIsTlsUntrustedNamingTheProxy) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("alice");  // trusts the test CA, not the proxy's certificate
  o.proxy.url = https_proxy_url();
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  const auto e = rec.wait_reason(make_error_code(errc::tls_untrusted));
  ASSERT_TRUE(e.has_value()) << details_of(rec);
  EXPECT_THAT(e->detail, HasSubstr("TLS to the proxy"));
  EXPECT_THAT(e->detail, HasSubstr("via proxy https://<credentials>@127.0.0.1:"));
  EXPECT_THAT(details_of(rec) + logs_.all(), Not(HasSubstr(kPassword)));
  EXPECT_EQ(server_->connection_count(), 0u);
}

class ClientThroughDante : public ProxiedClient {
 protected:
  void SetUp() override {
    ProxiedClient::SetUp();
    const auto binary = danted_binary();
    if (!binary) GTEST_SKIP() << "danted is not installed (package dante-server; scripts/deps.sh installs it)";
    proxy_ = start_danted(*binary);
  }
  void TearDown() override {
    if (proxy_ && HasFailure()) std::cerr << "danted log:\n" << proxy_->log();
    ProxiedClient::TearDown();
  }
  void expect_delivery_through(const std::string& proxy_url, const std::string& host) {
    start_server(base_server_options());
    auto o = ws_options("alice");
    o.url = "ws://" + host + ":" + port_text(port_) + "/v1/stream";
    o.proxy.url = proxy_url;
    expect_one_delivered(o);
    EXPECT_THAT(logs_.all(), HasSubstr("via proxy socks5"));
  }
  std::unique_ptr<RunningProxy> proxy_;
};

TEST_F(ClientThroughDante, Socks5hHandsTheNameToTheProxy) {
  expect_delivery_through("socks5h://127.0.0.1:" + port_text(proxy_->port()), "localhost");
}

TEST_F(ClientThroughDante, Socks5ResolvesTheNameItselfAndHandsTheProxyAnAddress) {
  expect_delivery_through("socks5://127.0.0.1:" + port_text(proxy_->port()), "localhost");
}

// The environment, opt-in: a proxy that is down would be used unless NO_PROXY exempts the
// server.
TEST_F(ProxiedClient, FromTheEnvironmentNoProxyExemptsTheServerAndOtherwiseTheProxyIsUsed) {
  start_server(base_server_options());
  const auto dead_proxy = "http://127.0.0.1:" + port_text(pick_free_port());
  {
    ScopedProxyEnvironment env({{"http_proxy", dead_proxy}, {"no_proxy", "localhost,127.0.0.1"}});
    auto o = ws_options("alice");
    o.proxy = ProxyOptions::from_environment();
    Client client(o);
    Recorder rec;
    rec.attach(client);
    client.start();
    EXPECT_TRUE(rec.wait_state(State::connected)) << details_of(rec);
  }
  {
    ScopedProxyEnvironment env({{"http_proxy", dead_proxy}});
    auto o = ws_options("alice");
    o.proxy = ProxyOptions::from_environment();
    Client client(o);
    Recorder rec;
    rec.attach(client);
    client.start();
    const auto e = rec.wait_reason(make_error_code(errc::proxy_failed));
    ASSERT_TRUE(e.has_value()) << details_of(rec);
    EXPECT_THAT(e->detail, HasSubstr("connect 127.0.0.1:"));
    EXPECT_TRUE(e->reason == condition::transient);
  }
}

TEST_F(ProxiedClient, AnInvalidProxyUrlIsRefusedByTheConstructorWithoutQuotingIt) {
  auto o = ws_options("alice");
  o.proxy.url = "ftp://user:hunter2@proxy:21";
  try {
    Client client(o);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("ClientOptions.proxy"));
    EXPECT_THAT(e.what(), Not(HasSubstr("hunter2")));
  }
}

// A peer that completes the TCP handshake (the kernel's backlog) and then never reads
// or answers: the attempt ends at its one deadline, naming the step it was in.
class SilentPeer {
 public:
  SilentPeer() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {}
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
};

TEST_F(ProxiedClient, AProxyThatNeverAnswersIsAProxyFailureAtTheAttemptDeadline) {
  SilentPeer silent_proxy;
  auto o = ws_options("alice");
  o.url = "ws://127.0.0.1:9/v1/stream";  // never reached
  o.proxy.url = "http://127.0.0.1:" + port_text(silent_proxy.port());
  o.connect_timeout = 300ms;
  Client client(o);
  Recorder rec;
  rec.attach(client);
  const auto started = std::chrono::steady_clock::now();
  client.start();
  const auto e = rec.wait_reason(make_error_code(errc::proxy_failed));
  ASSERT_TRUE(e.has_value()) << details_of(rec);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
  EXPECT_THAT(e->detail, HasSubstr("timed out after 300 ms opening the tunnel through the proxy"));
}

TEST_F(ProxiedClient, AServerThatNeverAnswersTheUpgradeTimesOutAtTheAttemptDeadline) {
  SilentPeer silent_server;
  auto o = ws_options("alice");
  o.url = "ws://127.0.0.1:" + port_text(silent_server.port()) + "/v1/stream";
  o.connect_timeout = 300ms;
  Client client(o);
  Recorder rec;
  rec.attach(client);
  client.start();
  const auto e = rec.wait_reason(make_error_code(errc::connect_failed));
  ASSERT_TRUE(e.has_value()) << details_of(rec);
  EXPECT_THAT(e->detail, HasSubstr("timed out after 300 ms in the WebSocket upgrade"));
}

}  // namespace
}  // namespace herald::test
