#include "frontends/frontend_daemons.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace herald::test {
namespace {

std::string seconds(std::chrono::seconds s) { return std::to_string(s.count()) + "s"; }

// The template with every placeholder replaced by its value.
std::string fill(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [placeholder, value] : values) {
    for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + value.size())) {
      text.replace(at, placeholder.size(), value);
    }
  }
  return text;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

}  // namespace

std::optional<std::string> nginx_binary() { return find_binary({"/usr/sbin/nginx", "/usr/bin/nginx"}); }
std::optional<std::string> haproxy_binary() { return find_binary({"/usr/sbin/haproxy", "/usr/bin/haproxy"}); }

std::string nginx_config(const NginxOptions& o, const std::filesystem::path& dir, std::uint16_t port) {
  // master_process off: one nginx process, the one start_daemon started, which dies with
  // the test (PR_SET_PDEATHSIG). With a master and workers, a test killed before its
  // clean-up (SIGKILL, a ctest timeout) left the workers running: only the master had
  // the parent-death signal.
  return fill(R"(master_process off;
pid <dir>/nginx.pid;
error_log stderr info;
events { worker_connections 256; }
http {
  access_log <dir>/access.log;
  client_body_temp_path <dir>/client_body;
  proxy_temp_path <dir>/proxy;
  fastcgi_temp_path <dir>/fastcgi;
  uwsgi_temp_path <dir>/uwsgi;
  scgi_temp_path <dir>/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream herald { server 127.0.0.1:<upstream>; }
  server {
    listen 127.0.0.1:<port> ssl;
    ssl_certificate <cert>;
    ssl_certificate_key <key>;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://herald;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout <idle>;
      proxy_send_timeout <idle>;
      proxy_buffering off;
    }
  }
}
)",
              {{"<dir>", dir.string()},
               {"<upstream>", std::to_string(o.upstream_port)},
               {"<port>", std::to_string(port)},
               {"<cert>", o.cert_file.string()},
               {"<key>", o.key_file.string()},
               {"<idle>", seconds(o.idle_timeout)}});
}

std::unique_ptr<RunningDaemon> start_nginx(const std::string& binary, const NginxOptions& options) {
  return start_daemon("nginx", [&](const TempDir& dir, std::uint16_t port) {
    const auto conf = dir.path() / "nginx.conf";
    write_file(conf, nginx_config(options, dir.path(), port));
    // -e stderr: also the messages before the config is read stay out of /var/log.
    return std::vector<std::string>{binary,   "-p", dir.path().string(), "-c", conf.string(), "-e",
                                    "stderr", "-g", "daemon off;"};
  });
}

std::string haproxy_config(const HaproxyOptions& o, const std::filesystem::path& dir, std::uint16_t port) {
  std::string servers;
  for (const auto& b : o.backends) servers += "  server " + b.name + " 127.0.0.1:" + std::to_string(b.port) + "\n";
  return fill(R"(global
  log stderr format raw local0 info
  stats socket <dir>/admin.sock mode 600 level admin
defaults
  mode http
  log global
  option httplog
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout tunnel <tunnel>
  retries 3
  option redispatch 1
frontend herald_in
  bind 127.0.0.1:<port>
  default_backend herald
backend herald
  balance roundrobin
  option httpchk
  http-check send meth GET uri /healthz
  http-check expect status 200
  default-server check inter <inter>ms fall 1 rise 1
)",
              {{"<dir>", dir.string()},
               {"<tunnel>", seconds(o.tunnel_timeout)},
               {"<port>", std::to_string(port)},
               {"<inter>", std::to_string(o.check_interval.count())}}) +
         servers;
}

std::unique_ptr<RunningDaemon> start_haproxy(const std::string& binary, const HaproxyOptions& options) {
  return start_daemon("haproxy", [&](const TempDir& dir, std::uint16_t port) {
    const auto conf = dir.path() / "haproxy.cfg";
    write_file(conf, haproxy_config(options, dir.path(), port));
    return std::vector<std::string>{binary, "-db", "-f", conf.string()};
  });
}

std::string haproxy_command(const RunningDaemon& haproxy, const std::string& command) {
  const auto path = (haproxy.dir() / "admin.sock").string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket(AF_UNIX) failed");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot reach haproxy's runtime API at " + path);
  }
  const std::string line = command + "\n";
  std::size_t sent = 0;
  while (sent < line.size()) {
    const auto n = ::write(fd, line.data() + sent, line.size() - sent);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string answer;  // haproxy closes the connection after one command's answer
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

std::string haproxy_server_status(const RunningDaemon& haproxy, const std::string& name) {
  std::istringstream lines(haproxy_command(haproxy, "show stat"));
  std::string line;
  std::size_t status_column = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# ")) {
      const auto header = split(line.substr(2), ',');
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == "status") status_column = i;
      }
      continue;
    }
    const auto fields = split(line, ',');
    if (fields.size() > status_column && fields[0] == "herald" && fields[1] == name) return fields[status_column];
  }
  return "";
}

}  // namespace herald::test
