#include "client/endpoints.hpp"

#include <algorithm>
#include <random>
#include <variant>

#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

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

Endpoints::Endpoints(const ClientOptions& options, std::vector<ConfiguredUrl> urls) {
  for (auto& [text, url] : urls) {
    Endpoint e{std::move(text), std::move(url), nullptr, std::nullopt};
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
