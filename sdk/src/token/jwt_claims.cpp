#include "token/jwt_claims.hpp"

#include <simdjson.h>

#include <array>
#include <string>

namespace herald::detail {
namespace {

constexpr std::size_t kMaxTokenBytes = 16 * 1024;

// base64url without padding -> bytes; nullopt on a character outside the alphabet.
std::optional<std::string> base64url_decode(std::string_view in) {
  static constexpr auto table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(alphabet[i])] = i;
    return t;
  }();
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFFu));
    }
  }
  return out;
}

std::optional<std::int64_t> number_claim(const simdjson::dom::object& obj, std::string_view key) {
  auto field = obj.at_key(key);
  std::int64_t i = 0;
  if (field.get(i) == simdjson::SUCCESS) return i;
  double d = 0;
  if (field.get(d) == simdjson::SUCCESS && d > 0 && d < 1e15) return static_cast<std::int64_t>(d);
  return std::nullopt;
}

}  // namespace

JwtTimes read_jwt_times(std::string_view token) noexcept {
  try {
    if (token.size() > kMaxTokenBytes) return {};
    const auto first = token.find('.');
    if (first == std::string_view::npos) return {};
    const auto second = token.find('.', first + 1);
    if (second == std::string_view::npos) return {};
    auto payload = base64url_decode(token.substr(first + 1, second - first - 1));
    if (!payload) return {};
    simdjson::dom::parser parser;
    simdjson::dom::object obj;
    if (parser.parse(*payload).get(obj) != simdjson::SUCCESS) return {};
    return {number_claim(obj, "iat"), number_claim(obj, "exp")};
  } catch (...) {  // allocation failure: treat as unreadable
    return {};
  }
}

}  // namespace herald::detail
