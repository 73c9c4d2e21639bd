// How a proxy tunnel failed: proxy_failed (transient) or proxy_auth_failed (permanent),
// and a detail for the report. A detail never contains credentials.
#pragma once

#include <string>
#include <string_view>

#include <boost/system/error_code.hpp>

#include "herald/error.hpp"

namespace herald::detail {

struct ProxyError {
  errc code = errc::proxy_failed;
  std::string detail;
};

/// proxy_failed for an I/O error while `step` ("reading the CONNECT answer"): names a
/// close by the proxy and the caller's deadline (beast::error::timeout) in words.
ProxyError proxy_io_error(std::string_view step, const boost::system::error_code& ec);

}  // namespace herald::detail
