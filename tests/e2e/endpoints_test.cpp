// End to end: a client given several stream endpoints (ClientOptions::urls), here two
// reference servers on one SQLite file. Clients spread their first connections over the
// endpoints, skip one that does not answer, and move to the next when theirs goes away,
// catching up from their cursor with nothing lost.
#include <map>

#include "e2e/fixture.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;

class Endpoints : public ServerFixture {
 protected:
  /// A server on the shared SQLite file, on 127.0.0.1:0.
  std::unique_ptr<server::Server> start_instance() {
    auto o = server_options(db_file());
    o.port = 0;
    auto s = std::make_unique<server::Server>(std::move(o));
    s->start();
    return s;
  }
  static std::string url_of(const server::Server& s) {
    return "ws://127.0.0.1:" + std::to_string(s.port()) + "/v1/stream";
  }
  ClientOptions options_for(std::vector<std::string> urls) const {
    auto o = client_options("alice", std::make_shared<MemoryCursorStore>(Cursor{0}));
    o.url.clear();
    o.urls = std::move(urls);
    return o;
  }
};

TEST_F(Endpoints, AFleetSpreadsItsFirstConnectionsOverTheEndpoints) {
  auto a = start_instance();
  auto b = start_instance();
  constexpr int kClients = 16;  // all on one endpoint by chance: 2 in 65,536
  std::map<std::string, int> first_endpoints;
  for (int i = 0; i < kClients; ++i) {
    Client client(options_for({url_of(*a), url_of(*b)}));
    Recorder rec;
    rec.attach(client);
    client.start();
    ASSERT_TRUE(rec.wait_state(State::connected));
    ++first_endpoints[client.metrics().endpoint];
  }
  EXPECT_EQ(first_endpoints.size(), 2u) << "every client picked " << first_endpoints.begin()->first;
  EXPECT_EQ(first_endpoints.count(url_of(*a)) + first_endpoints.count(url_of(*b)), first_endpoints.size());
}

TEST_F(Endpoints, AnEndpointThatDoesNotAnswerIsSkipped) {
  auto live = start_instance();
  std::string dead_url;
  {
    auto gone = start_instance();
    dead_url = url_of(*gone);
  }  // stopped: its port refuses now
  Client client(options_for({dead_url, url_of(*live)}));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  EXPECT_EQ(client.metrics().endpoint, url_of(*live));
  const auto id = live->publish("alice", "t", "{}");
  ASSERT_TRUE(rec.wait_ids(1));
  EXPECT_EQ(rec.ids(), std::vector<std::uint64_t>{id});
}

TEST_F(Endpoints, WhenItsEndpointGoesTheClientMovesToTheNextWithNothingLost) {
  std::map<std::string, std::unique_ptr<server::Server>> servers;
  for (int i = 0; i < 2; ++i) {
    auto s = start_instance();
    const auto url = url_of(*s);
    servers[url] = std::move(s);
  }
  Client client(options_for({servers.begin()->first, servers.rbegin()->first}));
  Recorder rec;
  rec.attach(client);
  client.start();
  ASSERT_TRUE(rec.wait_state(State::connected));
  const auto first = client.metrics().endpoint;
  ASSERT_EQ(servers.count(first), 1u) << first;
  std::vector<std::uint64_t> published;
  for (int i = 0; i < 3; ++i) published.push_back(servers[first]->publish("alice", "on-first", "{}"));
  ASSERT_TRUE(rec.wait_ids(3));

  servers.erase(first);  // the instance goes away; publishing goes on at the other one
  auto& other = *servers.begin()->second;
  for (int i = 0; i < 3; ++i) published.push_back(other.publish("alice", "on-second", "{}"));
  ASSERT_TRUE(rec.wait_state(State::connected, 2));
  EXPECT_EQ(client.metrics().endpoint, url_of(other));
  ASSERT_TRUE(rec.wait_ids(6));
  published.push_back(other.publish("alice", "live", "{}"));
  ASSERT_TRUE(rec.wait_ids(7));
  EXPECT_EQ(rec.ids(), published);
  EXPECT_TRUE(rec.gaps().empty());
}

}  // namespace
}  // namespace herald::test
