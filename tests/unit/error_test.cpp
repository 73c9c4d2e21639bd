// herald::errc: one category, permanent vs transient conditions, stable names.
#include "herald/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <system_error>

namespace herald {
namespace {

constexpr errc kTransient[] = {errc::connect_failed,   errc::handshake_failed,   errc::connection_lost,
                               errc::closed_by_server, errc::protocol_violation, errc::liveness_timeout,
                               errc::token_expired,    errc::token_fetch_failed, errc::tls_untrusted,
                               errc::tls_expired,      errc::tls_host_mismatch,  errc::tls_pin_mismatch,
                               errc::tls_protocol};
constexpr errc kPermanent[] = {errc::auth_failed, errc::bad_request, errc::invalid_url, errc::retries_exhausted,
                               errc::tls_client_cert_required};

TEST(Errc, ValuesAreStable) {
  EXPECT_EQ(static_cast<int>(errc::connect_failed), 1);
  EXPECT_EQ(static_cast<int>(errc::token_fetch_failed), 8);
  EXPECT_EQ(static_cast<int>(errc::auth_failed), 100);
  EXPECT_EQ(static_cast<int>(errc::retries_exhausted), 103);
  EXPECT_EQ(static_cast<int>(errc::tls_untrusted), 20);
  EXPECT_EQ(static_cast<int>(errc::tls_protocol), 24);
  EXPECT_EQ(static_cast<int>(errc::tls_client_cert_required), 120);
}

TEST(Errc, TlsCodesHaveTheirDocumentedNames) {
  EXPECT_STREQ(to_string(errc::tls_untrusted), "tls_untrusted");
  EXPECT_STREQ(to_string(errc::tls_expired), "tls_expired");
  EXPECT_STREQ(to_string(errc::tls_host_mismatch), "tls_host_mismatch");
  EXPECT_STREQ(to_string(errc::tls_pin_mismatch), "tls_pin_mismatch");
  EXPECT_STREQ(to_string(errc::tls_protocol), "tls_protocol");
  EXPECT_STREQ(to_string(errc::tls_client_cert_required), "tls_client_cert_required");
}

TEST(Errc, ConvertsImplicitlyToErrorCodeOfTheHeraldCategory) {
  const std::error_code ec = errc::auth_failed;
  EXPECT_EQ(ec.category(), error_category());
  EXPECT_STREQ(ec.category().name(), "herald");
  EXPECT_EQ(ec.value(), 100);
  EXPECT_TRUE(ec);
  EXPECT_EQ(ec, make_error_code(errc::auth_failed));
  EXPECT_NE(ec, make_error_code(errc::bad_request));
}

TEST(Errc, TransientCodesMatchTheTransientCondition) {
  for (auto e : kTransient) {
    const std::error_code ec = e;
    EXPECT_FALSE(is_permanent(e)) << to_string(e);
    EXPECT_TRUE(ec == condition::transient) << to_string(e);
    EXPECT_FALSE(ec == condition::permanent) << to_string(e);
  }
}

TEST(Errc, PermanentCodesMatchThePermanentCondition) {
  for (auto e : kPermanent) {
    const std::error_code ec = e;
    EXPECT_TRUE(is_permanent(e)) << to_string(e);
    EXPECT_TRUE(ec == condition::permanent) << to_string(e);
    EXPECT_FALSE(ec == condition::transient) << to_string(e);
  }
}

TEST(Errc, OtherCategoriesDoNotMatchHeraldConditions) {
  const auto ec = std::make_error_code(std::errc::connection_refused);
  EXPECT_FALSE(ec == condition::transient);
  EXPECT_FALSE(ec == condition::permanent);
  EXPECT_STREQ(condition_category().name(), "herald.condition");
}

TEST(Errc, NamesAreStableSnakeCaseAndUnique) {
  EXPECT_STREQ(to_string(errc::connect_failed), "connect_failed");
  EXPECT_STREQ(to_string(errc::handshake_failed), "handshake_failed");
  EXPECT_STREQ(to_string(errc::connection_lost), "connection_lost");
  EXPECT_STREQ(to_string(errc::closed_by_server), "closed_by_server");
  EXPECT_STREQ(to_string(errc::protocol_violation), "protocol_violation");
  EXPECT_STREQ(to_string(errc::liveness_timeout), "liveness_timeout");
  EXPECT_STREQ(to_string(errc::token_expired), "token_expired");
  EXPECT_STREQ(to_string(errc::token_fetch_failed), "token_fetch_failed");
  EXPECT_STREQ(to_string(errc::auth_failed), "auth_failed");
  EXPECT_STREQ(to_string(errc::bad_request), "bad_request");
  EXPECT_STREQ(to_string(errc::invalid_url), "invalid_url");
  EXPECT_STREQ(to_string(errc::retries_exhausted), "retries_exhausted");
  EXPECT_STREQ(to_string(static_cast<errc>(55)), "unknown");
}

TEST(Errc, EveryCodeHasItsOwnHumanMessage) {
  std::set<std::string> messages;
  auto add = [&](errc e) {
    const auto m = make_error_code(e).message();
    EXPECT_FALSE(m.empty()) << to_string(e);
    EXPECT_NE(m, "unknown herald error") << to_string(e);
    EXPECT_TRUE(messages.insert(m).second) << "duplicate message: " << m;
  };
  for (auto e : kTransient) add(e);
  for (auto e : kPermanent) add(e);
  EXPECT_EQ(error_category().message(9999), "unknown herald error");
}

TEST(Errc, ConditionMessages) {
  EXPECT_EQ(make_error_condition(condition::permanent).message(), "permanent failure");
  EXPECT_EQ(make_error_condition(condition::transient).message(), "transient failure");
}

TEST(Errc, ProxyCodesHaveStableValuesNamesAndClasses) {
  EXPECT_EQ(static_cast<int>(errc::proxy_failed), 40);
  EXPECT_EQ(static_cast<int>(errc::proxy_auth_failed), 140);
  EXPECT_STREQ(to_string(errc::proxy_failed), "proxy_failed");
  EXPECT_STREQ(to_string(errc::proxy_auth_failed), "proxy_auth_failed");
  EXPECT_FALSE(is_permanent(errc::proxy_failed));
  EXPECT_TRUE(is_permanent(errc::proxy_auth_failed));
  EXPECT_TRUE(std::error_code(errc::proxy_failed) == condition::transient);
  EXPECT_TRUE(std::error_code(errc::proxy_auth_failed) == condition::permanent);
  const auto failed = make_error_code(errc::proxy_failed).message();
  const auto auth = make_error_code(errc::proxy_auth_failed).message();
  EXPECT_NE(failed, "unknown herald error");
  EXPECT_NE(auth, "unknown herald error");
  EXPECT_NE(failed, auth);
}

}  // namespace
}  // namespace herald
