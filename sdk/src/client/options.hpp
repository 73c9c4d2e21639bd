// ClientOptions checked once, at construction: every field validated (an exception
// naming the first bad one), the stream URLs parsed, and the lifecycle's share of the
// settings mapped to its LifecycleConfig. Pure: no I/O, no Asio.
#pragma once

#include <string>
#include <vector>

#include "herald/client.hpp"
#include "lifecycle/lifecycle.hpp"
#include "transport/url.hpp"

namespace herald::detail {

/// A stream URL as configured, and parsed.
struct ConfiguredUrl {
  std::string text;  ///< as written in ClientOptions::url or ::urls (ClientMetrics::endpoint)
  StreamUrl url;
};

/// Options every field of which was checked.
struct CheckedOptions {
  ClientOptions options;            ///< cursor_store defaulted to a MemoryCursorStore
  std::vector<ConfiguredUrl> urls;  ///< `url` first (when set), then `urls`, in order
};

/// Throws std::invalid_argument naming the first unusable field ("ClientOptions.urls[1]:
/// ...", "ClientOptions.backoff_max must be >= backoff_initial"). Never quotes a URL's
/// credentials or a token.
CheckedOptions check_options(ClientOptions options);

LifecycleConfig lifecycle_config(const ClientOptions& options);

}  // namespace herald::detail
