// The admin API's bearer key, compared in constant time.
#pragma once

#include <array>
#include <string_view>

namespace herald::server::detail {

/// Keeps only the SHA-256 digest of the key. Thread safety: const members are safe.
class AdminKey {
 public:
  explicit AdminKey(std::string_view key);
  /// True when `authorization` is "Bearer <key>" (scheme case-insensitive). The time
  /// taken does not depend on how much of the key matched.
  bool authorizes(std::string_view authorization) const;

 private:
  std::array<unsigned char, 32> digest_{};
};

/// The credentials of "Bearer <credentials>" (scheme case-insensitive), or empty.
std::string_view bearer_credentials(std::string_view authorization) noexcept;

}  // namespace herald::server::detail
