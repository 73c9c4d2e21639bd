// Stream URLs: ws:// and wss:// only, and never with a token in the query.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald::detail {

struct StreamUrl {
  bool tls = false;
  std::string host;
  std::string port;    ///< "80"/"443" when the URL names none
  std::string target;  ///< path and query, e.g. "/v1/stream"
};

/// Parses `url`; on failure returns nullopt and sets `error` (which never repeats the
/// query string, since it might hold a secret).
std::optional<StreamUrl> parse_stream_url(std::string_view url, std::string& error);

/// True if the query string has a parameter named token, access_token or jwt.
bool query_carries_token(std::string_view target);

}  // namespace herald::detail
