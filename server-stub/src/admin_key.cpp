#include "admin_key.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "json_util.hpp"

namespace herald::server::detail {
namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

}  // namespace

std::string_view bearer_credentials(std::string_view authorization) noexcept {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return {};
  }
  std::string_view rest = authorization.substr(kScheme.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

AdminKey::AdminKey(std::string_view key) : digest_(sha256(key)) {}

bool AdminKey::authorizes(std::string_view authorization) const {
  const std::string_view given = bearer_credentials(authorization);
  // Hashing first makes the comparison length-independent as well.
  const auto candidate = sha256(given);
  const bool match = CRYPTO_memcmp(candidate.data(), digest_.data(), digest_.size()) == 0;
  return match && !given.empty();
}

}  // namespace herald::server::detail
