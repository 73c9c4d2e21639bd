// Which proxy, if any, carries a connection to a stream URL: pure functions over
// herald::ProxyOptions (no environment, no I/O).
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "herald/proxy.hpp"
#include "transport/proxy/proxy_endpoint.hpp"
#include "transport/url.hpp"

namespace herald::detail {

/// Connect to the target itself.
struct DirectConnection {};

/// An option that cannot be used; `message` names the field and never repeats its value.
struct InvalidProxyOption {
  std::string message;
};

using ProxyChoice = std::variant<DirectConnection, ProxyEndpoint, InvalidProxyOption>;

/// The proxy for `target`: ws_url/wss_url by the target's scheme, else url, unless the
/// target's host matches `no_proxy` (see no_proxy_matches) or no URL applies.
ProxyChoice select_proxy(const ProxyOptions& options, const StreamUrl& target);

/// True if `host` (a name or an IP literal, IPv6 with or without brackets) matches one of
/// the NO_PROXY `rules`: "*" matches everything; a name matches itself and its
/// subdomains on label boundaries, case-insensitively, with a leading and a trailing
/// dot ignored; an IP literal matches the same address; "addr/bits" a CIDR block (IP
/// hosts only). A ":port" suffix on a rule is ignored. Empty rules are skipped.
bool no_proxy_matches(const std::vector<std::string>& rules, std::string_view host);

/// Splits a NO_PROXY value at commas (and white space), dropping empty entries.
std::vector<std::string> split_no_proxy(std::string_view value);

/// Throws std::invalid_argument naming the first unusable field ("ProxyOptions::url:
/// proxy URL has an invalid port"); the message never contains the URL.
void check_proxy_options(const ProxyOptions& options);

}  // namespace herald::detail
