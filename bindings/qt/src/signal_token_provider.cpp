#include <utility>

#include "session.hpp"

namespace herald::qt::detail {

void SignalTokenProvider::fetch(Callback done) {
  {
    std::lock_guard lock(mutex_);
    // The SDK never runs two fetches at once; one it gave up on (timeout) is replaced.
    pending_ = std::move(done);
  }
  dispatcher_->post([](Client& c) { c.request_token(); });
}

void SignalTokenProvider::answer(herald::TokenResult result) {
  Callback done;
  {
    std::lock_guard lock(mutex_);
    done = std::exchange(pending_, nullptr);
  }
  if (done) done(std::move(result));  // exactly once: the callback was taken out
}

void SignalTokenProvider::cancel() {
  std::lock_guard lock(mutex_);
  pending_ = nullptr;
}

}  // namespace herald::qt::detail
