// herald-server: runs the reference server until SIGTERM/SIGINT.
// Prints exactly one line to stdout, "listening on <address>:<port>"; logs go to stderr.
//
// SIGTERM/SIGINT drains (rolling deploys): streams get {"type":"drain"} with the
// --drain-window-ms window, new streams are refused (503), and the process exits 0 as
// soon as no stream is left or the window is over (the rest are closed with 1001).
// A second SIGTERM/SIGINT during the drain closes everything (1001) and exits at once.
// --drain-window-ms 0: close with 1001 and exit on the first signal.
// --no-reauth: streams are not offered in-band token refresh (welcome.features is
// ["drain"]; reauth messages are ignored), for testing clients' make-before-break refresh.
// --permessage-deflate: streams whose client offers permessage-deflate are compressed.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <thread>

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

    if (config.server.db_path == ":memory:") {
      spdlog::warn(
          "--db is :memory: (the default): notifications, ids and revocations are lost when the server "
          "stops; pass --db FILE to keep them");
    }
    herald::server::Server server(config.server);
    const std::uint16_t port = server.start();
    std::cout << "listening on " << config.server.listen_address << ':' << port << std::endl;

    const auto window = config.server.drain_window;
    std::thread waiter;  // waits for the drain to finish, then ends signals_io.run()
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (window.count() == 0) {
        spdlog::info("signal {} received, shutting down", signo);
        return;  // run() returns: stop() below closes every stream with 1001
      }
      spdlog::info("signal {} received, draining for {} ms (signal again to stop at once)", signo, window.count());
      server.drain(window);
      signals.async_wait([](const boost::system::error_code& again_ec, int again) {
        if (!again_ec) spdlog::info("signal {} received during the drain, shutting down now", again);
      });
      waiter = std::thread([&] {
        server.wait_drained();  // also returns once stop() ran
        boost::asio::post(signals_io, [&] { signals.cancel(); });
      });
    });
    signals_io.run();
    server.stop();
    if (waiter.joinable()) waiter.join();
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "herald-server: " << e.what() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "herald-server: " << e.what() << std::endl;
    return 1;
  }
}
