// End to end, token lifecycle: 20 consecutive refreshes of short tokens while the
// server publishes steadily, in-band and by make-before-break (every id once, in order,
// no state change); revocation stops the client; an expired token on a live connection
// is replaced within a second. Every log line of both sides, captured at trace level,
// and every state detail are searched for every token issued.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "e2e/fixture.hpp"

#ifndef HERALD_TEST_SCALE
#define HERALD_TEST_SCALE 100
#endif

namespace herald::test {
namespace {

using namespace std::chrono_literals;

/// Refreshes per mode: 20 in the plain build, fewer under the (slower) sanitizers.
constexpr int kRefreshes = std::max(4, 20 * HERALD_TEST_SCALE / 100);

class TokenLifecycle : public ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    // Both sides at trace level, every line kept.
    previous_logger_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(server_log_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
    issued_->issuer = issuer_;
  }
  void TearDown() override {
    server_.reset();
    spdlog::set_default_logger(previous_logger_);
    expect_no_token_anywhere();
    ServerFixture::TearDown();
  }

  /// Client options for `user` whose tokens (each valid `ttl`) are recorded.
  ClientOptions token_client(const std::string& user, std::chrono::seconds ttl) {
    auto o = client_options(user);
    auto* self = this;
    // The fetch thread may outlive the test (a refresh due as the client stops): it
    // shares ownership of what it touches.
    o.token_provider = TokenProvider::from_blocking([issued = issued_, user, ttl] {
      auto t = issued->issuer->issue_token(user, ttl);
      std::lock_guard l(issued->m);
      issued->tokens.push_back(t);
      return Token{t, std::nullopt};  // expiry from the JWT's exp, lifetime from its iat
    });
    o.log_level = LogLevel::trace;
    o.logger = [self](LogLevel, std::string_view line) {
      std::lock_guard l(self->m_);
      self->client_log_.emplace_back(line);
    };
    return o;
  }
  std::size_t tokens_issued() {
    std::lock_guard l(issued_->m);
    return issued_->tokens.size();
  }
  /// Refreshes completed so far, as the client's log tells them.
  std::size_t refreshes_done() {
    std::lock_guard l(m_);
    return static_cast<std::size_t>(std::count_if(client_log_.begin(), client_log_.end(), [](const std::string& line) {
      return line.find("token refreshed in-band") != std::string::npos ||
             line.find("switched to the new connection") != std::string::npos;
    }));
  }

  /// The secret-leak check: no log line of either side, and no state detail, contains
  /// any token issued (or its signature), the JWT secret or the admin key.
  void expect_no_token_anywhere() {
    std::lock_guard l(m_);
    std::vector<std::string> haystacks = client_log_;
    haystacks.push_back(server_log_.str());
    for (const auto& e : details_) haystacks.push_back(e);
    std::vector<std::string> needles;
    {
      std::lock_guard li(issued_->m);
      needles = issued_->tokens;
    }
    for (const auto& t : std::vector<std::string>(needles))
      needles.push_back(t.substr(t.rfind('.') + 1));  // the signature alone
    const auto opts = server_options();
    needles.push_back(opts.jwt_secret);
    needles.push_back(opts.admin_key);
    std::size_t hits = 0;
    for (const auto& hay : haystacks) {
      for (const auto& needle : needles) {
        if (!needle.empty() && hay.find(needle) != std::string::npos) {
          ++hits;
          ADD_FAILURE() << "a secret appears in: " << hay.substr(0, 200);
        }
      }
    }
    EXPECT_EQ(hits, 0u);
    EXPECT_FALSE(client_log_.empty()) << "the client logged nothing: the scan would prove nothing";
    EXPECT_FALSE(server_log_.str().empty()) << "the server logged nothing: the scan would prove nothing";
  }

  void keep_details(const Recorder& rec) {
    std::lock_guard l(m_);
    for (const auto& e : rec.states()) details_.push_back(e.detail);
  }

  /// Publishes to `user` every `every` until told to stop; counts what it published.
  class Publisher {
   public:
    Publisher(server::Server& s, std::string user, std::chrono::milliseconds every)
        : thread_([this, &s, user, every] {
            while (!stop_) {
              s.publish(user, "tick", R"({"n":)" + std::to_string(published_ + 1) + "}");
              ++published_;
              std::this_thread::sleep_for(every);  // pacing of the publisher, not synchronisation
            }
          }) {}
    ~Publisher() { finish(); }
    std::uint64_t finish() {
      stop_ = true;
      if (thread_.joinable()) thread_.join();
      return published_;
    }

   private:
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> published_{0};
    std::thread thread_;
  };

