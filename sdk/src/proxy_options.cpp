// herald::ProxyOptions: reading the environment (curl's precedence) and a summary
// without credentials.
#include <cstdlib>

#include "herald/proxy.hpp"
#include "transport/proxy/proxy_selection.hpp"

namespace herald {
namespace {

std::string getenv_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

// Lower case first, then upper case (an empty value counts as unset).
std::string first_set(const char* lower_name, const char* upper_name) {
  std::string value = getenv_or_empty(lower_name);
  if (value.empty() && upper_name) value = getenv_or_empty(upper_name);
  return value;
}

std::string describe_url(const std::string& url) {
  if (url.empty()) return "direct";
  std::string error;
  const auto endpoint = detail::parse_proxy_url(url, error);
  return endpoint ? detail::describe(*endpoint) : "<invalid proxy URL>";
}

}  // namespace

ProxyOptions ProxyOptions::from_environment() {
  ProxyOptions out;
  out.wss_url = first_set("https_proxy", "HTTPS_PROXY");
  out.ws_url = first_set("http_proxy", nullptr);  // never HTTP_PROXY: "httpoxy" (CGI sets it from a header)
  out.url = first_set("all_proxy", "ALL_PROXY");
  out.no_proxy = detail::split_no_proxy(first_set("no_proxy", "NO_PROXY"));
  return out;
}

std::string to_string(const ProxyOptions& options) {
  const auto effective = [&](const std::string& specific) { return specific.empty() ? options.url : specific; };
  std::string out =
      "wss: " + describe_url(effective(options.wss_url)) + ", ws: " + describe_url(effective(options.ws_url));
  if (!options.no_proxy.empty()) {
    out += ", no_proxy: ";
    for (std::size_t i = 0; i < options.no_proxy.size(); ++i) out += (i ? "," : "") + options.no_proxy[i];
  }
  return out;
}

}  // namespace herald
