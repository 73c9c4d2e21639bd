#include "transport/proxy/proxy_selection.hpp"

#include <stdexcept>

namespace herald::detail {
namespace {

struct NamedUrl {
  const char* field;
  const std::string* url;
};

NamedUrl url_for(const ProxyOptions& options, bool tls) {
  const std::string& specific = tls ? options.wss_url : options.ws_url;
  if (!specific.empty()) return {tls ? "ProxyOptions::wss_url" : "ProxyOptions::ws_url", &specific};
  return {"ProxyOptions::url", &options.url};
}

}  // namespace

ProxyChoice select_proxy(const ProxyOptions& options, const StreamUrl& target) {
  const NamedUrl chosen = url_for(options, target.tls);
  if (chosen.url->empty()) return DirectConnection{};
  if (no_proxy_matches(options.no_proxy, target.host)) return DirectConnection{};
  std::string error;
  auto endpoint = parse_proxy_url(*chosen.url, error);
  if (!endpoint) return InvalidProxyOption{std::string(chosen.field) + ": " + error};
  return std::move(*endpoint);
}

void check_proxy_options(const ProxyOptions& options) {
  const NamedUrl fields[] = {{"ProxyOptions::url", &options.url},
                             {"ProxyOptions::ws_url", &options.ws_url},
                             {"ProxyOptions::wss_url", &options.wss_url}};
  for (const auto& f : fields) {
    if (f.url->empty()) continue;
    std::string error;
    if (!parse_proxy_url(*f.url, error)) throw std::invalid_argument(std::string(f.field) + ": " + error);
  }
}

}  // namespace herald::detail
