// wss:// trust: the test CA works end to end; each bad certificate fails with its own
// errc, retried no sooner than backoff_max apart; the verifier hook; pins; validation
// of TlsOptions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "tls_fixture.hpp"

namespace herald::test {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class TlsTrustTest : public TlsFixture {
 protected:
  /// Connects `o`, publishes two notifications, expects both delivered in order.
  void expect_stream_works(ClientOptions o) {
    Recorder rec;
    Client client(std::move(o));
    rec.attach(client);
    client.start();
    ASSERT_TRUE(rec.wait_state(State::connected)) << "never connected over wss://";
    server_->publish("u1", "comment", R"({"n":1})");
    server_->publish("u1", "comment", R"({"n":2})");
    ASSERT_TRUE(rec.wait_ids(2));
    EXPECT_EQ(rec.ids(), (std::vector<std::uint64_t>{1, 2}));
    client.stop();
  }

  /// Starts `o`, waits for three failures with `expected`, checks their spacing.
  void expect_refused_with(ClientOptions o, errc expected, const std::string& detail_part) {
    TimedStates states;
    Client client(std::move(o));
    states.attach(client);
    client.start();
    const auto failures = states.wait_reason(expected, 3);
    ASSERT_GE(failures.size(), 3u) << "expected three failures with " << to_string(expected);
    EXPECT_THAT(failures[0].event.detail, HasSubstr(detail_part));
    EXPECT_EQ(failures[0].event.state, State::reconnecting);
    // The floor is backoff_max (300 ms) for TLS failures; plain failures would use 20 ms.
    for (std::size_t i = 1; i < failures.size(); ++i) {
      EXPECT_GE(failures[i].at - failures[i - 1].at, 280ms) << "attempt " << i << " came too soon";
    }
    client.stop();
    EXPECT_EQ(server_->connection_count(), 0u);
  }
};

TEST_F(TlsTrustTest, WssWithTheTestCaDeliversNotifications) {
  start_tls_server(pki_->server());
  expect_stream_works(tls_client_options("u1"));
}

TEST_F(TlsTrustTest, WssToLocalhostByNameWorksToo) {
  start_tls_server(pki_->server());
  expect_stream_works(tls_client_options("u1", "localhost"));
}

TEST_F(TlsTrustTest, CaFromAFileWorks) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.ca_pem.clear();
  o.tls.ca_file = pki_->ca().cert_file.string();
  expect_stream_works(std::move(o));
}

TEST_F(TlsTrustTest, ExpiredCertificateIsTlsExpired) {
  start_tls_server(pki_->expired());
  expect_refused_with(tls_client_options("u1"), errc::tls_expired, "certificate has expired");
}

TEST_F(TlsTrustTest, NotYetValidCertificateIsTlsExpired) {
  start_tls_server(pki_->not_yet_valid());
  expect_refused_with(tls_client_options("u1"), errc::tls_expired, "not yet valid");
}

TEST_F(TlsTrustTest, CertificateForAnotherHostIsTlsHostMismatch) {
  start_tls_server(pki_->other_host());
  expect_refused_with(tls_client_options("u1"), errc::tls_host_mismatch, "IP address mismatch");
}

TEST_F(TlsTrustTest, CertificateForAnotherHostNameIsTlsHostMismatch) {
  start_tls_server(pki_->other_host());
  expect_refused_with(tls_client_options("u1", "localhost"), errc::tls_host_mismatch, "hostname mismatch");
}

TEST_F(TlsTrustTest, SelfSignedCertificateIsTlsUntrusted) {
  start_tls_server(pki_->self_signed());
  expect_refused_with(tls_client_options("u1"), errc::tls_untrusted, "self-signed");
}

TEST_F(TlsTrustTest, UnknownCaIsTlsUntrusted) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.ca_pem.clear();  // trusts nothing at all
  expect_refused_with(std::move(o), errc::tls_untrusted, "unable to get local issuer certificate");
}

TEST_F(TlsTrustTest, VerifierHookDecidesTrustAndSeesTheChainAndHost) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.ca_pem.clear();  // OpenSSL alone would refuse: the hook decides
  auto seen = std::make_shared<std::pair<std::size_t, std::string>>();
  o.tls.verifier = [seen](const std::vector<std::string>& der_chain, const std::string& host) {
    seen->first = der_chain.size();
    seen->second = host;
    return TlsVerifyResult::accept();
  };
  expect_stream_works(std::move(o));
  EXPECT_EQ(seen->first, 1u);  // the server sends its leaf only
  EXPECT_EQ(seen->second, "127.0.0.1");
}

TEST_F(TlsTrustTest, VerifierHookRejectionIsTlsUntrustedWithItsReason) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.verifier = [](const std::vector<std::string>&, const std::string&) {
    return TlsVerifyResult::reject("SecTrust says no");
  };
  expect_refused_with(std::move(o), errc::tls_untrusted, "SecTrust says no");
}

