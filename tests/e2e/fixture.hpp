// An in-process reference server on 127.0.0.1:0 and helpers to build clients for it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "herald/client.hpp"
#include "support/recorder.hpp"
#include "support/server_fixture.hpp"

namespace herald::test {

class ServerFixture : public InProcessServerTest {
 protected:
  server::ServerOptions server_options(std::string db = ":memory:") const { return base_server_options(std::move(db)); }
  std::string url() const { return stream_url(); }

  /// Options for user `user` whose tokens come from the in-process issuer.
  ClientOptions client_options(const std::string& user, std::shared_ptr<CursorStore> cursor = nullptr) const {
    return base_client_options(url(), user, std::move(cursor));
  }

  /// Publishes `n` notifications to `user`; returns their ids.
  std::vector<std::uint64_t> publish_many(const std::string& user, int n) {
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(server_->publish(user, "t", "{}"));
    return ids;
  }

  /// The ids a fresh client of `user` on `store` is handed, once it has `expected`.
  std::vector<std::uint64_t> next_client_receives(const std::string& user, std::shared_ptr<CursorStore> store,
                                                  std::size_t expected) {
    Client next(client_options(user, std::move(store)));
    Recorder rec;
    rec.attach(next);
    next.start();
    EXPECT_TRUE(rec.wait_ids(expected));
    next.stop();
    return rec.ids();
  }
};

}  // namespace herald::test
