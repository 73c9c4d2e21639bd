#include "herald/token_provider.hpp"

#include <system_error>
#include <thread>

namespace herald {
namespace {

class BlockingProvider final : public TokenProvider {
 public:
  explicit BlockingProvider(std::function<Token()> get)
      : get_(std::make_shared<std::function<Token()>>(std::move(get))) {}

  void fetch(Callback done) override {
    // A thread per fetch: fetches are rare (one per connection or refresh), and a
    // blocking provider must never stall the client's I/O thread.
    std::thread([get = get_, done = std::move(done)] {
      TokenResult result;
      try {
        result.token = (*get)();
      } catch (const std::system_error& e) {
        result.error = e.what();
        result.code = e.code();
      } catch (const std::exception& e) {
        result.error = e.what();
      } catch (...) {
        result.error = "token provider failed";
      }
      done(std::move(result));
    }).detach();
  }

 private:
  std::shared_ptr<std::function<Token()>> get_;
};

class FixedProvider final : public TokenProvider {
 public:
  explicit FixedProvider(std::string token) : token_(std::move(token)) {}
  void fetch(Callback done) override { done(TokenResult{Token{token_, std::nullopt}, {}, {}}); }

 private:
  std::string token_;
};

}  // namespace

std::shared_ptr<TokenProvider> TokenProvider::from_blocking(std::function<Token()> get) {
  return std::make_shared<BlockingProvider>(std::move(get));
}

std::shared_ptr<TokenProvider> TokenProvider::fixed(std::string token) {
  return std::make_shared<FixedProvider>(std::move(token));
}

}  // namespace herald