TEST_F(TlsTrustTest, VerifierHookCannotWaiveTheHostNameCheck) {
  start_tls_server(pki_->other_host());
  auto o = tls_client_options("u1");
  o.tls.verifier = [](const std::vector<std::string>&, const std::string&) { return TlsVerifyResult::accept(); };
  expect_refused_with(std::move(o), errc::tls_host_mismatch, "not for 127.0.0.1");
}

TEST_F(TlsTrustTest, MatchingLeafPinAmongSeveralWorks) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.pins = {TestPki::pin_of(pki_->client()), TestPki::pin_of(pki_->server())};
  expect_stream_works(std::move(o));
}

TEST_F(TlsTrustTest, PinOfTheCaMatchesTheVerifiedChain) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.pins = {TestPki::pin_of(pki_->ca())};
  expect_stream_works(std::move(o));
}

TEST_F(TlsTrustTest, PinMismatchIsRefusedWithTlsPinMismatch) {
  start_tls_server(pki_->server());
  auto o = tls_client_options("u1");
  o.tls.pins = {TestPki::pin_of(pki_->other_host())};
  expect_refused_with(std::move(o), errc::tls_pin_mismatch, "matches a pin");
}

// ---- validation of TlsOptions --------------------------------------------------------

std::string construction_error(ClientOptions o) {
  try {
    Client c(std::move(o));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST_F(TlsTrustTest, BadOptionsAreRejectedNamingTheField) {
  {
    auto o = tls_client_options("u1");
    o.tls.pins = {"sha1/AAAA"};
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.pins"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.pins = {"sha256/not-base64-at-all-but-44-characters-long!"};
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.pins"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.ca_pem = "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n";
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.ca_pem"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.ca_file = (dir_ / "missing.pem").string();
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.ca_file"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.ca_dir = (dir_ / "missing-dir").string();
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.ca_dir"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.client_cert_pem = pki_->client().cert_pem;
    EXPECT_THAT(construction_error(std::move(o)), HasSubstr("ClientOptions.tls.client_key_file"));
  }
  {
    auto o = tls_client_options("u1");
    o.tls.client_cert_pem = pki_->client().cert_pem;
    o.tls.client_key_pem = pki_->server().key_pem;  // another key
    const auto error = construction_error(std::move(o));
    EXPECT_THAT(error, HasSubstr("ClientOptions.tls.client_key"));
    EXPECT_THAT(error, ::testing::Not(HasSubstr("PRIVATE KEY")));
  }
  {
    auto o = tls_client_options("u1");
    std::string broken = pki_->client().key_pem;
    broken[40] = broken[40] == 'A' ? 'B' : 'A';
    broken.resize(broken.size() / 2);
    o.tls.client_cert_pem = pki_->client().cert_pem;
    o.tls.client_key_pem = broken;
    const auto error = construction_error(std::move(o));
    EXPECT_THAT(error, HasSubstr("ClientOptions.tls.client_key_pem"));
    EXPECT_THAT(error, ::testing::Not(HasSubstr(broken.substr(30, 20))));
  }
}

TEST_F(TlsTrustTest, PlainUrlsIgnoreTlsOptions) {
  auto o = tls_client_options("u1");
  o.url = "ws://127.0.0.1:1/v1/stream";
  o.tls.pins = {"not a pin"};
  EXPECT_EQ(construction_error(std::move(o)), "<no exception>");
}

// ---- validation of the server's TLS options ------------------------------------------

std::string server_error(server::ServerOptions o) {
  try {
    server::Server s(std::move(o));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST_F(TlsTrustTest, BadServerTlsOptionsAreRejectedNamingTheField) {
  {
    auto o = base_server_options();
    o.tls_cert_file = pki_->server().cert_file.string();
    EXPECT_THAT(server_error(std::move(o)), HasSubstr("ServerOptions.tls_key_file"));
  }
  {
    auto o = base_server_options();
    o.tls_cert_file = (dir_ / "missing.crt").string();
    o.tls_key_file = pki_->server().key_file.string();
    EXPECT_THAT(server_error(std::move(o)), HasSubstr("ServerOptions.tls_cert_file"));
  }
  {
    auto o = base_server_options();
    o.tls_cert_file = pki_->server().cert_file.string();
    o.tls_key_file = pki_->client().key_file.string();  // another certificate's key
    const auto error = server_error(std::move(o));
    EXPECT_THAT(error, HasSubstr("ServerOptions.tls_key_file"));
    EXPECT_THAT(error, ::testing::Not(HasSubstr("PRIVATE KEY")));
  }
  {
    auto o = base_server_options();
    o.tls_client_ca_file = pki_->ca().cert_file.string();
    EXPECT_THAT(server_error(std::move(o)), HasSubstr("ServerOptions.tls_client_ca_file"));
  }
}

}  // namespace
}  // namespace herald::test
