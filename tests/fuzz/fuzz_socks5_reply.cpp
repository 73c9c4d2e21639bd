// libFuzzer target: the SOCKS5 decoders on arbitrary bytes, read the way
// async_socks5_connect reads them. A decoder that asks for no more bytes than it has
// would spin the I/O loop, and one that claims more bytes than it was given would read
// past the reply: both abort.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <variant>

#include "transport/proxy/socks5_codec.hpp"

#ifndef HERALD_FUZZ_ENTRY
#define HERALD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

extern "C" int HERALD_FUZZ_ENTRY(const std::uint8_t* data, std::size_t size) {
  using namespace herald::detail;
  const ByteView input(data, size);
  if (size >= 2) {
    (void)decode_socks5_method(input.first(2), (data[0] & 1) != 0);
    (void)decode_socks5_auth_reply(input.first(2));
  }
  // As the I/O loop does: start empty, read exactly what the decoder asks for.
  std::size_t have = 0;
  for (int round = 0; round < 8; ++round) {
    const auto decoded = decode_socks5_reply(input.first(have));
    if (const auto* need = std::get_if<Socks5NeedBytes>(&decoded)) {
      if (need->total <= have || need->total > 4 + 1 + 255 + 2) std::abort();
      if (need->total > size) break;  // the "proxy" closed early
      have = need->total;
      continue;
    }
    if (const auto* reply = std::get_if<Socks5Reply>(&decoded)) {
      if (reply->size != have || reply->bound_address.size() > 255) std::abort();
      (void)socks5_reply_text(reply->code);
    }
    break;
  }
  return 0;
}
