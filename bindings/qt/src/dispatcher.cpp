#include <QMetaObject>
#include <utility>

#include "session.hpp"

namespace herald::qt::detail {

void Dispatcher::post(Task task) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    wake = queue_.empty();
    queue_.push_back(std::move(task));
  }
  // By name: no functor object is shared with Qt's (uninstrumented) event queue.
  if (wake) QMetaObject::invokeMethod(this, "drain", Qt::QueuedConnection);
}

void Dispatcher::drain() {
  if (depth_ > 0) return;  // re-entered from a nested event loop: the outer drain() goes on
  ++depth_;
  while (owner_ != nullptr) {
    Task task;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) break;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task(*owner_);  // may end the session (owner_ cleared) or delete the Client
  }
  --depth_;
}

}  // namespace herald::qt::detail
