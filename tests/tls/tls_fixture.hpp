// The TLS suite's fixture: a test PKI generated into the test's temp folder, the
// reference server serving wss:// with one of its certificates on 127.0.0.1:0, and
// clients that trust the test CA only (never the system store).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "herald/client.hpp"
#include "support/recorder.hpp"
#include "support/server_fixture.hpp"
#include "support/test_pki.hpp"

namespace herald::test {

/// State changes with the moment they were reported (to check the spacing of retries).
class TimedStates {
 public:
  struct Entry {
    StateEvent event;
    std::chrono::steady_clock::time_point at;
  };
  void attach(Client& c) {
    c.on_state([this](const StateEvent& e) {
      std::lock_guard lock(mutex_);
      entries_.push_back({e, std::chrono::steady_clock::now()});
      cv_.notify_all();
    });
  }
  /// Waits (bounded) until `n` events carry `reason`; returns those events.
  std::vector<Entry> wait_reason(std::error_code reason, std::size_t n,
                                 std::chrono::milliseconds timeout = std::chrono::seconds{15}) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return with_reason_locked(reason).size() >= n; });
    return with_reason_locked(reason);
  }
  std::vector<Entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  std::vector<Entry> with_reason_locked(std::error_code reason) const {
    std::vector<Entry> out;
    for (const auto& e : entries_) {
      if (e.event.reason == reason) out.push_back(e);
    }
    return out;
  }
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Entry> entries_;
};

class TlsFixture : public InProcessServerTest {
 protected:
  void SetUp() override {
    InProcessServerTest::SetUp();
    pki_ = std::make_unique<TestPki>(dir_ / "pki");
  }

  /// Starts the reference server with `credential`; `client_ca`: require client certs.
  void start_tls_server(const TestCredential& credential, const TestCredential* client_ca = nullptr) {
    auto o = base_server_options();
    o.tls_cert_file = credential.cert_file.string();
    o.tls_key_file = credential.key_file.string();
    if (client_ca != nullptr) o.tls_client_ca_file = client_ca->cert_file.string();
    start_server(std::move(o));
  }

  std::string wss_url(const std::string& host = "127.0.0.1") const {
    return "wss://" + host + ":" + std::to_string(port_) + "/v1/stream";
  }

  /// Options for `user` that trust the test CA only; short backoff (floor = 300 ms).
  ClientOptions tls_client_options(const std::string& user, const std::string& host = "127.0.0.1") const {
    auto o = base_client_options(wss_url(host), user);
    o.backoff_max = std::chrono::milliseconds{300};
    o.tls.use_system_store = false;
    o.tls.ca_pem = pki_->ca().cert_pem;
    return o;
  }

  std::unique_ptr<TestPki> pki_;
};

}  // namespace herald::test
