// A tiny blocking HTTP/1.1 client (POSIX sockets, Connection: close) for publishing
// through a server's admin API from a test thread. Every step is bounded by a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace herald::test {

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// POSTs `body` (application/json) to http://127.0.0.1:`port``target`, with
/// `Authorization: Bearer <bearer>` when `bearer` is not empty. nullopt on any
/// transport failure (refused, reset, timeout, unparsable answer).
std::optional<HttpResponse> http_post(std::uint16_t port, const std::string& target, const std::string& body,
                                      const std::string& bearer,
                                      std::chrono::milliseconds timeout = std::chrono::seconds{5});

/// Publishes through the admin API; the id the server acknowledged, or nullopt.
std::optional<std::uint64_t> admin_publish(std::uint16_t port, const std::string& admin_key, const std::string& user,
                                           const std::string& topic, const std::string& data_json);

}  // namespace herald::test
