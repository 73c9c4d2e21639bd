// One run of a herald::qt::Client: the SDK client, the context object that carries its
// reports to the QObject's thread, the token provider answered by signals, and the
// acknowledgement of what was emitted.
#pragma once

#include <QObject>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "herald/client.hpp"
#include "herald/qt/client.hpp"

namespace herald::qt::detail {

/// Carries the SDK's reports to the Client's thread. It lives there (it is the Client's
/// child). The SDK's thread appends a task to a queue under a mutex and, when the queue
/// was empty, posts one queued invocation of drain(); drain() runs the tasks in order.
/// Qt discards the posted invocation when the Dispatcher is deleted, and the queue dies
/// with it; `owner` is cleared when the Client ends the session, so a drain() that still
/// runs (the Dispatcher is deleted later because the session ended inside one of its own
/// tasks) does nothing. Tasks never nest: a slot that runs a nested event loop gets the
/// next task after it returned.
///
/// The hand-over goes through a std::mutex rather than through data captured in a posted
/// functor, so ThreadSanitizer sees it (Qt's own event queue is not instrumented).
class Dispatcher final : public QObject {
  Q_OBJECT

 public:
  using Task = std::function<void(Client&)>;

  explicit Dispatcher(Client* owner) : QObject(owner), owner_(owner) {}

  /// Any thread: runs `task(client)` on the Dispatcher's thread unless the session ended.
  void post(Task task);

  // The Client's thread only.
  void detach() { owner_ = nullptr; }
  /// True while drain() is on the stack.
  bool dispatching() const { return depth_ > 0; }

  Q_INVOKABLE void drain();

 private:
  Client* owner_;
  int depth_ = 0;
  std::mutex mutex_;
  std::deque<Task> queue_;
};

/// A TokenProvider answered through Client::tokenRequested / provideToken / tokenFailed.
class SignalTokenProvider final : public herald::TokenProvider {
 public:
  explicit SignalTokenProvider(Dispatcher* dispatcher) : dispatcher_(dispatcher) {}

  /// The SDK's I/O thread (never after the SDK client's stop() returned): keeps `done`
  /// and asks the Client's thread to emit tokenRequested. Does not block.
  void fetch(Callback done) override;
  /// Any thread: answers the pending fetch, if any (exactly once).
  void answer(herald::TokenResult result);
  /// Drops the pending fetch (the session ended).
  void cancel();

 private:
  Dispatcher* dispatcher_;
  std::mutex mutex_;
  Callback pending_;
};

struct Session {
  quint64 run = 0;                                       // tells runs apart (a slot may stop and start the client)
  Dispatcher* dispatcher = nullptr;                      // child of the Client until the session ends
  std::shared_ptr<SignalTokenProvider> signal_provider;  // null with a custom provider
  std::unique_ptr<herald::Client> client;
  std::optional<quint64> in_flight;  // the id being emitted right now
};

}  // namespace herald::qt::detail