  /// 20 refreshes of 3 s tokens under a steady stream; `m` gets the client's metrics.
  void run_refreshes(bool server_reauth, ClientMetrics& m) {
    auto so = server_options();
    so.leeway = 1s;  // a missed refresh would end the connection with 4001: visible
    so.reauth = server_reauth;
    start_server(so);
    Client client(token_client("alice", 3s));
    Recorder rec;
    rec.attach(client);
    client.start();
    EXPECT_TRUE(rec.wait_state(State::connected));

    std::uint64_t published = 0;
    {
      Publisher pub(*server_, "alice", 5ms);  // about 200 per second
      EXPECT_TRUE(eventually([&] { return refreshes_done() >= kRefreshes; }, 120s))
          << "refreshes completed: " << refreshes_done();
      published = pub.finish();
    }
    EXPECT_TRUE(rec.wait_ids(published)) << rec.ids().size() << " of " << published;
    const auto ids = rec.ids();
    ASSERT_EQ(ids.size(), published) << "every id exactly once";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] != i + 1) {
        ADD_FAILURE() << "id " << ids[i] << " at position " << i << ": not in order, or lost/doubled";
        break;
      }
    }
    const auto states = rec.states();
    ASSERT_EQ(states.size(), 2u) << "the application sees connecting, connected and nothing else";
    EXPECT_EQ(states[0].state, State::connecting);
    EXPECT_EQ(states[1].state, State::connected);
    EXPECT_TRUE(rec.gaps().empty());
    // Publishing every 5 ms: a refresh that held the stream up would show as a pause.
    const auto pause = std::chrono::duration_cast<std::chrono::milliseconds>(rec.longest_pause());
    EXPECT_LT(pause, 1s) << "generous bound; the measured value is printed below";
    m = client.metrics();
    client.stop();
    keep_details(rec);
    std::cout << "[ measured ] " << (server_reauth ? "in-band" : "make-before-break") << ": " << refreshes_done()
              << " refreshes, " << published << " notifications, " << m.connects << " connections, longest pause "
              << pause.count() << " ms\n";
  }

  struct Issued {
    std::mutex m;
    std::vector<std::string> tokens;
    std::shared_ptr<server::Server> issuer;  // never started: it only signs tokens
  };
  std::shared_ptr<Issued> issued_ = std::make_shared<Issued>();
  std::mutex m_;
  std::vector<std::string> client_log_;
  std::vector<std::string> details_;
  std::ostringstream server_log_;
  std::shared_ptr<spdlog::logger> previous_logger_;
};

TEST_F(TokenLifecycle, TwentyInBandRefreshesUnderASteadyStreamLoseAndDoubleNothing) {
  ClientMetrics m;
  ASSERT_NO_FATAL_FAILURE(run_refreshes(/*server_reauth=*/true, m));
  EXPECT_EQ(m.connects, 1u) << "in-band: one connection throughout";
  EXPECT_GE(m.token_refreshes, static_cast<std::uint64_t>(kRefreshes));
  EXPECT_EQ(m.duplicates_dropped, 0u);
}

TEST_F(TokenLifecycle, TwentyMakeBeforeBreakRefreshesUnderASteadyStreamLoseAndDoubleNothing) {
  ClientMetrics m;
  ASSERT_NO_FATAL_FAILURE(run_refreshes(/*server_reauth=*/false, m));
  EXPECT_GE(m.connects, static_cast<std::uint64_t>(kRefreshes) + 1) << "a new connection per refresh";
  EXPECT_GE(m.token_refreshes, static_cast<std::uint64_t>(kRefreshes));
}

TEST_F(TokenLifecycle, ARevokedUserIsStoppedAtOnceWithoutRetrying) {
  start_server(server_options());
  Client client(token_client("alice", 1h));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  server_->publish("alice", "t", R"({"n":1})");
  ASSERT_TRUE(rec.wait_ids(1));

  const auto revoked_at = std::chrono::steady_clock::now();
  server_->revoke("alice");
  ASSERT_TRUE(rec.wait_state(State::stopped, 1));
  const auto took = std::chrono::steady_clock::now() - revoked_at;
  const auto last = rec.states().back();
  EXPECT_EQ(last.reason, errc::auth_failed);
  EXPECT_TRUE(last.reason == condition::permanent);
  EXPECT_NE(last.detail.find("4003"), std::string::npos) << last.detail;
  EXPECT_LT(took, 2s) << "one round trip on loopback (generous bound)";
  std::cout << "[ measured ] revoke -> stopped in "
            << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us\n";
  EXPECT_EQ(client.metrics().connects, 1u) << "no retry";
  EXPECT_EQ(rec.count_state(State::reconnecting), 0u) << "no retry storm";
  keep_details(rec);
}

TEST_F(TokenLifecycle, AnExpiredTokenOnALiveConnectionIsReplacedWithinASecond) {
  auto so = server_options();
  so.leeway = 0s;
  start_server(so);
  auto o = token_client("alice", 2s);
  o.token_refresh = false;  // let it expire
  Client client(std::move(o));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  server_->publish("alice", "t", R"({"n":1})");
  ASSERT_TRUE(rec.wait_state(State::reconnecting, 1));
  const auto dropped = std::chrono::steady_clock::now();
  ASSERT_TRUE(rec.wait_state(State::connected, 2));
  const auto took = std::chrono::steady_clock::now() - dropped;
  const auto states = rec.states();
  EXPECT_EQ(states[2].reason, errc::token_expired) << states[2].detail;
  EXPECT_LT(took, 1s);
  std::cout << "[ measured ] 4001 -> connected again in "
            << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us\n";
  server_->publish("alice", "t", R"({"n":2})");
  ASSERT_TRUE(rec.wait_ids(2));
  EXPECT_EQ(rec.ids(), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_GE(tokens_issued(), 2u);
  client.stop();
  keep_details(rec);
}

}  // namespace
}  // namespace herald::test
