#include "token_command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <stdexcept>

namespace herald::cli {

namespace {

constexpr std::size_t kMaxTokenBytes = 64 * 1024;

Token run(const std::string& command) {
  FILE* pipe = ::popen(command.c_str(), "r");  // popen runs /bin/sh -c command
  if (pipe == nullptr) throw std::runtime_error("token command: cannot start /bin/sh");
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) {
    if (out.size() + n > kMaxTokenBytes) {
      ::pclose(pipe);
      throw std::runtime_error("token command: output larger than 64 KiB");
    }
    out.append(buf, n);
  }
  const int status = ::pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("token command failed (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  const auto first = out.find_first_not_of(" \t\r\n");
  const auto last = out.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) throw std::runtime_error("token command printed nothing");
  return Token{out.substr(first, last - first + 1), std::nullopt};
}

}  // namespace

std::shared_ptr<TokenProvider> token_command_provider(std::string command) {
  return TokenProvider::from_blocking([command = std::move(command)] { return run(command); });
}

}  // namespace herald::cli
