// How a proxy tunnel failed: proxy_failed (transient) or proxy_auth_failed (permanent),
// and a detail for the report. A detail never contains credentials.
#pragma once

#include <string>
#include <string_view>
#include <utility>

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

/// Ends a composed proxy exchange (async_compose's `self`) with `error`: the completion
/// signature of every tunnel operation is void(std::error_code, std::string detail).
template <class Self>
void complete_with(Self& self, ProxyError error) {
  self.complete(make_error_code(error.code), std::move(error.detail));
}

}  // namespace herald::detail
