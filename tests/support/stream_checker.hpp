// The one property every chaos and front-end test checks on the application-visible
// stream: each published id is handed over exactly once, and ids only ever increase.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>
#include <vector>

namespace herald::test {

/// `delivered`: ids in the order the application got them. `published`: ids the server
/// acknowledged. With `allow_unacknowledged`, delivered ids the publisher never saw
/// acknowledged are tolerated (a server killed after its commit but before its reply);
/// they must still obey the ordering.
inline ::testing::AssertionResult DeliveredExactlyOnceInOrder(const std::vector<std::uint64_t>& delivered,
                                                              const std::vector<std::uint64_t>& published,
                                                              bool allow_unacknowledged = false) {
  for (std::size_t i = 1; i < delivered.size(); ++i) {
    if (delivered[i] <= delivered[i - 1]) {
      return ::testing::AssertionFailure() << "delivered id " << delivered[i] << " at position " << i << " follows "
                                           << delivered[i - 1] << " (duplicate or reordered)";
    }
  }
  const std::set<std::uint64_t> got(delivered.begin(), delivered.end());
  std::vector<std::uint64_t> lost;
  for (auto id : published) {
    if (!got.contains(id)) lost.push_back(id);
  }
  if (!lost.empty()) {
    std::ostringstream s;
    for (std::size_t i = 0; i < lost.size() && i < 20; ++i) s << lost[i] << ' ';
    return ::testing::AssertionFailure() << lost.size() << " published id(s) never delivered: " << s.str();
  }
  if (!allow_unacknowledged && got.size() != published.size()) {
    const std::set<std::uint64_t> pub(published.begin(), published.end());
    for (auto id : delivered) {
      if (!pub.contains(id)) return ::testing::AssertionFailure() << "delivered id " << id << " was never published";
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace herald::test
