// herald-server: runs the reference server until SIGTERM/SIGINT.
// Prints exactly one line to stdout, "listening on <address>:<port>"; logs go to stderr.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

#include "cli_options.hpp"
#include "herald/server/server.hpp"

int main(int argc, char** argv) {
  auto parsed = herald::server::app::parse_command_line(argc, argv);
  if (auto* exit = std::get_if<herald::server::app::CliExit>(&parsed)) {
    (exit->code == 0 ? std::cout : std::cerr) << exit->message << std::endl;
    return exit->code;
  }
  auto& config = std::get<herald::server::app::CliConfig>(parsed);

  auto logger = spdlog::stderr_color_mt("herald-server");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(config.log_level));

  try {
    // Signals first, so a SIGTERM right after the "listening" line is handled.
    boost::asio::io_context signals_io;
    boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
    std::signal(SIGPIPE, SIG_IGN);

    herald::server::Server server(config.server);
    const std::uint16_t port = server.start();
    std::cout << "listening on " << config.server.listen_address << ':' << port << std::endl;

    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (!ec) spdlog::info("signal {} received, shutting down", signo);
    });
    signals_io.run();
    server.stop();
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "herald-server: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "herald-server: " << e.what() << std::endl;
    return 1;
  }
}
