// The stream endpoints of a client (ClientOptions::url and ::urls): each URL parsed once
// with its TLS context and proxy route, in a shuffled order, so that a fleet of clients
// configured alike does not stampede the first one. Attempts go to the current
// endpoint; it moves on to the next one when an attempt to it failed or a connection to
// it was lost, and stays while it works.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/options.hpp"
#include "herald/client.hpp"
#include "transport/tls_context.hpp"
#include "transport/url.hpp"
#include "transport/ws_connection.hpp"

namespace herald::detail {

struct Endpoint {
  std::string text;  ///< the URL as configured (ClientMetrics::endpoint)
  StreamUrl url;
  std::shared_ptr<TlsClientContext> tls;  ///< wss:// only
  std::optional<ProxyRoute> proxy;        ///< the proxy of this URL, if any
};

class Endpoints {
 public:
  /// Shuffles `urls` (parsed by check_options). Creates one TLS context for all wss://
  /// endpoints and a proxy route per endpoint, from `options`; throws
  /// std::invalid_argument naming a TLS field that cannot be loaded.
  Endpoints(const ClientOptions& options, std::vector<ConfiguredUrl> urls);

  const Endpoint& current() const { return endpoints_[current_]; }
  std::size_t current_index() const { return current_; }
  std::size_t size() const { return endpoints_.size(); }
  /// The failure of an attempt or connection to endpoint `index`: if that is the current
  /// one, the next one in the shuffled order becomes current.
  void failed(std::size_t index);
  /// The TLS context of the wss:// endpoints (null when there are none).
  const std::shared_ptr<TlsClientContext>& tls() const { return tls_; }

 private:
  std::shared_ptr<TlsClientContext> tls_;
  std::vector<Endpoint> endpoints_;
  std::size_t current_ = 0;
};

}  // namespace herald::detail
