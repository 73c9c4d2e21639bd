// Sets the proxy environment variables for one test and restores them afterwards: every
// one of http_proxy, HTTP_PROXY, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY,
// no_proxy, NO_PROXY is cleared first, then the given ones are set. Not thread-safe
// (setenv): use it where no other thread reads the environment.
#pragma once

#include <cstdlib>
#include <map>
#include <string>

namespace herald::test {

class ScopedProxyEnvironment {
 public:
  using Values = std::map<std::string, std::string>;

  explicit ScopedProxyEnvironment(const Values& values) {
    for (const char* name : kNames) {
      if (const char* old = std::getenv(name)) saved_[name] = old;
      ::unsetenv(name);
    }
    for (const auto& [name, value] : values) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedProxyEnvironment() {
    for (const char* name : kNames) {
      const auto it = saved_.find(name);
      if (it == saved_.end()) {
        ::unsetenv(name);
      } else {
        ::setenv(name, it->second.c_str(), 1);
      }
    }
  }
  ScopedProxyEnvironment(const ScopedProxyEnvironment&) = delete;
  ScopedProxyEnvironment& operator=(const ScopedProxyEnvironment&) = delete;

 private:
  static constexpr const char* kNames[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                           "all_proxy",  "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
  std::map<std::string, std::string> saved_;
};

}  // namespace herald::test
