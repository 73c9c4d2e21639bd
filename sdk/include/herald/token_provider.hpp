// How the SDK obtains tokens: the application implements TokenProvider.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "herald/export.hpp"

namespace herald {

/// An access token (a JWT) and, if the application knows it, when it expires. Without
/// an explicit expiry the SDK reads the JWT's `exp` claim; the lifetime starts at the
/// JWT's `iat` (or the token's arrival). Claims are decoded, not verified: otherwise the
/// token is opaque to the SDK. The expiry drives the proactive refresh (see
/// ClientOptions::token_refresh); a token without a known expiry is never refreshed
/// proactively, only replaced when the server ends the connection (4001).
/// The value is a secret: the SDK never logs it, puts it in an error or in a URL.
struct Token {
  std::string value;
  std::optional<std::chrono::system_clock::time_point> expires_at;
};

/// Either a token or the reason none could be had.
struct TokenResult {
  TokenResult() = default;
  // A constructor, not an aggregate, so that {token} and {nullopt, "why"} stay valid
  // (and warning-free) with `code` defaulted.
  TokenResult(std::optional<Token> token_, std::string error_ = {}, std::error_code code_ = {})
      : token(std::move(token_)), error(std::move(error_)), code(code_) {}

  std::optional<Token> token;  ///< set on success
  std::string error;           ///< on failure: a human message (never the token)
  /// On failure, what kind. Empty (the default) or a transient code: the fetch is retried
  /// with backoff, reported as errc::token_fetch_failed. A permanent herald::errc —
  /// typically errc::auth_failed, when the user signed out or lost access — stops the
  /// client at once with that code (a live connection included): no retry, the
  /// application must sign the user in again. `error` (else the code's message) is the
  /// state event's detail.
  std::error_code code;
};

/// Supplies tokens, typically from the application's auth backend.
///
/// fetch() is called on the client's I/O thread and must not block it: start the
/// work and call `done` exactly once, from any thread, when it completes. Calls are
/// single-flight: the SDK does not call fetch() again while a fetch of the same client
/// is outstanding — one answer serves a reconnect, a refresh and a drain move alike —
/// except after ClientOptions::token_timeout, when the outstanding fetch is abandoned
/// (its late answer is ignored). A failed fetch (an error, or a token that is already
/// expired or the same as the one in use) is retried with backoff while the current
/// token is valid. Calling `done` after the client stopped is harmless.
class HERALD_API TokenProvider {
 public:
  using Callback = std::function<void(TokenResult)>;
  virtual ~TokenProvider() = default;
  virtual void fetch(Callback done) = 0;

  /// A provider that runs `get` on a thread of its own for each fetch, so a blocking
  /// call (an HTTP request, a subprocess) never stalls the I/O thread. `get` may throw;
  /// the exception's message becomes the error (it must not contain the token), and a
  /// std::system_error's code becomes TokenResult::code — so
  /// `throw std::system_error(herald::errc::auth_failed, "signed out")` stops the client. The
  /// thread is detached: a `get` still running when the client is destroyed finishes
  /// on its own (its answer is dropped), so it must own, or share ownership of, what it
  /// uses — capture shared_ptrs, not raw pointers to objects that may be gone.
  static std::shared_ptr<TokenProvider> from_blocking(std::function<Token()> get);

  /// A provider that always returns the same token (tests, tools).
  static std::shared_ptr<TokenProvider> fixed(std::string token);
};

}  // namespace herald
