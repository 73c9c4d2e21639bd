// The server's OpenSSL context, built from ServerOptions::tls_*: TLS 1.2 minimum, the
// certificate chain and key, and optionally the client CAs of mTLS.
#pragma once

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "herald/server/server.hpp"

namespace herald::server::detail {

/// nullptr when the options configure no TLS. Throws std::invalid_argument naming the
/// field whose file cannot be used (the message never holds the key's content).
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const ServerOptions& options);

}  // namespace herald::server::detail
