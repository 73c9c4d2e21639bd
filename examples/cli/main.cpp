// herald-cli: a scriptable Herald client. Notifications (and, with --events, lifecycle
// events) go to stdout as JSON lines; logs go to stderr.
//
// Exit codes (also in --help): see kExitCodes.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "herald/client.hpp"
#include "herald/error.hpp"
#include "json_lines.hpp"
#include "token_command.hpp"

namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0  --max-notifications reached, or SIGINT/SIGTERM (the cursor is flushed)\n"
    "  1  any other permanent failure, among them --max-attempts or --max-elapsed-s spent\n"
    "     (an unreachable server, a failing token command, a wrong path)\n"
    "  2  usage error (a bad flag, a --cursor-file that cannot be written)\n"
    "  3  permanent auth failure (invalid token twice, revoked, forbidden)\n"
    "  4  permanent protocol error";

std::atomic<int> g_exit_code{0};

// Ends sigwait() in main: every thread blocks these signals, so they reach main only.
void request_exit(int code) {
  g_exit_code.store(code);
  ::kill(::getpid(), SIGUSR1);
}

int exit_code_for(const std::error_code& ec) {
  if (ec == herald::errc::auth_failed) return 3;
  if (ec == herald::errc::bad_request || ec == herald::errc::protocol_violation) return 4;
  return 1;
}

herald::LogLevel parse_level(const std::string& s) {
  using L = herald::LogLevel;
  if (s == "trace") return L::trace;
  if (s == "debug") return L::debug;
  if (s == "warn") return L::warn;
  if (s == "error") return L::error;
  if (s == "off") return L::off;
  return L::info;
}

