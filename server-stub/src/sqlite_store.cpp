// NotificationStore on SQLite. One connection guarded by a mutex; statements are
// prepared once. Ids come from an AUTOINCREMENT key: strictly increasing, never reused
// (also across restarts and after pruning).
#include <sqlite3.h>

#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>

#include "json_util.hpp"
#include "store.hpp"

namespace herald::server::detail {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS notifications(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  topic TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS notifications_by_user ON notifications(user_id, id);
CREATE TABLE IF NOT EXISTS user_streams(
  user_id TEXT PRIMARY KEY,
  head_id INTEGER NOT NULL DEFAULT 0,
  pruned_through INTEGER NOT NULL DEFAULT 0,
  retained INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS token_revocations(
  user_id TEXT PRIMARY KEY,
  revoked_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS store_meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
)sql";

// "e-" and 128 random bits in hex: a database created anew never repeats an epoch.
std::string new_epoch() {
  std::random_device rd;
  std::string out = "e-";
  constexpr const char* kHex = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    const std::uint32_t v = rd();
    for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(v >> shift) & 0xF];
  }
  return out;
}

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

[[noreturn]] void fail(sqlite3* db, const char* what) {
  throw std::runtime_error(std::string("sqlite store: ") + what + ": " +
                           (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

// Resets a statement when the scope ends, whatever happened.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* s) : s_(s) {}
  ~StmtUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;
  sqlite3_stmt* get() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

std::int64_t to_i64(std::uint64_t v) {
  return v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
             ? std::numeric_limits<std::int64_t>::max()
             : static_cast<std::int64_t>(v);
}

std::uint64_t to_u64(sqlite3_int64 v) { return v < 0 ? 0 : static_cast<std::uint64_t>(v); }

std::string column_text(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  const int n = sqlite3_column_bytes(s, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
}

class SqliteStore final : public NotificationStore {
 public:
  SqliteStore(const std::string& path, std::uint64_t retention) : retention_(retention) {
    sqlite3* raw = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    db_.reset(raw);
    if (rc != SQLITE_OK) fail(raw, "cannot open database");
    sqlite3_busy_timeout(db_.get(), 5000);
    if (path != ":memory:") {
      // WAL + synchronous=NORMAL: a committed publish survives a killed process.
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
    }
    exec("PRAGMA foreign_keys=ON");
    exec(kSchema);
    epoch_ = load_or_create_epoch();
    insert_ = prepare("INSERT INTO notifications(user_id, created_at_ms, topic, data) VALUES(?1, ?2, ?3, ?4)");
    upsert_stream_ = prepare(
        "INSERT INTO user_streams(user_id, head_id, retained) VALUES(?1, ?2, 1) "
        "ON CONFLICT(user_id) DO UPDATE SET head_id = excluded.head_id, retained = retained + 1 "
        "RETURNING retained");
    cut_ = prepare("SELECT MAX(id) FROM (SELECT id FROM notifications WHERE user_id = ?1 ORDER BY id LIMIT ?2)");
    prune_ = prepare("DELETE FROM notifications WHERE user_id = ?1 AND id <= ?2");
    mark_pruned_ = prepare(
        "UPDATE user_streams SET pruned_through = MAX(pruned_through, ?2), retained = retained - ?3 "
        "WHERE user_id = ?1");
    read_after_ = prepare(
        "SELECT id, created_at_ms, topic, data FROM notifications WHERE user_id = ?1 AND id > ?2 "
        "ORDER BY id LIMIT ?3");
    state_ = prepare("SELECT head_id, pruned_through FROM user_streams WHERE user_id = ?1");
    revoke_ = prepare(
        "INSERT INTO token_revocations(user_id, revoked_at_ms) VALUES(?1, ?2) "
        "ON CONFLICT(user_id) DO UPDATE SET revoked_at_ms = MAX(revoked_at_ms, excluded.revoked_at_ms) "
        "RETURNING revoked_at_ms");
    revoked_at_ = prepare("SELECT revoked_at_ms FROM token_revocations WHERE user_id = ?1");
    latest_revoke_ = prepare("SELECT COALESCE(MAX(revoked_at_ms), 0) FROM token_revocations");
    begin_ = prepare("BEGIN IMMEDIATE");
    commit_ = prepare("COMMIT");
    rollback_ = prepare("ROLLBACK");
  }

  StoredNotification append(const std::string& user_id, const std::string& topic, const std::string& data_json,
                            std::int64_t created_at_ms) override {
    std::lock_guard lock(mutex_);
    step_done(begin_.get(), "begin");
    try {
      StoredNotification n{0, user_id, created_at_ms, topic, data_json};
      {
        StmtUse use(insert_.get());
        bind_text(use.get(), 1, user_id);
        sqlite3_bind_int64(use.get(), 2, created_at_ms);
        bind_text(use.get(), 3, topic);
        bind_text(use.get(), 4, data_json);
        step_done(use.get(), "insert");
        n.id = to_u64(sqlite3_last_insert_rowid(db_.get()));
      }
      if (n.id == 0 || n.id > kMaxId) throw std::runtime_error("sqlite store: id space exhausted");
      std::uint64_t retained = 0;
      {
        StmtUse use(upsert_stream_.get());
        bind_text(use.get(), 1, user_id);
        sqlite3_bind_int64(use.get(), 2, to_i64(n.id));
        if (sqlite3_step(use.get()) != SQLITE_ROW) fail(db_.get(), "update stream");
        retained = to_u64(sqlite3_column_int64(use.get(), 0));
      }
      if (retained > retention_) prune(user_id, retained - retention_);
      step_done(commit_.get(), "commit");
      return n;
    } catch (...) {
      sqlite3_step(rollback_.get());
      sqlite3_reset(rollback_.get());
      throw;
    }
  }

  std::vector<StoredNotification> read_after(const std::string& user_id, std::uint64_t after_id,
                                             std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<StoredNotification> out;
    StmtUse use(read_after_.get());
    bind_text(use.get(), 1, user_id);
    sqlite3_bind_int64(use.get(), 2, to_i64(after_id));
    sqlite3_bind_int64(use.get(), 3, to_i64(limit));
    int rc = 0;
    while ((rc = sqlite3_step(use.get())) == SQLITE_ROW) {
      StoredNotification n;
      n.id = to_u64(sqlite3_column_int64(use.get(), 0));
      n.user_id = user_id;
      n.created_at_ms = sqlite3_column_int64(use.get(), 1);
      n.topic = column_text(use.get(), 2);
      n.data_json = column_text(use.get(), 3);
      out.push_back(std::move(n));
    }
    if (rc != SQLITE_DONE) fail(db_.get(), "read");
    return out;
  }

  UserStreamState state(const std::string& user_id) override {
    std::lock_guard lock(mutex_);
    StmtUse use(state_.get());
    bind_text(use.get(), 1, user_id);
    UserStreamState s;
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) {
      s.head_id = to_u64(sqlite3_column_int64(use.get(), 0));
      s.pruned_through = to_u64(sqlite3_column_int64(use.get(), 1));
    } else if (rc != SQLITE_DONE) {
      fail(db_.get(), "read state");
    }
    return s;
  }

  std::string epoch() override { return epoch_; }

  std::int64_t revoke_tokens(const std::string& user_id, std::int64_t at_ms) override {
    std::lock_guard lock(mutex_);
    StmtUse use(revoke_.get());
    bind_text(use.get(), 1, user_id);
    sqlite3_bind_int64(use.get(), 2, at_ms);
    if (sqlite3_step(use.get()) != SQLITE_ROW) fail(db_.get(), "revoke");
    const std::int64_t effective = sqlite3_column_int64(use.get(), 0);
    // Step to the end so the implicit transaction commits now.
    if (sqlite3_step(use.get()) != SQLITE_DONE) fail(db_.get(), "revoke");
    return effective;
  }

  std::optional<std::int64_t> tokens_revoked_at(const std::string& user_id) override {
    std::lock_guard lock(mutex_);
    StmtUse use(revoked_at_.get());
    bind_text(use.get(), 1, user_id);
    const int rc = sqlite3_step(use.get());
    if (rc == SQLITE_ROW) return sqlite3_column_int64(use.get(), 0);
    if (rc != SQLITE_DONE) fail(db_.get(), "read revocation");
    return std::nullopt;
  }

  std::int64_t latest_revoke() override {
    std::lock_guard lock(mutex_);
    StmtUse use(latest_revoke_.get());
    if (sqlite3_step(use.get()) != SQLITE_ROW) fail(db_.get(), "read revocations");
    return sqlite3_column_int64(use.get(), 0);
  }

 private:
  void prune(const std::string& user_id, std::uint64_t excess) {
    std::uint64_t cut = 0;
    {
      StmtUse use(cut_.get());
      bind_text(use.get(), 1, user_id);
      sqlite3_bind_int64(use.get(), 2, to_i64(excess));
      if (sqlite3_step(use.get()) != SQLITE_ROW) fail(db_.get(), "find prune point");
      cut = to_u64(sqlite3_column_int64(use.get(), 0));
    }
    if (cut == 0) return;
    {
      StmtUse use(prune_.get());
      bind_text(use.get(), 1, user_id);
      sqlite3_bind_int64(use.get(), 2, to_i64(cut));
      step_done(use.get(), "prune");
    }
    const auto removed = sqlite3_changes64(db_.get());
    StmtUse use(mark_pruned_.get());
    bind_text(use.get(), 1, user_id);
    sqlite3_bind_int64(use.get(), 2, to_i64(cut));
    sqlite3_bind_int64(use.get(), 3, removed);
    step_done(use.get(), "mark pruned");
  }

  // The first open of a database creates its epoch; every later open reads it back.
  std::string load_or_create_epoch() {
    const Stmt insert = prepare("INSERT OR IGNORE INTO store_meta(key, value) VALUES('epoch', ?1)");
    {
      StmtUse use(insert.get());
      bind_text(use.get(), 1, new_epoch());
      if (sqlite3_step(use.get()) != SQLITE_DONE) fail(db_.get(), "create epoch");
    }
    const Stmt select = prepare("SELECT value FROM store_meta WHERE key = 'epoch'");
    StmtUse use(select.get());
    if (sqlite3_step(use.get()) != SQLITE_ROW) fail(db_.get(), "read epoch");
    return column_text(use.get(), 0);
  }

  void exec(const char* sql) {
    if (sqlite3_exec(db_.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db_.get(), "schema");
  }

  Stmt prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      fail(db_.get(), "prepare");
    }
    return Stmt(s);
  }

  void step_done(sqlite3_stmt* s, const char* what) {
    const int rc = sqlite3_step(s);
    if (s == begin_.get() || s == commit_.get()) sqlite3_reset(s);
    if (rc != SQLITE_DONE) fail(db_.get(), what);
  }

  static void bind_text(sqlite3_stmt* s, int index, const std::string& value) {
    sqlite3_bind_text(s, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }

  std::mutex mutex_;
  std::uint64_t retention_;
  Db db_;
  std::string epoch_;  // fixed once the store is open
  Stmt insert_, upsert_stream_, cut_, prune_, mark_pruned_, read_after_, state_, revoke_, revoked_at_, latest_revoke_,
      begin_, commit_, rollback_;
};

}  // namespace

std::unique_ptr<NotificationStore> open_sqlite_store(const std::string& path, std::uint64_t retention) {
  if (retention == 0) throw std::invalid_argument("retention must be at least 1");
  return std::make_unique<SqliteStore>(path, retention);
}

}  // namespace herald::server::detail
