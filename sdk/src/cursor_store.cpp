#include "herald/cursor_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace herald {

MemoryCursorStore::MemoryCursorStore(std::optional<Cursor> initial) : value_(std::move(initial)) {}

std::optional<Cursor> MemoryCursorStore::load() {
  std::lock_guard lock(mutex_);
  return value_;
}

void MemoryCursorStore::save(const Cursor& cursor) {
  std::lock_guard lock(mutex_);
  value_ = cursor;
}

namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& p) {
  throw std::runtime_error(what + " " + p.string() + ": " + std::strerror(errno));
}

void write_all(int fd, const std::string& data, const std::filesystem::path& p) {
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", p);
    }
    done += static_cast<std::size_t>(n);
  }
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "<id>\n" (written before epochs existed) or "<id>\n<epoch>\n".
std::optional<Cursor> parse_cursor_file(std::string_view text) {
  text = trim_end(text);
  const auto newline = text.find('\n');
  const std::string_view id_text = trim_end(text.substr(0, newline));
  const std::string_view epoch = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  Cursor c;
  const auto* end = id_text.data() + id_text.size();
  auto [ptr, ec] = std::from_chars(id_text.data(), end, c.id);
  if (id_text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  if (newline != std::string_view::npos && !is_valid_epoch(epoch)) return std::nullopt;
  c.epoch.assign(epoch);
  return c;
}

}  // namespace

FileCursorStore::FileCursorStore(std::filesystem::path path, std::chrono::milliseconds min_interval)
    : path_(std::move(path)), min_interval_(min_interval) {}

FileCursorStore::~FileCursorStore() {
  try {
    flush();
  } catch (...) {  // a destructor must not throw; the client flushes on stop anyway
  }
}

std::optional<Cursor> FileCursorStore::load() {
  std::lock_guard lock(mutex_);
  if (pending_) return pending_;
  std::ifstream in(path_);
  if (!in) return written_;  // no file yet: a new device
  // A cursor file is two short lines; anything much longer is not one (and is not read whole).
  std::string text(256, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto cursor = in.eof() ? parse_cursor_file(text) : std::nullopt;
  if (!cursor) throw std::runtime_error("cursor file " + path_.string() + " does not hold a cursor");
  written_ = cursor;
  return cursor;
}

void FileCursorStore::save(const Cursor& cursor) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (min_interval_.count() <= 0 || !last_write_ || now - *last_write_ >= min_interval_) {
    write_now(cursor);
    last_write_ = now;
  } else {
    pending_ = cursor;
  }
}

void FileCursorStore::flush() {
  std::lock_guard lock(mutex_);
  if (!pending_) return;
  write_now(*pending_);
  last_write_ = std::chrono::steady_clock::now();
}

// Called with mutex_ held. Write a temporary file, fsync it, rename it over the old
// one, fsync the folder: a crash at any point leaves the old or the new cursor.
void FileCursorStore::write_now(const Cursor& cursor) {
  const auto tmp = std::filesystem::path(path_.string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("cannot create", tmp);
  try {
    std::string text = std::to_string(cursor.id) + "\n";
    if (!cursor.epoch.empty()) text += cursor.epoch + "\n";
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0) throw_errno("cannot fsync", tmp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) throw_errno("cannot rename onto", path_);
  auto dir = path_.parent_path();
  if (dir.empty()) dir = ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  written_ = cursor;
  pending_.reset();
}

}  // namespace herald
