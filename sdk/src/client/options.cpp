#include "client/options.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

#include "transport/proxy/proxy_selection.hpp"

namespace herald::detail {
namespace {

[[noreturn]] void refuse(const std::string& what) { throw std::invalid_argument("ClientOptions." + what); }

ConfiguredUrl parsed(const std::string& text, const std::string& field) {
  std::string error;
  auto url = parse_stream_url(text, error);
  if (!url) refuse(field + ": " + error);
  return ConfiguredUrl{text, std::move(*url)};
}

std::vector<ConfiguredUrl> stream_urls(const ClientOptions& o) {
  if (o.url.empty() && o.urls.empty()) refuse("url is required");
  std::vector<ConfiguredUrl> out;
  if (!o.url.empty()) out.push_back(parsed(o.url, "url"));
  for (std::size_t i = 0; i < o.urls.size(); ++i) out.push_back(parsed(o.urls[i], "urls[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

CheckedOptions check_options(ClientOptions o) {
  if (!o.token_provider) refuse("token_provider is required");
  auto urls = stream_urls(o);
  if (o.connect_timeout.count() <= 0) refuse("connect_timeout must be positive");
  try {
    check_proxy_options(o.proxy);
  } catch (const std::invalid_argument& e) {
    refuse(std::string("proxy: ") + e.what());
  }
  if (o.token_timeout.count() <= 0) refuse("token_timeout must be positive");
  if (o.backoff_initial.count() <= 0) refuse("backoff_initial must be positive");
  if (o.backoff_max < o.backoff_initial) refuse("backoff_max must be >= backoff_initial");
  if (o.max_frame_bytes < 1024) refuse("max_frame_bytes must be at least 1024");
  if (!(o.token_refresh_at > 0.0 && o.token_refresh_at < 1.0)) refuse("token_refresh_at must be in (0, 1)");
  if (o.token_refresh_interval.count() < 0) refuse("token_refresh_interval must not be negative");
  if (!(o.token_refresh_spread >= 0.0 && o.token_refresh_spread <= 0.2)) {
    refuse("token_refresh_spread must be in [0, 0.2]");
  }
  if (o.retry_after_max.count() <= 0) refuse("retry_after_max must be positive");
  if (o.reconnect_now_within.count() < 0) refuse("reconnect_now_within must not be negative");
  if (o.cursor_flush_interval.count() < 0) refuse("cursor_flush_interval must not be negative");
  if (!o.cursor_store) o.cursor_store = std::make_shared<MemoryCursorStore>();
  return CheckedOptions{std::move(o), std::move(urls)};
}

LifecycleConfig lifecycle_config(const ClientOptions& o) {
  LifecycleConfig c;
  c.backoff_initial = o.backoff_initial;
  c.backoff_max = o.backoff_max;
  c.token_timeout = o.token_timeout;
  c.jitter = o.backoff_jitter;
  c.stable_after = o.backoff_reset_after;
  c.max_attempts = o.max_attempts;
  c.max_elapsed = o.max_elapsed;
  c.refresh = o.token_refresh;
  c.refresh_fraction = o.token_refresh_at;
  c.refresh_interval = o.token_refresh_interval;
  c.refresh_spread = o.token_refresh_spread;
  c.retry_after_max = o.retry_after_max;
  c.reconnect_now_within = o.reconnect_now_within;
  return c;
}

}  // namespace herald::detail
