#include "chaos/http_post.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace herald::test {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

std::optional<HttpResponse> http_post(std::uint16_t port, const std::string& target, const std::string& body,
                                      const std::string& bearer, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS || !wait_fd(fd.get(), POLLOUT, deadline)) return std::nullopt;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return std::nullopt;
  }
  std::string req =
      "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n";
  if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
  req += "\r\n" + body;
  std::size_t sent = 0;
  while (sent < req.size()) {
    const auto n = ::send(fd.get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_fd(fd.get(), POLLOUT, deadline)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  std::string in;
  char buf[4096];
  for (;;) {
    const auto n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<std::size_t>(n));
      if (in.size() > (1u << 20)) return std::nullopt;
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EINTR) {
      if (!wait_fd(fd.get(), POLLIN, deadline)) return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  // "HTTP/1.1 201 Created\r\n...\r\n\r\nbody" (the server answers with Content-Length).
  if (in.rfind("HTTP/1.1 ", 0) != 0 || in.size() < 12) return std::nullopt;
  const auto head_end = in.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::nullopt;
  HttpResponse r;
  r.status = std::atoi(in.c_str() + 9);
  r.body = in.substr(head_end + 4);
  return r;
}

std::optional<std::uint64_t> admin_publish(std::uint16_t port, const std::string& admin_key, const std::string& user,
                                           const std::string& topic, const std::string& data_json) {
  const auto r = http_post(port, "/v1/users/" + user + "/notifications",
                           R"({"topic":")" + topic + R"(","data":)" + data_json + "}", admin_key);
  if (!r || r->status != 201) return std::nullopt;
  // {"id":N}
  const auto p = r->body.find("\"id\"");
  if (p == std::string::npos) return std::nullopt;
  const auto colon = r->body.find(':', p);
  if (colon == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const auto id = std::strtoull(r->body.c_str() + colon + 1, &end, 10);
  if (end == r->body.c_str() + colon + 1) return std::nullopt;
  return static_cast<std::uint64_t>(id);
}

}  // namespace herald::test
