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

namespace herald {

MemoryCursorStore::MemoryCursorStore(std::optional<std::uint64_t> initial) : value_(initial) {}

std::optional<std::uint64_t> MemoryCursorStore::load() {
  std::lock_guard lock(mutex_);
  return value_;
}

void MemoryCursorStore::save(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  value_ = id;
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

}  // namespace

FileCursorStore::FileCursorStore(std::filesystem::path path, std::chrono::milliseconds min_interval)
    : path_(std::move(path)), min_interval_(min_interval) {}

FileCursorStore::~FileCursorStore() {
  try {
    flush();
  } catch (...) {  // a destructor must not throw; the client flushes on stop anyway
  }
}

std::optional<std::uint64_t> FileCursorStore::load() {
  std::lock_guard lock(mutex_);
  if (pending_) return pending_;
  std::ifstream in(path_);
  if (!in) return written_;  // no file yet: a new device
  std::string text;
  std::getline(in, text, '\0');
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) {
    throw std::runtime_error("cursor file " + path_.string() + " does not hold a cursor");
  }
  written_ = value;
  return value;
}

void FileCursorStore::save(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (min_interval_.count() <= 0 || !last_write_ || now - *last_write_ >= min_interval_) {
    write_now(id);
    last_write_ = now;
  } else {
    pending_ = id;
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
void FileCursorStore::write_now(std::uint64_t id) {
  const auto tmp = std::filesystem::path(path_.string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("cannot create", tmp);
  try {
    write_all(fd, std::to_string(id) + "\n", tmp);
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
  written_ = id;
  pending_.reset();
}

}  // namespace herald
