// Lifecycle's reaction to TLS failures (docs/networks.md, "Errors"): the transient TLS
// codes are retried, but never sooner than backoff_max apart and with the backoff
// growing as usual; tls_client_cert_required stops the client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "lifecycle_harness.hpp"

namespace herald::test {
namespace {

using ::testing::ElementsAre;

class LifecycleTlsTest : public ::testing::TestWithParam<errc> {};

TEST_P(LifecycleTlsTest, TransientTlsFailureIsRetriedNoSoonerThanBackoffMaxWithItsOwnReason) {
  LifecycleHarness h(std::nullopt, without_jitter());
  h.start();
  h.token();
  std::vector<long long> delays;
  for (int i = 0; i < 3; ++i) {
    const auto acts = h.lifecycle().connect_failed(h.clock.now(), h.conn(), "certificate verify failed", GetParam());
    const auto state = last_state(acts);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state, State::reconnecting);
    EXPECT_EQ(state->reason, GetParam());
    EXPECT_EQ(state->detail, "certificate verify failed");
    delays.push_back(delay_ms(acts, h.clock.now()));
    h.clock.advance(std::chrono::milliseconds{delays.back()});
    h.fire_reconnect();
  }
  // backoff_max is 30 s by default: the floor, whatever the exponential says.
  EXPECT_THAT(delays, ElementsAre(30000, 30000, 30000));
}

INSTANTIATE_TEST_SUITE_P(TransientCodes, LifecycleTlsTest,
                         ::testing::Values(errc::tls_untrusted, errc::tls_expired, errc::tls_host_mismatch,
                                           errc::tls_pin_mismatch, errc::tls_protocol),
                         [](const ::testing::TestParamInfo<errc>& p) { return std::string(to_string(p.param)); });

TEST(LifecycleTls, PlainConnectFailureKeepsTheShortBackoff) {
  LifecycleHarness h(std::nullopt, without_jitter());
  h.start();
  h.token();
  EXPECT_EQ(delay_ms(h.connect_failed(), h.clock.now()), 500);
}

TEST(LifecycleTls, ClientCertificateRequiredStopsTheClient) {
  LifecycleHarness h;
  h.start();
  h.token();
  const auto acts = h.lifecycle().connect_failed(h.clock.now(), h.conn(), "tlsv13 alert certificate required",
                                                 errc::tls_client_cert_required);
  const auto state = last_state(acts);
  ASSERT_TRUE(state);
  EXPECT_EQ(state->state, State::stopped);
  EXPECT_EQ(state->reason, errc::tls_client_cert_required);
  EXPECT_FALSE(armed_at(acts, TimerKind::reconnect));
  EXPECT_EQ(count<detail::OpenConnection>(acts), 0u);
}

}  // namespace
}  // namespace herald::test
