// libFuzzer target: a proxy's answer to CONNECT on arbitrary bytes, read the way
// async_http_connect reads it (in the chunks connect_header_bytes_wanted allows, bounded
// by the header limit), then interpreted by Beast's parser. Reading past the header's
// end, or a header that parses as a tunnel without ending in CRLF CRLF, aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/proxy/connect_response.hpp"

#ifndef HERALD_FUZZ_ENTRY
#define HERALD_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

extern "C" int HERALD_FUZZ_ENTRY(const std::uint8_t* data, std::size_t size) {
  using namespace herald::detail;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t have = 0;
  for (;;) {
    const std::size_t wanted = connect_header_bytes_wanted(input.substr(0, have));
    if (wanted == 0) break;
    if (wanted > 4 || have + wanted > kMaxConnectResponseHeader || have + wanted > size) return 0;
    have += wanted;
  }
  const std::string_view header = input.substr(0, have);
  // The first CRLF CRLF must be the end of what was read: nothing of the tunnel read.
  if (header.find("\r\n\r\n") != have - 4) std::abort();
  const auto error = check_connect_response(header);
  if (error && error->code != herald::errc::proxy_failed && error->code != herald::errc::proxy_auth_failed)
    std::abort();
  return 0;
}