const char* level_name(herald::LogLevel l) {
  static const char* names[] = {"trace", "debug", "info", "warn", "error", "off"};
  return names[static_cast<int>(l)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"herald-cli: receive a user's Herald notification stream as JSON lines"};
  std::vector<std::string> urls;
  std::string token_command, cursor_file, log_level = "info", proxy_url;
  bool proxy_from_env = false;
  herald::TlsOptions tls;
  bool tls13_only = false;
  long backoff_initial_ms = 500, backoff_max_ms = 30000;
  std::uint64_t max_notifications = 0;
  bool events = false;
  bool permessage_deflate = false;
  std::uint32_t max_attempts = 0;
  std::int64_t max_elapsed_s = 0;
  app.add_option("--url", urls,
                 "stream URL, ws://host:port/v1/stream or wss://...; repeatable (tried in a random order)")
      ->required();
  app.add_option("--token-command", token_command, "shell command printing a token (run for every fetch)")->required();
  app.add_option("--cursor-file", cursor_file, "file keeping the last delivered id across runs");
  app.add_option("--ca-file", tls.ca_file, "also trust the CAs of this PEM file (wss://)")->check(CLI::ExistingFile);
  app.add_option("--ca-dir", tls.ca_dir, "also trust the CAs of this hashed directory (c_rehash)")
      ->check(CLI::ExistingDirectory);
  app.add_option("--pin", tls.pins,
                 "public-key pin sha256/<base64 of the SPKI's SHA-256>; repeatable (any one must match)");
  app.add_option("--client-cert", tls.client_cert_file, "PEM client certificate for mTLS")->check(CLI::ExistingFile);
  app.add_option("--client-key", tls.client_key_file, "PEM private key of --client-cert")->check(CLI::ExistingFile);
  app.add_flag("--tls13-only", tls13_only, "refuse TLS 1.2 (default: TLS 1.2 or 1.3)");
  auto* proxy_option = app.add_option("--proxy", proxy_url,
                                      "proxy URL: http://, https:// (CONNECT) or socks5://, socks5h://; "
                                      "credentials as user:password@ (never logged)");
  app.add_flag("--proxy-from-env", proxy_from_env, "use HTTPS_PROXY / http_proxy / ALL_PROXY / NO_PROXY as curl does")
      ->excludes(proxy_option);
  app.add_option("--backoff-initial-ms", backoff_initial_ms, "first reconnect backoff ceiling")
      ->check(CLI::Range(1L, 3'600'000L))
      ->capture_default_str();
  app.add_option("--backoff-max-ms", backoff_max_ms, "largest reconnect backoff")
      ->check(CLI::Range(1L, 86'400'000L))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "stderr log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  app.add_option("--max-notifications", max_notifications, "exit 0 after this many notifications (0: never)")
      ->capture_default_str();
  app.add_flag("--permessage-deflate", permessage_deflate,
               "offer permessage-deflate (RFC 7692); used only if the server accepts it. Off by default: memory "
               "per connection, and compressing secrets next to attacker-chosen data (docs/networks.md)");
  app.add_flag("--events", events, "also print lifecycle events (lines with an \"event\" member)");
  app.add_option("--max-attempts", max_attempts, "give up (exit 1) after this many failed attempts in a row; 0: never")
      ->capture_default_str();
  app.add_option("--max-elapsed-s", max_elapsed_s,
                 "give up (exit 1) after failing for this many seconds without a stable connection; 0: never")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{366} * 24 * 3600))
      ->capture_default_str();
  app.set_version_flag("--version", std::string("herald-cli ") + HERALD_VERSION);
  app.footer(kExitCodes);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (!cursor_file.empty()) {
    // Checked before anything runs: a cursor that cannot be written would only show up
    // as an error line per save while the client went on without one.
    const auto dir = std::filesystem::path(cursor_file).parent_path();
    if (::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0) {
      std::fprintf(stderr, "herald-cli: --cursor-file: cannot write in '%s': %s\n", dir.c_str(), std::strerror(errno));
      return 2;
    }
  }
  if (backoff_max_ms < backoff_initial_ms) {
    std::fprintf(stderr, "herald-cli: --backoff-max-ms must be >= --backoff-initial-ms\n");
    return 2;
  }

  // Block the exit signals in every thread (the client's threads inherit the mask).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  herald::ClientOptions options;
  options.urls = urls;
  if (proxy_from_env) {
    options.proxy = herald::ProxyOptions::from_environment();
  } else {
    options.proxy.url = proxy_url;
  }
  options.token_provider = herald::cli::token_command_provider(token_command);
  if (!cursor_file.empty()) options.cursor_store = std::make_shared<herald::FileCursorStore>(cursor_file);
  if (tls13_only) tls.min_version = herald::TlsMinVersion::tls1_3;
  options.tls = std::move(tls);
  options.permessage_deflate = permessage_deflate;
  options.backoff_initial = std::chrono::milliseconds{backoff_initial_ms};
  options.backoff_max = std::chrono::milliseconds{backoff_max_ms};
  options.max_attempts = max_attempts;
  options.max_elapsed = std::chrono::seconds{max_elapsed_s};
  options.log_level = parse_level(log_level);
  options.logger = [](herald::LogLevel level, std::string_view msg) {
    std::fprintf(stderr, "herald-cli [%s] %.*s\n", level_name(level), static_cast<int>(msg.size()), msg.data());
  };

  std::unique_ptr<herald::Client> client;
  try {
    client = std::make_unique<herald::Client>(std::move(options));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald-cli: %s\n", e.what());
    return 2;
  }

  std::uint64_t delivered = 0;  // touched on the client's thread only
  herald::Client* raw = client.get();
  client->on_notification([&delivered, max_notifications, raw](const herald::Notification& n) {
    herald::cli::emit(herald::cli::notification_line(n));
    if (max_notifications != 0 && ++delivered >= max_notifications) {
      raw->stop();  // from inside a callback: nothing more is delivered
      request_exit(0);
    }
  });
  client->on_state([events](const herald::StateEvent& e) {
    if (events) herald::cli::emit(herald::cli::state_line(e));
    if (e.state == herald::State::stopped && e.reason) {
      if (events) herald::cli::emit(herald::cli::error_line(e.reason, e.detail));
      std::fprintf(stderr, "herald-cli: stopped: %s (%s)\n", e.reason.message().c_str(), e.detail.c_str());
      request_exit(exit_code_for(e.reason));
    }
  });
  client->on_gap([events](const herald::GapEvent& g) {
    if (events) herald::cli::emit(herald::cli::gap_line(g));
  });
  client->start();

  int sig = 0;
  sigwait(&signals, &sig);
  client->stop();  // flushes the cursor
  client.reset();
  return sig == SIGUSR1 ? g_exit_code.load() : 0;
}
