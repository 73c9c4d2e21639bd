#include "cli_options.hpp"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <fstream>
#include <sstream>

namespace herald::server::app {
namespace {

// Reads a secret file, trimming surrounding whitespace; nullopt when unreadable or
// empty. The message never includes the file's content.
std::optional<std::string> read_secret(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    error = path + " is empty";
    return std::nullopt;
  }
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// "host:port" or "[v6]:port".
bool split_listen(const std::string& listen, std::string& host, std::uint16_t& port) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = listen.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long value = std::stoul(p);
  if (value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

std::variant<CliConfig, CliExit> parse_command_line(int argc, char** argv) {
  CLI::App cli{"herald-server: reference server of the Herald notification stream (protocol v1)"};
  std::string listen = "127.0.0.1:8080";
  std::string db = ":memory:";
  std::string jwt_secret_file;
  std::string admin_key_file;
  std::uint32_t heartbeat_s = 25;
  std::uint64_t retention = 10000;
  std::int64_t token_ttl_s = 3600;
  std::string log_level = "info";
  std::int64_t drain_window_ms = 30000;
  bool no_reauth = false;
  bool permessage_deflate = false;
  std::string tls_cert, tls_key, tls_client_ca;
  cli.set_version_flag("--version", std::string("herald-server ") + HERALD_VERSION);
  cli.add_option("--listen", listen, "address:port to listen on (port 0: any free port)")->capture_default_str();
  cli.add_option("--db", db, "SQLite database file, or :memory:")->capture_default_str();
  cli.add_option("--jwt-secret-file", jwt_secret_file, "file holding the HS256 token key")->required();
  cli.add_option("--admin-key-file", admin_key_file, "file holding the admin API bearer key")->required();
  cli.add_option("--heartbeat-s", heartbeat_s, "WebSocket ping interval in seconds")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  cli.add_option("--retention", retention, "notifications kept per user")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40))
      ->capture_default_str();
  cli.add_option("--token-ttl", token_ttl_s, "default lifetime of dev tokens (POST /v1/tokens), seconds")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{366} * 24 * 3600))
      ->capture_default_str();
  cli.add_option("--drain-window-ms", drain_window_ms,
                 "on SIGTERM/SIGINT: announce drain and wait this long for streams to leave, then close "
                 "them (1001) and exit; 0: close at once. Also the default of POST /v1/admin/drain")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{600000}))
      ->capture_default_str();
  cli.add_flag("--no-reauth", no_reauth,
               "do not offer in-band token refresh: welcome.features lacks \"reauth\" and reauth messages are "
               "ignored (to test clients' make-before-break refresh)");
  cli.add_flag("--permessage-deflate", permessage_deflate,
               "accept permessage-deflate (RFC 7692) from clients that offer it; off by default (memory per "
               "stream, and compressing secrets next to attacker-chosen data, see docs/networks.md)");
  cli.add_option("--tls-cert", tls_cert, "PEM certificate chain: serve TLS 1.2+ only (wss://, https://)")
      ->check(CLI::ExistingFile);
  cli.add_option("--tls-key", tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
  cli.add_option("--tls-client-ca", tls_client_ca, "PEM CAs: require a client certificate signed by one (mTLS)")
      ->check(CLI::ExistingFile);
  cli.add_option("--log-level", log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return CliExit{0, cli.help()};
  } catch (const CLI::CallForAllHelp&) {
    return CliExit{0, cli.help()};
  } catch (const CLI::CallForVersion&) {
    return CliExit{0, cli.version()};
  } catch (const CLI::ParseError& e) {
    return CliExit{2, std::string(e.what()) + "\nRun with --help for usage."};
  }

  CliConfig config;
  config.log_level = log_level;
  ServerOptions& o = config.server;
  if (!split_listen(listen, o.listen_address, o.port)) {
    return CliExit{2, "--listen: expected ADDRESS:PORT, e.g. 127.0.0.1:0"};
  }
  std::string error;
  auto secret = read_secret(jwt_secret_file, error);
  if (!secret) return CliExit{2, "--jwt-secret-file: " + error};
  auto admin = read_secret(admin_key_file, error);
  if (!admin) return CliExit{2, "--admin-key-file: " + error};
  o.jwt_secret = std::move(*secret);
  o.admin_key = std::move(*admin);
  o.db_path = db;
  o.heartbeat = std::chrono::seconds(heartbeat_s);
  o.retention = retention;
  o.default_token_ttl = std::chrono::seconds(token_ttl_s);
  o.drain_window = std::chrono::milliseconds(drain_window_ms);
  o.reauth = !no_reauth;
  o.permessage_deflate = permessage_deflate;
  o.tls_cert_file = tls_cert;
  o.tls_key_file = tls_key;
  o.tls_client_ca_file = tls_client_ca;
  return config;
}

}  // namespace herald::server::app
