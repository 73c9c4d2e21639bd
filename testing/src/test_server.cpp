#include "herald/testing/test_server.hpp"

#include <random>
#include <stdexcept>
#include <utility>

namespace herald::testkit {
namespace {

std::string random_hex(std::size_t bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device random;
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const auto b = random() & 0xffU;
    out += kDigits[b >> 4U];
    out += kDigits[b & 0xfU];
  }
  return out;
}

}  // namespace

TestServer::TestServer(server::ServerOptions options) : options_(std::move(options)) {
  options_.listen_address = "127.0.0.1";
  if (options_.jwt_secret.empty()) options_.jwt_secret = random_hex(32);
  if (options_.admin_key.empty()) options_.admin_key = random_hex(16);
  auto issuer_options = options_;
  issuer_options.db_path = ":memory:";  // it only signs: the store stays the server's alone
  issuer_ = std::make_shared<server::Server>(std::move(issuer_options));
  restart();
}

TestServer::~TestServer() = default;

server::Server& TestServer::server() {
  if (!server_) throw std::logic_error("TestServer: stopped");
  return *server_;
}

std::uint16_t TestServer::port() const { return options_.port; }

std::string TestServer::url() const { return "ws://127.0.0.1:" + std::to_string(options_.port) + "/v1/stream"; }

const std::string& TestServer::admin_key() const { return options_.admin_key; }

std::shared_ptr<TokenProvider> TestServer::token_provider(const std::string& user, std::chrono::seconds ttl) const {
  // Each fetch runs on a thread of its own (from_blocking) that may outlive this object:
  // it shares the issuer, never points into it.
  return TokenProvider::from_blocking([issuer = issuer_, user, ttl] {
    return Token{issuer->issue_token(user, ttl), std::nullopt};
  });
}

std::string TestServer::issue_token(const std::string& user, std::chrono::seconds ttl) const {
  return issuer_->issue_token(user, ttl);
}

std::uint64_t TestServer::publish(const std::string& user, const std::string& type, const std::string& data_json) {
  return server().publish(user, type, data_json);
}

void TestServer::restart() {
  stop();
  server_ = std::make_unique<server::Server>(options_);
  options_.port = server_->start();  // 0 at first: the port is read back and kept
}

void TestServer::stop() {
  if (server_) server_->stop();
  server_.reset();
}

}  // namespace herald::testkit
