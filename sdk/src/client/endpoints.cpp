#include "client/endpoints.hpp"

#include <algorithm>
#include <random>
#include <stdexcept>
#include <variant>

#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

// url first (when set), then urls, in the order configured.
std::vector<std::string> configured_urls(const ClientOptions& o) {
  std::vector<std::string> out;
  if (!o.url.empty()) out.push_back(o.url);
  out.insert(out.end(), o.urls.begin(), o.urls.end());
  return out;
}

// The proxy of `url`, if any. An https:// proxy gets a TLS context of its own: the
// application's trust, but neither the stream server's pins nor its client certificate.
std::optional<ProxyRoute> proxy_route(const ClientOptions& o, const StreamUrl& url) {
  auto choice = select_proxy(o.proxy, url);
  auto* endpoint = std::get_if<ProxyEndpoint>(&choice);
  if (!endpoint) return std::nullopt;  // direct (check_proxy_options refused an invalid option)
  ProxyRoute route{std::move(*endpoint), nullptr};
  if (route.endpoint.kind == ProxyKind::https) {
    TlsOptions trust = o.tls;
    trust.pins.clear();
    trust.client_cert_file.clear();
    trust.client_cert_pem.clear();
    trust.client_key_file.clear();
    trust.client_key_pem.clear();
    route.tls = TlsClientContext::create(trust);
  }
  return route;
}

}  // namespace

void check_stream_urls(const ClientOptions& o) {
  if (o.url.empty() && o.urls.empty()) throw std::invalid_argument("ClientOptions.url is required");
  std::string error;
  if (!o.url.empty() && !parse_stream_url(o.url, error)) throw std::invalid_argument("ClientOptions.url: " + error);
  for (std::size_t i = 0; i < o.urls.size(); ++i) {
    if (!parse_stream_url(o.urls[i], error)) {
      throw std::invalid_argument("ClientOptions.urls[" + std::to_string(i) + "]: " + error);
    }
  }
}

Endpoints::Endpoints(const ClientOptions& options) {
  for (auto& text : configured_urls(options)) {
    std::string error;
    Endpoint e{text, *parse_stream_url(text, error), nullptr, std::nullopt};  // checked before
    // Only wss:// needs a TLS context; creating one costs milliseconds in OpenSSL 3,
    // which adds up for a process that runs thousands of plain clients.
    if (e.url.tls) {
      if (!tls_) tls_ = TlsClientContext::create(options.tls);  // throws naming the field
      e.tls = tls_;
    }
    e.proxy = proxy_route(options, e.url);
    endpoints_.push_back(std::move(e));
  }
  if (endpoints_.size() > 1) {
    std::mt19937_64 rng(std::random_device{}());
    std::shuffle(endpoints_.begin(), endpoints_.end(), rng);
  }
}

void Endpoints::failed(std::size_t index) {
  if (index == current_) current_ = (current_ + 1) % endpoints_.size();
}

}  // namespace herald::detail
