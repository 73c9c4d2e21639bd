// Command line of herald-server.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "herald/server/server.hpp"

namespace herald::server::app {

struct CliConfig {
  ServerOptions server;
  std::string log_level = "info";
};

/// Exit code and message when the command line is not usable (or --help was asked).
struct CliExit {
  int code = 0;
  std::string message;  ///< for stdout (help) or stderr (errors); never a secret
};

/// Parses argv and reads the secret files. Never throws.
std::variant<CliConfig, CliExit> parse_command_line(int argc, char** argv);

}  // namespace herald::server::app
