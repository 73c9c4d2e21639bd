#include "connections.hpp"

#include <vector>

namespace herald::server::detail {

std::uint64_t ConnectionRegistry::add(std::weak_ptr<Connection> c) {
  const std::uint64_t id = next_id_++;
  all_.emplace(id, std::move(c));
  return id;
}

void ConnectionRegistry::remove(std::uint64_t id) { all_.erase(id); }

void ConnectionRegistry::subscribe(const std::string& user_id, std::uint64_t id,
                                   std::weak_ptr<LiveStream> s) {
  if (by_user_[user_id].emplace(id, std::move(s)).second) live_count_.fetch_add(1);
}

void ConnectionRegistry::unsubscribe(const std::string& user_id, std::uint64_t id) {
  const auto it = by_user_.find(user_id);
  if (it == by_user_.end()) return;
  if (it->second.erase(id) > 0) live_count_.fetch_sub(1);
  if (it->second.empty()) by_user_.erase(it);
}

void ConnectionRegistry::fan_out(const StoredNotification& n) {
  const auto it = by_user_.find(n.user_id);
  if (it == by_user_.end()) return;
  // Copy first: a stream may unsubscribe (close) while it is handed the notification.
  std::vector<std::shared_ptr<LiveStream>> targets;
  for (const auto& [id, weak] : it->second) {
    if (auto s = weak.lock()) targets.push_back(std::move(s));
  }
  for (const auto& s : targets) s->on_live(n);
}

void ConnectionRegistry::shutdown_all() {
  shutting_down_ = true;
  std::vector<std::shared_ptr<Connection>> targets;
  for (const auto& [id, weak] : all_) {
    if (auto c = weak.lock()) targets.push_back(std::move(c));
  }
  for (const auto& c : targets) c->shutdown();
}

}  // namespace herald::server::detail
