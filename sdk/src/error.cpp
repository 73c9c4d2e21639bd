#include "herald/error.hpp"

namespace herald {
namespace {

class ErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "herald"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::connect_failed: return "could not connect to the server";
      case errc::handshake_failed: return "the server refused the connection for now";
      case errc::connection_lost: return "the connection was lost";
      case errc::closed_by_server: return "the server closed the connection";
      case errc::protocol_violation: return "the server violated the protocol";
      case errc::liveness_timeout: return "the connection went silent (half-open)";
      case errc::token_expired: return "the token expired";
      case errc::token_fetch_failed: return "the token provider failed";
      case errc::history_reset: return "the server's history was reset";
      case errc::tls_untrusted: return "the server's certificate is not trusted";
      case errc::tls_expired: return "the server's certificate has expired or is not valid yet";
      case errc::tls_host_mismatch: return "the server's certificate is for another host";
      case errc::tls_pin_mismatch: return "the server's key matches no configured pin";
      case errc::tls_protocol: return "TLS negotiation failed (version, cipher or not TLS)";
      case errc::auth_failed: return "authentication failed";
      case errc::bad_request: return "the server rejected the request as malformed";
      case errc::invalid_url: return "the URL cannot be used";
      case errc::retries_exhausted: return "gave up reconnecting";
      case errc::proxy_failed: return "the proxy could not open a tunnel to the server";
      case errc::proxy_auth_failed: return "the proxy rejected the credentials";
      case errc::tls_client_cert_required: return "the server requires a client certificate";
    }
    return "unknown herald error";
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    return is_permanent(static_cast<errc>(ev)) ? make_error_condition(condition::permanent)
                                               : make_error_condition(condition::transient);
  }
};

class ConditionCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "herald.condition"; }
  std::string message(int ev) const override {
    return static_cast<condition>(ev) == condition::permanent ? "permanent failure" : "transient failure";
  }
};

}  // namespace

const std::error_category& error_category() noexcept {
  static const ErrorCategory category;
  return category;
}

const std::error_category& condition_category() noexcept {
  static const ConditionCategory category;
  return category;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), error_category()}; }

std::error_condition make_error_condition(condition c) noexcept { return {static_cast<int>(c), condition_category()}; }

bool is_permanent(errc e) noexcept { return static_cast<int>(e) >= static_cast<int>(errc::auth_failed); }

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::connect_failed: return "connect_failed";
    case errc::handshake_failed: return "handshake_failed";
    case errc::connection_lost: return "connection_lost";
    case errc::closed_by_server: return "closed_by_server";
    case errc::protocol_violation: return "protocol_violation";
    case errc::liveness_timeout: return "liveness_timeout";
    case errc::token_expired: return "token_expired";
    case errc::token_fetch_failed: return "token_fetch_failed";
    case errc::history_reset: return "history_reset";
    case errc::tls_untrusted: return "tls_untrusted";
    case errc::tls_expired: return "tls_expired";
    case errc::tls_host_mismatch: return "tls_host_mismatch";
    case errc::tls_pin_mismatch: return "tls_pin_mismatch";
    case errc::tls_protocol: return "tls_protocol";
    case errc::auth_failed: return "auth_failed";
    case errc::bad_request: return "bad_request";
    case errc::invalid_url: return "invalid_url";
    case errc::retries_exhausted: return "retries_exhausted";
    case errc::proxy_failed: return "proxy_failed";
    case errc::proxy_auth_failed: return "proxy_auth_failed";
    case errc::tls_client_cert_required: return "tls_client_cert_required";
  }
  return "unknown";
}

}  // namespace herald
