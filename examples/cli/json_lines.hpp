// The CLI's stdout: one JSON object per line, flushed as written. Notification lines
// have no `event` member; lifecycle lines (with --events) do.
#pragma once

#include <string>

#include "herald/client.hpp"

namespace herald::cli {

std::string notification_line(const Notification& n);
std::string state_line(const StateEvent& e);
std::string gap_line(const GapEvent& g);
std::string error_line(const std::error_code& code, const std::string& message);

/// Writes `line` and a newline to stdout and flushes; safe from any thread.
void emit(const std::string& line);

}  // namespace herald::cli
