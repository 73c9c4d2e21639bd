// Compact JWTs with a chosen payload, for tests of code that reads their claims. The
// signature is junk: the SDK reads claims without verifying them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace herald::detail {

// base64url without padding, written out here so the test does not trust the SDK's
// decoder to check itself.
inline std::string b64url(std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 0x3Fu];
  }
  if (in.size() - i == 1) {
    const std::uint32_t v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 0x3Fu];
    out += kAlphabet[(v >> 12) & 0x3Fu];
  } else if (in.size() - i == 2) {
    const std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(v >> shift) & 0x3Fu];
  }
  return out;
}

inline std::string jwt(std::string_view payload_json) {
  return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload_json) + "." + b64url("not-a-real-signature");
}

}  // namespace herald::detail
