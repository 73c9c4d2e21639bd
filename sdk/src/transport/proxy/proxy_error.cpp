#include "transport/proxy/proxy_error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

namespace herald::detail {

ProxyError proxy_io_error(std::string_view step, const boost::system::error_code& ec) {
  std::string detail;
  if (ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated) {
    detail = "the proxy closed the connection while " + std::string(step);
  } else if (ec == boost::beast::error::timeout) {
    detail = "timed out while " + std::string(step);
  } else {
    detail = "proxy connection failed while " + std::string(step) + ": " + ec.message();
  }
  return {errc::proxy_failed, std::move(detail)};
}

}  // namespace herald::detail
