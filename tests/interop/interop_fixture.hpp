// The base of the compression and interop tests: the in-process server fixture (temp
// folder, token issuer), notifications of about 225 bytes on the wire (the size the
// measurements in docs/networks.md use), and for the node tests the `node` binary and
// Debian's `ws` module, or a skip saying which is missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/server_fixture.hpp"

namespace herald::test {

/// The `data` of notification `i`: an order update, about 160 bytes, so that the frame
/// the server sends (id, created_at, topic around it) is about 225 bytes. Alike from one
/// notification to the next, as real streams are, which is what deflate exploits.
inline std::string order_data(std::uint64_t i) {
  return nlohmann::json{{"order_id", "ord-" + std::to_string(100000 + i)},
                        {"status", "shipped"},
                        {"carrier", "DHL Express"},
                        {"tracking", "JD01460000" + std::to_string(1000 + i)},
                        {"eta", "2026-12-03"},
                        {"note", "Your parcel is on its way to you."}}
      .dump();
}

/// The JSON objects among the lines of `text` (a node script's stdout); other lines
/// (node's warnings) are skipped.
inline std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line.front() != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

/// The first line whose "event" is `event`, if any.
inline std::optional<nlohmann::json> find_event(const std::vector<nlohmann::json>& lines, const std::string& event) {
  for (const auto& l : lines) {
    if (l.value("event", "") == event) return l;
  }
  return std::nullopt;
}

class NodeWsTest : public InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    auto node = find_binary({"/usr/bin/node", "/usr/bin/nodejs", "/usr/local/bin/node"});
    if (!node) GTEST_SKIP() << "node is not installed (scripts/deps.sh installs nodejs)";
    if (!std::filesystem::exists("/usr/share/nodejs/ws/package.json")) {
      GTEST_SKIP() << "node's ws module (/usr/share/nodejs/ws) is missing (scripts/deps.sh installs node-ws)";
    }
    node_ = *node;
  }

  static std::string script(const std::string& name) { return std::string(HERALD_INTEROP_DIR) + "/" + name; }

  std::string node_;
};

}  // namespace herald::test
