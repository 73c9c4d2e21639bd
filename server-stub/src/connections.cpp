#include "connections.hpp"

#include <vector>

namespace herald::server::detail {

std::uint64_t ConnectionRegistry::add(std::weak_ptr<Connection> c, ConnectionKind kind) {
  const std::uint64_t id = next_id_++;
  all_.emplace(id, Entry{std::move(c), kind});
  if (kind == ConnectionKind::stream) stream_count_.fetch_add(1);
  return id;
}

void ConnectionRegistry::remove(std::uint64_t id) {
  const auto it = all_.find(id);
  if (it == all_.end()) return;
  const bool stream = it->second.kind == ConnectionKind::stream;
  all_.erase(it);
  // Decrement before notifying: a waiter woken by the callback must see the new count.
  if (stream && stream_count_.fetch_sub(1) == 1 && on_streams_gone_) on_streams_gone_();
}

void ConnectionRegistry::subscribe(const std::string& user_id, std::uint64_t id, std::weak_ptr<LiveStream> s) {
  if (by_user_[user_id].emplace(id, std::move(s)).second) {
    live_count_.fetch_add(1);
    live_count_changed();
  }
}

void ConnectionRegistry::unsubscribe(const std::string& user_id, std::uint64_t id) {
  const auto it = by_user_.find(user_id);
  if (it == by_user_.end()) return;
  if (it->second.erase(id) > 0) {
    live_count_.fetch_sub(1);
    live_count_changed();
  }
  if (it->second.empty()) by_user_.erase(it);
}

void ConnectionRegistry::live_count_changed() {
  { std::lock_guard lock(live_mutex_); }  // a waiter between its check and its wait sees the change
  live_changed_.notify_all();
}

bool ConnectionRegistry::wait_live_count(std::size_t n, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(live_mutex_);
  return live_changed_.wait_until(lock, deadline, [&] { return live_count_.load() == n; });
}

namespace {
// Copy first: a stream may unsubscribe (close) while it is handed something.
std::vector<std::shared_ptr<LiveStream>> streams_of(
    const std::unordered_map<std::string, std::map<std::uint64_t, std::weak_ptr<LiveStream>>>& by_user,
    const std::string& user_id) {
  std::vector<std::shared_ptr<LiveStream>> targets;
  const auto it = by_user.find(user_id);
  if (it == by_user.end()) return targets;
  for (const auto& [id, weak] : it->second) {
    if (auto s = weak.lock()) targets.push_back(std::move(s));
  }
  return targets;
}
}  // namespace

void ConnectionRegistry::fan_out(const StoredNotification& n) {
  for (const auto& s : streams_of(by_user_, n.user_id)) s->on_live(n);
}

void ConnectionRegistry::revoke(const std::string& user_id, std::int64_t revoked_at_ms) {
  for (const auto& s : streams_of(by_user_, user_id)) s->on_revoked(revoked_at_ms);
}

template <class F>
void ConnectionRegistry::for_each_connection(F f) {
  // Copy first: connections remove themselves while they are being closed.
  std::vector<std::shared_ptr<Connection>> targets;
  for (const auto& [id, entry] : all_) {
    if (auto c = entry.connection.lock()) targets.push_back(std::move(c));
  }
  for (const auto& c : targets) f(*c);
}

void ConnectionRegistry::drain_started(std::chrono::milliseconds reconnect_within) {
  for_each_connection([reconnect_within](Connection& c) { c.on_drain_started(reconnect_within); });
}

void ConnectionRegistry::drain_ended() {
  for_each_connection([](Connection& c) { c.on_drain_ended(); });
}

void ConnectionRegistry::shutdown_all() {
  shutting_down_ = true;
  for_each_connection([](Connection& c) { c.shutdown(); });
}

}  // namespace herald::server::detail
