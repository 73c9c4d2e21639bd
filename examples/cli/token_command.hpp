// --token-command: a shell command whose trimmed stdout is the token.
#pragma once

#include <memory>
#include <string>

#include "herald/token_provider.hpp"

namespace herald::cli {

/// Runs `command` through /bin/sh -c on every fetch. Fails (with the exit status, never
/// the output) when the command fails or prints nothing.
std::shared_ptr<TokenProvider> token_command_provider(std::string command);

}  // namespace herald::cli
