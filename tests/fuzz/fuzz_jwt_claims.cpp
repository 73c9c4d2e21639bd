// libFuzzer target: read_jwt_times on arbitrary bytes. It is noexcept, so a throw
// inside is a crash; ASan/UBSan catch the rest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "token/jwt_claims.hpp"

#ifndef HERALD_FUZZ_ENTRY
#define HERALD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

extern "C" int HERALD_FUZZ_ENTRY(const std::uint8_t* data, std::size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  const auto times = herald::detail::read_jwt_times(token);
  // Anything longer than the 16 KiB limit is never read.
  if (size > 16 * 1024 && (times.iat || times.exp)) std::abort();
  return 0;
}
