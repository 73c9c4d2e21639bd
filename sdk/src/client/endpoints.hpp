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

/// Throws std::invalid_argument naming the field ("ClientOptions.urls[1]: ...") when a
/// URL is unusable, or when neither `url` nor `urls` names one.
void check_stream_urls(const ClientOptions& options);

class Endpoints {
 public:
  /// Parses (validated by check_stream_urls) and shuffles the endpoints of `options`.
  /// Creates one TLS context for all wss:// endpoints and a proxy route per endpoint;
  /// throws std::invalid_argument naming a TLS field that cannot be loaded.
  explicit Endpoints(const ClientOptions& options);

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
